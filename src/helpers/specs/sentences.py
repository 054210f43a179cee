"""The syntax of sentence templates: ``{{ id }}``, ``{{ id | filter }}``, ``{{ prev.id }}``.

Sentence templates (report.yaml ``text`` blocks, the year's Markdown prose) are Jinja2
templates. This module defines the one environment that parses them, so the ingest checks
(which placeholders a prose file uses), the chapter inputs and the report's renderer
(:func:`helpers.report.textgen.fill`, which adds the filters) agree on what a placeholder is.
"""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import Environment, StrictUndefined, nodes

from helpers.memo import kept_cache

# the filters a placeholder may name; helpers.report.textgen defines what each prints
FILTERS = ("wan", "num", "abs", "change", "history", "师生比")
# report metadata a template may state; not figures
META_NAMES = frozenset({"year", "prev_year", "school_year", "school_name"})


def environment(autoescape: bool = True) -> Environment:
    """A fresh environment for sentence templates: undefined names are errors, the text
    around placeholders is kept byte for byte. Filters are stubs until the renderer sets
    them (parsing needs only their names)."""
    env = Environment(
        autoescape=autoescape,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters.update({name: _unset for name in FILTERS})
    return env


def _unset(value: object) -> object:
    raise RuntimeError("sentence filters are set by helpers.report.textgen")


_PARSER = environment()


@dataclass(frozen=True)
class Placeholder:
    """One ``{{ … }}`` of a template: its name (``prev.enrollment``), filter, line (1-based)."""

    name: str
    filter: str | None
    line: int

    @property
    def source(self) -> str:
        """The placeholder as an author writes it: ``{{ name | filter }}``."""
        return "{{ " + self.name + (f" | {self.filter}" if self.filter else "") + " }}"


class TemplateError(ValueError):
    """A template the sentence syntax cannot parse, or a placeholder that is not a name."""

    def __init__(self, message: str, line: int, text: str = "") -> None:
        super().__init__(message)
        self.line = line
        self.text = text


def placeholders(text: str) -> list[Placeholder]:
    """Every placeholder of a template, in order. Raises :class:`TemplateError` for text
    Jinja cannot parse or an expression other than a (dotted) name with at most one filter."""
    return list(_placeholders(text))


@kept_cache(4096)
def _placeholders(text: str) -> tuple[Placeholder, ...]:
    """:func:`placeholders`, parsed once per text (the same prose and templates are read by
    validation, the checks and every chapter)."""
    from jinja2 import TemplateSyntaxError

    try:
        tree = _PARSER.parse(text)
    except TemplateSyntaxError as e:
        raise TemplateError(f"占位符语法错误：{e.message}", e.lineno or 1) from None
    out: list[Placeholder] = []
    for output in tree.find_all(nodes.Output):
        for node in output.nodes:
            if isinstance(node, nodes.TemplateData):
                continue
            out.append(_placeholder(node))
    for node in tree.body:
        if not isinstance(node, nodes.Output):
            raise TemplateError("模板中只能使用 {{ 编号 }} 占位符", node.lineno)
    return tuple(out)


def _placeholder(node: nodes.Node) -> Placeholder:
    flt = None
    if isinstance(node, nodes.Filter) and not node.args and not node.kwargs:
        flt, node = node.name, node.node
    name = _dotted(node)
    if name is None:
        raise TemplateError(
            "占位符只能是编号（可加 prev./y2021./table./figure. 与一个过滤器）", node.lineno
        )
    return Placeholder(name, flt, node.lineno)


def _dotted(node: nodes.Node | None) -> str | None:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        base = _dotted(node.node)
        return f"{base}.{node.attr}" if base and isinstance(node.node, nodes.Name) else None
    return None


def names(text: str) -> frozenset[str]:
    """The names a template's placeholders read (any filter)."""
    return frozenset(p.name for p in placeholders(text))
