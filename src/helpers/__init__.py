"""nianbao helpers: the shared logic behind the report notebooks and the ``nianbao`` command.

Where things are defined (one job per module):

- data in: ``paths`` (folders, school ids), ``readers`` (CSV encodings, YAML with lines),
  ``dictionary`` (the data dictionary, specs/fields.yaml), ``schemas`` (pandera),
  ``facts`` (observations and the one value a report uses), ``narrative`` (Markdown prose),
  ``checks`` (part–whole rules), ``load`` (one validated school-year), ``errors``;
- figures: ``expr`` (formula language), ``indicators`` (the registry, specs/indicators.yaml),
  ``compare`` (year over year), ``standards`` (达标, specs/thresholds.yaml), ``fmt``
  (half-up rounding, Chinese number formats), ``audit`` (data audit);
- the report: ``outline`` (specs/report.yaml, numbering, chapter inputs), ``report`` (what
  notebooks call), ``textgen`` (Chinese text), ``tables``, ``figures``, ``charts``, ``fonts``,
  ``markup`` (escaped HTML pieces);
- output: ``processed`` (Parquet), ``build`` (papermill, parallel, incremental), ``render``
  (nbconvert template, pages), ``pdf``, ``manifest``, ``atomic`` (atomic writes), ``cli``.
"""

__version__ = "0.1.0"
