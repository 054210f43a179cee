"""What the report's blocks (text, tables, figures) need from the report they stand in.

:class:`helpers.report.api.Report` provides it; the blocks depend on this interface only, so
the report module can compose them without an import cycle.
"""

from __future__ import annotations

from typing import Protocol

from helpers.ingest.load import SchoolYear


class ReportContext(Protocol):
    """One school-year's report as its blocks see it."""

    sy: SchoolYear
    figures: str  # the disclosure policy (helpers.indicators.disclose)

    @property
    def year(self) -> int: ...

    @property
    def numbers(self) -> dict[tuple[str, str], int]:
        """图N / 表N of each (kind, id) that the report shows."""
        ...

    def sy_of(self, year: int) -> SchoolYear:
        """Another year of the same school."""
        ...

    def years_upto(self, n: int) -> dict[int, SchoolYear]:
        """The last n years up to the report year that have data, oldest first."""
        ...

    def years_before(self) -> dict[int, SchoolYear]: ...
