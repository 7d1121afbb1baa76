"""Fuzz: no mail makes parsing, quote stripping or sanitizing raise, or yield unstorable text."""

from hypothesis import given

from tests.mailfuzz import SEEDS, fuzz_settings, hostile_mails
from tisket.lib.html import html_to_text, sanitize_html
from tisket.lib.mail.auto import automated_reason
from tisket.lib.mail.parse import mail_visible_text, parse_mail


def storable(value: str) -> bool:
    """Text PostgreSQL and UTF-8 take: no NUL, no lone surrogate."""
    return "\x00" not in value and value.encode("utf-8", "strict") is not None


def test_the_fuzz_has_seeds_from_the_corpora():
    assert len(SEEDS) > 300


@fuzz_settings(examples=300)
@given(raw=hostile_mails())
def test_any_mail_parses_into_storable_fields_and_a_visible_text(raw):
    parsed = parse_mail(raw)
    for value in (parsed.subject, parsed.from_name, parsed.from_email, parsed.text, parsed.html):
        assert storable(value)
    for name, email in parsed.to + parsed.cc + parsed.reply_to:
        assert storable(name) and storable(email)
    for attachment in parsed.attachments:
        assert storable(attachment.filename) and attachment.filename
    visible = mail_visible_text(parsed)
    assert storable(visible)
    if parsed.text.strip() and not parsed.text_from_html:
        assert visible.strip()  # never an empty visible text for a mail with text
    sanitize_html(parsed.html)
    html_to_text(parsed.html)
    automated_reason(
        parsed.message, from_email=parsed.from_email, own_addresses=set(), own_domain="x.test"
    )
