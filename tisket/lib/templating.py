"""Text written by admins (macros, acknowledgements) rendered with plain values only.

No model object reaches the template, so no attribute or method of ours can
be walked to; no tag library is loaded beyond Django's defaults.
"""

from django.template import Context, Engine, TemplateSyntaxError

ENGINE = Engine(builtins=[], libraries={}, autoescape=False)

__all__ = ["TemplateSyntaxError", "render_plain", "template_check"]


def template_check(text: str) -> None:
    """Raise TemplateSyntaxError when the text does not compile."""
    ENGINE.from_string(text)


def render_plain(text: str, values: dict) -> str:
    """The text with its {{ variables }} filled from plain values (str, int, dict, list)."""
    return ENGINE.from_string(text).render(Context(values, autoescape=False)).strip()
