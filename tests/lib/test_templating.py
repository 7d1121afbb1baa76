import pytest

from tisket.lib.templating import (
    MAX_OUTPUT_CHARS,
    MAX_TEXT_CHARS,
    TemplateError,
    template_check,
    template_render,
)

VARIABLES = ("client_name", "agent_name", "thread.reference", "thread.subject")
VALUES = {
    "client_name": "jane o'neil",
    "agent_name": "",
    "thread": {"reference": "THD-ACME-007", "subject": "cannot log in"},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello {{ client_name }}", "Hello jane o'neil"),
        ("{{client_name}}", "jane o'neil"),
        ("{{ thread.reference }} / {{ thread.subject }}", "THD-ACME-007 / cannot log in"),
        ("{{ client_name|upper }}", "JANE O'NEIL"),
        ("{{ thread.reference|lower }}", "thd-acme-007"),
        ("{{ client_name|title }}", "Jane O'Neil"),
        ("{{ thread.subject|capfirst }}", "Cannot log in"),
        ('{{ agent_name|default:"The team" }}', "The team"),
        ("{{ agent_name|default:'The team'|upper }}", "THE TEAM"),
        ('{{ client_name|default:"nobody" }}', "jane o'neil"),
        ("{{ client_name | capfirst | default:'x' }}", "Jane o'neil"),
        ("  Thanks, {{ agent_name }}  ", "Thanks,"),
        ("no variables at all", "no variables at all"),
    ],
)
def test_each_allowed_variable_and_filter_renders_as_expected(text, expected):
    template_check(text, variables=VARIABLES)
    assert template_render(text, values=VALUES) == expected


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("{% for a in x %}{% for b in x %}{% endfor %}{% endfor %}", "“{% for a in x %}”"),
        ('Hi {% include "missing" %}', '“{% include "missing" %}”'),
        ("{% load static %}", "tags are not allowed"),
        ("{# a note #}", "“{# a note #}”: comments are not allowed"),
        ("{{7*7}}", "“{{7*7}}” is not a variable"),
        ("{{ }}", "“{{ }}” is not a variable"),
        ("{{ client_name", "“{{ client_name” is not closed"),
        ("{{ settings.SECRET_KEY }}", "unknown variable “settings.SECRET_KEY”"),
        ("{{ thread }}", "unknown variable “thread”"),
        ("{{ thread.reference.upper }}", "unknown variable “thread.reference.upper”"),
        ("{{ client_name.__class__ }}", "“{{ client_name.__class__ }}” is not a variable"),
        ("{{ _private }}", "is not a variable"),
        ("{{ client_name|safe }}", "unknown filter “safe”"),
        ("{{ client_name|truncatechars:2 }}", "unknown filter “truncatechars”"),
        ("{{ client_name|upper:2 }}", "write a filter as |upper"),
        ("{{ client_name||upper }}", "write a filter as |upper"),
        ("{{ client_name|default }}", "“default” takes an argument"),
        ('{{ client_name|upper:"x" }}', "“upper” takes no argument"),
        ("{{ client_name }} and {{ client_name|", "“{{ client_name|” is not closed"),
        ("{{ {{ client_name }}", "“{{ {{ client_name }}” is not a variable"),
    ],
)
def test_anything_but_variables_is_refused_naming_the_piece(text, named):
    with pytest.raises(TemplateError) as error:
        template_check(text, variables=VARIABLES)
    assert named in str(error.value)


def test_a_refused_piece_renders_as_written_and_the_rest_is_filled():
    text = '{% include "missing" %}{# x #}{{7*7}} {{ client_name|upper }} {{ secret }}'
    assert template_render(text, values=VALUES) == (
        '{% include "missing" %}{# x #}{{7*7}} JANE O\'NEIL {{ secret }}'
    )


def test_a_loop_renders_once_whatever_its_nesting():
    loops = "{% for a in client_name %}" * 3 + "[{{ client_name }}]" + "{% endfor %}" * 3
    rendered = template_render(loops, values=VALUES)
    assert rendered.count("[jane o'neil]") == 1
    assert len(rendered) < len(loops) + len("jane o'neil")


def test_a_value_is_never_read_as_a_template():
    values = {
        "client_name": "{{ thread.reference }} <b>{% include 'x' %}</b>",
        "thread": {"reference": "THD-ACME-007"},
    }
    rendered = template_render("Hi {{ client_name }}, {{ thread.reference }}", values=values)
    assert rendered == "Hi {{ thread.reference }} <b>{% include 'x' %}</b>, THD-ACME-007"


def test_only_plain_values_render_and_a_dict_is_not_one():
    values = {"thread": {"reference": "THD-1"}, "count": 3, "items": ["a"], "none": None}
    text = "{{ thread }} {{ count }} {{ items }} {{ none }} {{ thread.reference.x }}"
    assert template_render(text, values=values) == (
        "{{ thread }} 3 {{ items }} {{ none }} {{ thread.reference.x }}"
    )


def test_the_output_is_bounded_however_long_the_values():
    text = "{{ client_name }}" * 1000
    rendered = template_render(text, values={"client_name": "x" * 1000})
    assert len(rendered) == MAX_OUTPUT_CHARS


def test_a_text_longer_than_the_limit_is_refused():
    with pytest.raises(TemplateError, match="longer than"):
        template_check("x" * (MAX_TEXT_CHARS + 1), variables=VARIABLES)


def test_unclosed_openings_are_left_as_text():
    text = "{{ a {% b {# c " * 1000
    assert template_render(text, values=VALUES) == text.strip()
