"""Synthetic schools (``nianbao demo-data``) for tests and benchmarks; see :mod:`.generate`."""

from helpers.demo.generate import DemoSchool, generate, parse_years, remove

__all__ = ["DemoSchool", "generate", "parse_years", "remove"]
