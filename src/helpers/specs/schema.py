"""JSON Schemas of the YAML specs, generated from :mod:`helpers.specs.models` into
``schema/<spec>.json`` (``nianbao schema``). Each spec's first line points an editor at its
schema (``# yaml-language-server: $schema=schema/<spec>.json``), so keys are completed and
checked while typing; the ids a spec may name (facts, indicators) are listed as enums."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from helpers.specs.cache import cached
from helpers.specs.dictionary import SPECS
from helpers.specs.models import MODELS

SCHEMA_DIR = SPECS / "schema"


def modeline(spec: str) -> str:
    """The first line of a spec file that names its schema."""
    return f"# yaml-language-server: $schema=schema/{Path(spec).stem}.json"


@cached
def _ids() -> tuple[list[str], list[str]]:
    """The fact and indicator ids (read once per spec edit, with libyaml when available)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    def keys(name: str, top: str) -> list[str]:
        return list(yaml.load((SPECS / name).read_text(encoding="utf-8"), Loader=loader)[top])

    return keys("fields.yaml", "facts"), keys("indicators.yaml", "indicators")


def _enum(node: dict[str, Any], values: list[str]) -> None:
    if "anyOf" in node:  # str | None
        for alt in node["anyOf"]:
            if alt.get("type") == "string":
                alt["enum"] = values
    else:
        node["enum"] = values


def schema(spec: str) -> dict[str, Any]:
    """The JSON Schema of one spec file (``"thresholds.yaml"``)."""
    out = MODELS[spec].model_json_schema()
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    facts, indicators = (list(x) for x in _ids())
    ids = sorted(set(facts) | set(indicators))
    defs = out.get("$defs", {})
    if "Standard" in defs:
        _enum(defs["Standard"]["properties"]["indicator"], ids)
    if "AppendixRow" in defs:
        _enum(defs["AppendixRow"]["properties"]["id"], ids)
        _enum(defs["AppendixTable"]["properties"]["rows"]["items"], ids)
    if "IndicatorModel" in defs:
        _enum(defs["IndicatorModel"]["properties"]["stated_by"], sorted(facts))
    if spec == "indicators.yaml":
        out["properties"]["share_groups"]["additionalProperties"]["items"]["enum"] = sorted(
            indicators
        )
    return out


def render(spec: str) -> str:
    return json.dumps(schema(spec), ensure_ascii=False, indent=2) + "\n"


def rendered() -> dict[Path, str]:
    """Every schema file's path and its up-to-date text."""
    return {SCHEMA_DIR / f"{Path(s).stem}.json": render(s) for s in MODELS}
