"""Addresses keep the case their mail wrote them in, and compare case-insensitively."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from inboxes.services import inbox_update
from tests.mail import deliver, make_mail
from threads.models import ClientSession, InboundMail, Message, Participant
from threads.portal import portal_access, portal_threads
from threads.services import message_id_key, participants_add

ACCEPTED = InboundMail.Status.ACCEPTED


def test_a_mail_keeps_its_addresses_as_written_and_its_thread_the_key(inbox):
    result = deliver(make_mail(sender="Jane <Jane.Doe@Client.TEST>", cc="Bob <Bob@Client.test>"))
    message = result.message
    assert message.from_email == "Jane.Doe@Client.TEST"
    assert message.cc == [{"name": "Bob", "email": "Bob@Client.test"}]
    assert result.thread.client_email == "jane.doe@client.test"
    assert set(result.thread.participants.values_list("email", flat=True)) == {
        "Jane.Doe@Client.TEST",
        "Bob@Client.test",
    }


def test_a_reply_in_another_case_is_the_same_participant(inbox):
    first = deliver(make_mail(sender="Jane <Jane.Doe@Client.test>", message_id="<a@client.test>"))
    reply = deliver(
        make_mail(
            sender="jane <JANE.DOE@client.test>",
            cc="bob@client.test, BOB@CLIENT.TEST",
            in_reply_to="<a@client.test>",
            subject="Re: Cannot log in",
        )
    )
    assert reply.inbound.status == ACCEPTED, reply.inbound.reason
    assert reply.thread == first.thread
    assert reply.message.from_email == "JANE.DOE@client.test"
    emails = list(first.thread.participants.values_list("email", flat=True))
    assert emails == ["Jane.Doe@Client.test", "bob@client.test"]


def test_a_stranger_is_a_stranger_in_any_case(inbox):
    deliver(make_mail(message_id="<a@client.test>"))
    stranger = deliver(
        make_mail(sender="Eve@Evil.test", in_reply_to="<a@client.test>", subject="Re: x")
    )
    assert stranger.inbound.status == InboundMail.Status.QUARANTINED


def test_one_address_is_one_participant_whatever_its_case(inbox):
    thread = deliver(make_mail(sender="jane@client.test")).thread
    participants_add(thread=thread, people=[("J", "JANE@client.test"), ("B", "Bob@x.test")])
    participants_add(thread=thread, people=[("", "bob@X.TEST")])
    assert list(thread.participants.values_list("email", flat=True)) == [
        "jane@client.test",
        "Bob@x.test",
    ]
    with pytest.raises(IntegrityError), transaction.atomic():
        Participant.objects.create(thread=thread, email="Jane@Client.Test")


def test_the_portal_finds_a_participant_written_in_capitals(inbox):
    thread = deliver(make_mail(sender="Jane <Jane.Doe@Client.test>")).thread
    session = ClientSession.objects.create(
        organization=thread.organization,
        email="jane.doe@client.test",
        key_hash="k" * 64,
        expires_at=timezone.now() + timedelta(hours=1),
    )
    assert list(portal_threads(session=session)) == [thread]
    access = portal_access(session=session, reference=thread.reference)
    assert access is not None and access.name == "Jane"


def run_backfill(*args) -> str:
    out = io.StringIO()
    call_command("mail_backfill_keys", *args, stdout=out)
    return out.getvalue()


def as_stored_before_keys(message: Message) -> None:
    """The message as the store wrote it before the keys existed: lower-case, no keys."""
    Message.objects.filter(pk=message.pk).update(
        content_key="",
        parent_key="",
        from_email=message.from_email.lower(),
        to=[p | {"email": p["email"].lower()} for p in message.to],
    )


def test_backfill_gives_old_messages_their_keys_and_case_once(inbox):
    first = deliver(make_mail(sender="Jane <Jane@Client.test>", message_id="<a@client.test>"))
    reply = deliver(
        make_mail(
            sender="Jane <Jane@Client.test>",
            to="Support <Support.Acme@in.tisket.test>",
            in_reply_to="<a@client.test>",
            subject="Re: Cannot log in",
        )
    )
    expected = {
        m.pk: (m.content_key, m.parent_key, m.from_email, m.to)
        for m in Message.objects.filter(pk__in=[first.message.pk, reply.message.pk])
    }
    assert expected[reply.message.pk][1] == message_id_key("a@client.test")
    for message in Message.objects.all():
        as_stored_before_keys(message)
    out = run_backfill("--batch-size", "1")
    assert "2 message(s) keyed, 0 without their raw mail" in out
    assert "2 with their addresses' case back" in out
    for message in Message.objects.all():
        assert (message.content_key, message.parent_key, message.from_email, message.to) == (
            expected[message.pk]
        )
    assert "0 message(s) keyed" in run_backfill()


def test_backfill_of_a_mail_without_its_raw_bytes_sets_its_parent_key(inbox):
    deliver(make_mail(message_id="<a@client.test>"))
    reply = deliver(make_mail(in_reply_to="<a@client.test>", subject="Re: Cannot log in"))
    as_stored_before_keys(reply.message)
    InboundMail.objects.filter(message=reply.message).update(raw_data=None, raw_file="")
    out = run_backfill()
    assert "1 message(s) keyed, 1 without their raw mail" in out
    message = Message.objects.get(pk=reply.message.pk)
    assert message.parent_key == message_id_key("a@client.test")
    assert message.content_key == ""


def test_one_receipt_per_address_whatever_its_case(inbox, smtp, django_capture_on_commit_callbacks):
    inbox_update(inbox=inbox, auto_ack_enabled=True)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(make_mail(sender="Jane <Jane@Client.test>", subject="One"))
        deliver(make_mail(sender="Jane <JANE@client.TEST>", subject="Two"))
    assert [to for to, _ in smtp.received] == [["jane@client.test"]]
