"""Every real mail of the corpus goes through the whole pipeline without an exception."""

import json

import pytest

from tests.mail import CORPUS, deliver
from threads.models import InboundMail

EXPECTED = json.loads((CORPUS / "expected.json").read_text())
# Whole messages (the reply-parser folders and talon's .html files hold bodies only).
MESSAGES = [
    entry
    for entry in EXPECTED
    if (
        entry["file"].startswith(("cpython/", "django-helpdesk/", "talon/"))
        and entry["file"].endswith((".txt", ".eml"))
    )
    or entry["file"] == "django-anymail/sample_email.txt"
]


def test_the_corpus_has_the_messages_we_expect():
    assert len(MESSAGES) >= 60


@pytest.mark.parametrize("entry", MESSAGES, ids=[e["file"] for e in MESSAGES])
def test_each_corpus_mail_is_ingested_with_its_subject_sender_and_text(inbox, entry):
    raw = (CORPUS / entry["file"]).read_bytes()
    result = deliver(raw, recipient=inbox.address)
    mail = result.inbound
    assert mail.status != InboundMail.Status.FAILED, mail.error
    if "from" in entry:
        assert mail.from_email.lower() == entry["from"].lower()  # stored as the mail wrote it
    if "subject" in entry:
        expected = " ".join(entry["subject"].split())
        assert " ".join(mail.subject.split()) == expected
    if mail.status == InboundMail.Status.ACCEPTED:
        message = result.message
        assert message.thread.inbox == inbox
        if "visible_text_startswith" in entry:
            assert message.visible_text.lstrip().startswith(entry["visible_text_startswith"])
    else:
        # Only a mail without a trustworthy sender is held back, with the reason.
        assert mail.status == InboundMail.Status.QUARANTINED
        assert "from" not in entry
        assert "sender" in mail.reason.lower()


def test_pgp_signature_is_kept_as_an_attachment(inbox):
    raw = (CORPUS / "django-helpdesk/pgp.eml").read_bytes()
    message = deliver(raw, recipient=inbox.address).message
    assert "signature.asc" in set(message.attachments.values_list("filename", flat=True))


def test_a_forwarded_original_is_not_in_the_visible_text(inbox):
    raw = (CORPUS / "django-helpdesk/forwarded-message.eml").read_bytes()
    message = deliver(raw, recipient=inbox.address).message
    assert "Hello there!" not in message.visible_text
    assert "Hello there!" in message.text


def test_special_characters_survive(inbox):
    raw = (CORPUS / "django-helpdesk/all-special-chars.eml").read_bytes()
    message = deliver(raw, recipient=inbox.address).message
    assert message.visible_text.strip() == "íářčšáíéřášč"


def test_an_undecodable_mail_is_stored_with_replacement_characters(inbox):
    raw = (CORPUS / "django-helpdesk/utf-nondecodable.eml").read_bytes()
    result = deliver(raw, recipient=inbox.address)
    assert result.inbound.status == InboundMail.Status.ACCEPTED
    assert "prosazuje lepší" in result.message.html or "prosazuje lepší" in result.message.text
