"""Issue 2: the data dictionary documents every field, and the generated doc is current."""

from __future__ import annotations

from pathlib import Path

from helpers.indicators.evaluate import registry
from helpers.ingest.schemas import table_schema
from helpers.specs.dictionary import load_dictionary, render_markdown

DOC = Path(__file__).resolve().parents[1] / "docs" / "data-dictionary.md"


def test_generated_doc_is_up_to_date():
    assert DOC.read_text(encoding="utf-8") == render_markdown(), (
        "docs/data-dictionary.md is stale: run `nianbao dictionary`"
    )


def test_every_schema_field_is_documented():
    d = load_dictionary()
    doc = DOC.read_text(encoding="utf-8")
    for name, spec in d.facts.items():
        assert f"| `{name}` | {spec.label} |" in doc
        assert spec.label and spec.description and spec.ref, name
        if spec.numeric:
            assert spec.unit, name
    for table in d.tables.values():
        for column in table_schema(table).columns:
            assert f"| `{column}` |" in doc.split(f"## Table `{table.name}`")[1], (
                table.name,
                column,
            )


def test_formulas_use_only_documented_fields():
    d = load_dictionary()
    for spec in registry().indicators.values():
        for name in spec.inputs:
            base = name.removeprefix("prev.")
            assert base in d.facts or base in registry().indicators, (spec.id, name)
