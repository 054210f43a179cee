"""nianbao helpers: the shared logic behind the report notebooks.

Modules, one job each:
- ``paths``: where data and reports live; school-id checks.
- ``errors``: the problem records every validation error is reported as.
- ``dictionary``: the data dictionary (specs/fields.yaml).
- ``readers``: reading CSV (encodings) and YAML (with line numbers).
- ``schemas``: pandera schemas built from the dictionary.
- ``load``: loading and validating one school-year; ``facts``: resolving facts stated twice.
- ``processed``: writing the validated tables to data/processed.
"""

__version__ = "0.1.0"
