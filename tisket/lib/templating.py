"""Text written by admins (macros, acknowledgements): {{ variables }} with a few filters.

There are no tags, no loops, no includes and no attributes: a dotted name looks
up a plain dict of values. Rendering is one pass over the text and its output
is bounded, so no text an admin writes can make a page or an intake slow or fail.
"""

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

from django.template.defaultfilters import capfirst, title

MAX_TEXT_CHARS = 20_000
MAX_OUTPUT_CHARS = 100_000

_NAME = r"[A-Za-z][A-Za-z0-9_]*"
_VARIABLE_RE = re.compile(rf"\s*({_NAME}(?:\.{_NAME})*)\s*")
_FILTER_RE = re.compile(rf"\|\s*({_NAME})\s*(?::\s*(\"[^\"]*\"|'[^']*')\s*)?")
_OPENING_RE = re.compile(r"\{[{%#]")

# name: (takes an argument, function of the value and the argument)
FILTERS: dict[str, tuple[bool, Callable[[str, str], str]]] = {
    "default": (True, lambda value, arg: value or arg),
    "upper": (False, lambda value, _: value.upper()),
    "lower": (False, lambda value, _: value.lower()),
    "title": (False, lambda value, _: title(value)),
    "capfirst": (False, lambda value, _: capfirst(value)),
}


class TemplateError(ValueError):
    """The text is more than variables and filters; the message names the offending piece."""


@dataclass(frozen=True)
class _Expression:
    variable: str
    filters: tuple[tuple[str, str], ...]


def _shown(piece: str) -> str:
    return f"“{piece}”" if len(piece) <= 60 else f"“{piece[:57]}…”"


def _parse(piece: str) -> _Expression:
    inner = piece[2:-2]
    match = _VARIABLE_RE.match(inner)
    if match is None:
        raise TemplateError(f"{_shown(piece)} is not a variable such as {{{{ client_name }}}}.")
    variable, filters, pos = match.group(1), [], match.end()
    if pos < len(inner) and inner[pos] != "|":
        raise TemplateError(f"{_shown(piece)} is not a variable such as {{{{ client_name }}}}.")
    while pos < len(inner):
        found = _FILTER_RE.match(inner, pos)
        if found is None:
            raise TemplateError(
                f'{_shown(piece)}: write a filter as |upper, or as |default:"…" with its argument.'
            )
        name, arg = found.group(1), found.group(2)
        if name not in FILTERS:
            raise TemplateError(
                f"{_shown(piece)}: unknown filter “{name}”; use {', '.join(FILTERS)}."
            )
        if FILTERS[name][0] != (arg is not None):
            needs = 'an argument, such as default:"…"' if FILTERS[name][0] else "no argument"
            raise TemplateError(f"{_shown(piece)}: the filter “{name}” takes {needs}.")
        filters.append((name, arg[1:-1] if arg else ""))
        pos = found.end()
    return _Expression(variable=variable, filters=tuple(filters))


def _pieces(text: str):
    """(start, end, kind) of each {{ }}, {% %} and {# #} of the text, in order.

    str.find instead of a regex such as {{(.*?)}}: a text of many unclosed {{
    would make a regex try every one of them to the end, quadratic work.
    """
    pos = 0
    while (opening := _OPENING_RE.search(text, pos)) is not None:
        start, kind = opening.start(), opening.group()[1]
        closing = {"{": "}}", "%": "%}", "#": "#}"}[kind]
        end = text.find(closing, start + 2)
        end = len(text) if end == -1 else end + 2
        yield start, end, kind
        pos = end


def template_check(text: str, *, variables: Collection[str]) -> None:
    """Raise TemplateError unless every piece of the text is a known variable with known filters."""
    if len(text) > MAX_TEXT_CHARS:
        raise TemplateError(f"The text is longer than {MAX_TEXT_CHARS} characters.")
    for start, end, kind in _pieces(text):
        piece = text[start:end]
        if kind == "%":
            raise TemplateError(
                f"{_shown(piece)}: tags are not allowed, only variables such as "
                "{{ client_name }}."
            )
        if kind == "#":
            raise TemplateError(f"{_shown(piece)}: comments are not allowed.")
        if not piece.endswith("}}"):
            raise TemplateError(f"{_shown(piece)} is not closed with }}}}.")
        expression = _parse(piece)
        if expression.variable not in variables:
            raise TemplateError(
                f"{_shown(piece)}: unknown variable “{expression.variable}”; use "
                + ", ".join(f"{{{{ {v} }}}}" for v in variables)
                + "."
            )


def template_help(*, variables: Collection[str]) -> str:
    """What a text may use, for a form's help: its variables and the filters."""
    filters = ", ".join('|default:"…"' if name == "default" else f"|{name}" for name in FILTERS)
    return "Variables: " + ", ".join(f"{{{{ {v} }}}}" for v in variables) + f"; filters: {filters}."


def _lookup(values: dict, variable: str) -> str | None:
    value = values
    for part in variable.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return str(value) if isinstance(value, (str, int)) else None


def _rendered(piece: str, values: dict) -> str | None:
    try:
        expression = _parse(piece)
    except TemplateError:
        return None
    value = _lookup(values, expression.variable)
    if value is None:
        return None
    for name, arg in expression.filters:
        value = FILTERS[name][1](value, arg)
    return value


def template_render(text: str, *, values: dict) -> str:
    """The text with each {{ variable }} filled from plain values; any other piece left as written.

    It never raises: a text stored before it was checked renders as far as it can.
    """
    out, size, pos = [], 0, 0
    for start, end, kind in _pieces(text):
        piece = text[start:end]
        value = _rendered(piece, values) if kind == "{" and piece.endswith("}}") else None
        for part in (text[pos:start], piece if value is None else value):
            out.append(part)
            size += len(part)
        pos = end
        if size >= MAX_OUTPUT_CHARS:
            break
    else:
        out.append(text[pos:])
    return "".join(out)[:MAX_OUTPUT_CHARS].strip()
