"""Ingest: read a school-year's raw files, validate them against the data dictionary, and
normalise them into a :class:`~helpers.model.SchoolYear` (``load``), or into
``data/processed`` (``processed``)."""
