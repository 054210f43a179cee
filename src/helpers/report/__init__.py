"""Report: what chapter notebooks call (:func:`open_report`), and the text, tables, charts and
HTML pages made from a school-year's indicators."""

from helpers.report.api import Report, open_report

__all__ = ["Report", "open_report"]
