"""The build's validation step: load + audit each school-year (cached), write its processed
data, and stop the build on audit errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers.build import manifest as mf
from helpers.build.plan import AuditStop, BuildError, Event, _Plan


def _validate(
    plan: _Plan, data_dir: Path, on_event: Event, report_xlsx: bool = False
) -> dict[str, Any]:
    """Load + audit (cached by the raw files, code and packages, while the processed data
    written then is still fresh) and write the processed data; raises BuildError.
    ``report_xlsx``: also make the school-year's report.xlsx from the data just loaded (kept
    in ``plan.report_xlsx`` for the pages)."""
    from helpers.ingest.stamp import fresh_folder

    cached = mf.read_json(plan.cache / "validation.json")
    if (
        cached
        and cached.get("key") == plan.validation_key
        and fresh_folder(plan.school_id, plan.year, data_dir) is not None
    ):
        return cached
    on_event("phase", {"text": f"校验数据 {plan.school_id} {plan.year}"})
    from helpers.errors import DataValidationError
    from helpers.indicators.audit import report_findings
    from helpers.ingest.load import load_school_year

    try:
        sy = load_school_year(plan.school_id, plan.year, data_dir)
    except DataValidationError as e:
        raise BuildError(str(e)) from None
    findings = [
        {"severity": f.severity, "rule": f.rule, "message": f.message} for f in report_findings(sy)
    ]
    warnings = [str(p) for p in sy.warnings] + [
        str(p) for p in (sy.previous.warnings if sy.previous else [])
    ]
    _write_processed(sy, data_dir)
    if report_xlsx:
        from helpers.exchange.report_xlsx import report_xlsx_bytes

        plan.report_xlsx = report_xlsx_bytes(sy)  # written with the pages (helpers.build.pages)
    record = {
        "key": plan.validation_key,
        "school_name": sy.school_name,
        "findings": findings,
        "load_warnings": warnings,
        "validated_at": mf.now_iso(),
    }
    mf.write_json(plan.cache / "validation.json", record)
    plan.validated = True
    return record


def _write_processed(sy: Any, data_dir: Path) -> None:
    """Write the processed data the chapter kernels load (helpers.ingest.processed.load_fresh)
    beside the raw folder; a folder that cannot be written stops the build."""
    from helpers import paths
    from helpers.indicators.processed import write

    target = paths.processed_for(data_dir)
    try:
        write(sy)
    except OSError as e:
        raise BuildError(
            f"无法写出处理后的数据 {target / sy.school_id / str(sy.year)}："
            f"{e.strerror or e}（{e.filename or target}）。请检查该目录的写入权限。"
        ) from None


def _audit_gate(plans: list[_Plan], allow_audit_errors: bool) -> None:
    lines = []
    for plan in plans:
        for f in (plan.validation or {}).get("findings", []):
            if f["severity"] == "error":
                lines.append(f"  - {plan.school_id} {plan.year} [{f['rule']}] {f['message']}")
    if lines and not allow_audit_errors:
        raise AuditStop(
            f"数据审核发现 {len(lines)} 个错误，构建已停止（确认无误后可加 --allow-audit-errors 继续）：\n"
            + "\n".join(lines)
        )
