"""What agents write, as HTML: Markdown with tables and bare links, and nothing hostile."""

import re

import pytest

from tisket.lib.markdown_text import markdown_html


def test_a_bare_address_becomes_a_link_without_the_sentence_punctuation():
    html = markdown_html("See https://status.example.com/a?x=1&y=2. Or www.example.org, ok")
    assert '<a href="https://status.example.com/a?x=1&amp;y=2"' in html
    assert ">https://status.example.com/a?x=1&amp;y=2</a>. Or" in html
    assert '<a href="https://www.example.org"' in html and "</a>, ok" in html


def test_balanced_brackets_stay_in_the_address_and_markdown_links_are_left_alone():
    html = markdown_html("(https://en.example.org/wiki/A_(b)) and [the docs](https://docs.example)")
    assert 'href="https://en.example.org/wiki/A_(b)"' in html and "</a>)" in html
    assert '<a href="https://docs.example"' in html and ">the docs</a>" in html
    assert html.count("<a ") == 2


def test_an_address_in_code_stays_code():
    assert markdown_html("`https://code.example`") == "<p><code>https://code.example</code></p>"


def test_a_markdown_table_renders_as_a_table():
    html = markdown_html("| Plan | Seats |\n|---|---:|\n| Pro | 12 |")
    assert "<table>" in html and "<th>Plan</th>" in html and "<td>Pro</td>" in html


@pytest.mark.parametrize(
    ("source", "absent"),
    [
        ("<script>alert(1)</script>", "<script"),
        ("<img src=x onerror=alert(1)>", "<img"),
        ("[click](javascript:alert(1))", "javascript:"),
        ("[click](JaVaScRiPt:alert(1))", "alert(1)</a>"),
        ('https://x.example/"onmouseover=alert(1)', 'onmouseover=alert(1)"'),
        ("| a |\n|---|\n| <iframe src=//evil> |", "<iframe"),
        ("![x](https://tracker.example/p.png)", 'src="https://tracker.example'),
        ("javascript:alert(1)//https://x.example", 'href="javascript'),
        ("<a href='https://x' onclick='steal()'>x</a>", "<a href='"),
    ],
)
def test_hostile_text_comes_out_inert(source, absent):
    html = markdown_html(source)
    assert absent not in html
    assert not re.search(r"<[a-z]+[^>]*\son\w+=", html)  # no tag with an event handler
