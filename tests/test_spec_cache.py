"""Issue 11: a spec edited while a kernel runs is picked up by the next ``open_report``."""

from __future__ import annotations

import os

from helpers.specs import cache


def test_refresh_clears_parsed_specs_only_when_a_spec_file_changed(tmp_path, monkeypatch):
    spec = tmp_path / "indicators.yaml"
    spec.write_text("a: 1\n", encoding="utf-8")
    monkeypatch.setattr(cache, "SPECS", tmp_path)
    monkeypatch.setattr(cache, "_seen", None)
    monkeypatch.setattr(cache, "_CACHED", [])
    calls = []

    @cache.cached
    def parsed() -> str:
        calls.append(1)
        return spec.read_text(encoding="utf-8")

    assert cache.refresh() is False  # first call: remembers the files
    assert parsed() == "a: 1\n" and parsed() == "a: 1\n" and len(calls) == 1
    assert cache.refresh() is False and parsed() == "a: 1\n" and len(calls) == 1
    spec.write_text("a: 2\n", encoding="utf-8")
    st = spec.stat()
    os.utime(spec, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert cache.refresh() is True
    assert parsed() == "a: 2\n" and len(calls) == 2


def test_open_report_refreshes_the_specs(monkeypatch, raw_copy):
    from helpers.report import api

    seen = []
    monkeypatch.setattr(api, "refresh_specs", lambda: seen.append(1))
    api.open_report("huichang", 2024, raw_copy)
    assert seen == [1]
