"""Reading the search box: words, phrases and operators, as a table."""

from datetime import date

import pytest

from tisket.lib.search_query import ParsedSearch, SearchSyntaxError, fold, search_parse

CASES = [
    ("", ParsedSearch()),
    ("printer", ParsedSearch(words=("printer",))),
    ("Crème BRÛLÉE", ParsedSearch(words=("creme", "brulee"))),
    ('"Refund  Request" late', ParsedSearch(words=("late",), phrases=("refund request",))),
    ('"unclosed phrase', ParsedSearch(phrases=("unclosed phrase",))),
    ("from:Ana@Example.com", ParsedSearch(senders=("ana@example.com",))),
    (
        "FROM:ana to:support@acme.test",
        ParsedSearch(senders=("ana",), recipients=("support@acme.test",)),
    ),
    ("status:open status:Waiting", ParsedSearch(statuses=("open", "waiting"))),
    ('status:"in progress"', ParsedSearch(statuses=("in_progress",))),
    ('tag:"Billing  Issue" tag:vip', ParsedSearch(tags=("billing issue", "vip"))),
    ("inbox:Support", ParsedSearch(inboxes=("Support",))),
    ("before:2026-03-01", ParsedSearch(before=date(2026, 3, 1))),
    (
        "after:2026-01-31 before:2026-03-01",
        ParsedSearch(after=date(2026, 1, 31), before=date(2026, 3, 1)),
    ),
    ("has:attachment", ParsedSearch(has_attachment=True)),
    ("has:Attachment invoice", ParsedSearch(words=("invoice",), has_attachment=True)),
    # An unknown "word:" is a word: times, "re:", URLs.
    ("meeting 10:30 re:order", ParsedSearch(words=("meeting", "10:30", "re:order"))),
    ("https://example.com/x", ParsedSearch(words=("https://example.com/x",))),
    ("THD-ACME-001", ParsedSearch(words=("thd-acme-001",))),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] or "empty" for c in CASES])
def test_search_text_is_read_into_words_phrases_and_operators(text, expected):
    assert search_parse(text) == expected


def test_the_free_text_is_kept_as_typed_for_references():
    parsed = search_parse("from:ana THD-ACME-001")
    assert parsed.raw_text == "THD-ACME-001"


BAD = [
    ("before:yesterday", "before:yesterday is not a date: write it as YYYY-MM-DD"),
    ("after:2026-13-01", "after:2026-13-01 is not a date"),
    ("after:2026-02-30", "after:2026-02-30 is not a date"),
    ("from:", "from: needs a value"),
    ('tag:""', "tag: needs a value"),
    ("has:pdf", "has:pdf is unknown: use has:attachment"),
    ("after:2026-03-01 before:2026-03-01", "nothing matches"),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[c[0] for c in BAD])
def test_a_value_an_operator_cannot_take_is_a_clear_error(text, message):
    with pytest.raises(SearchSyntaxError, match=message):
        search_parse(text)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Éléonore", "eleonore"),
        ("STRASSE  straße", "strasse strasse"),
        ("ﬁle", "file"),
        ("Ångström", "angstrom"),
    ],
)
def test_folding_drops_accents_and_case(text, folded):
    assert fold(text) == folded
