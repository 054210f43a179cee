"""The ``nianbao`` command: build reports, validate data, and the chores around them.

    nianbao build                 # the bundled school's latest year → reports/<school>/<year>/
    nianbao validate              # load + audit, findings as a table
    nianbao list                  # schools and years with data
    nianbao process               # validated tables → data/processed
    nianbao dictionary [--check]  # docs/data-dictionary.md
    nianbao clean                 # remove reports/ and the build cache

Exit codes: 0 fine, 1 a chapter failed (or ``build --strict`` did not write a report because
a chapter is stale, or audit errors in ``validate``, or ``dictionary --check`` found the file
out of date), 2 bad arguments or invalid data, 130 interrupted.
"""

from __future__ import annotations

from helpers.cli import build, data, exchange  # noqa: F401  (each module registers its commands)
from helpers.cli.common import app, console, err_console

__all__ = ["app", "console", "err_console"]
