"""``python -m helpers.cli``."""

from helpers.cli import app

app()
