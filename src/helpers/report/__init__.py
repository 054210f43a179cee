"""Report: what chapter notebooks call (:func:`open_report`), and the text, tables, charts and
HTML pages made from a school-year's indicators.

``Report`` and ``open_report`` are loaded on first use (PEP 562): a build's workers import
``helpers.report.render`` to turn executed notebooks into pages, and must not pay for the
report API (pandas, pandera, matplotlib) that only the kernels use."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from helpers.report.api import Report, open_report

__all__ = ["Report", "open_report"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from helpers.report import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
