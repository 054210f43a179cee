"""Indicators: every derived figure by its one definition (``evaluate``), year-over-year
comparison (``compare``), national standards (``standards``), the data audit (``audit``) and
what the report discloses where it differs from the school's printed figures (``disclose``)."""
