"""What the pipeline makes of what real mailers get wrong: reused IDs, late parents, bad parts."""

from tests.mail import deliver, make_mail
from threads.models import Attachment, InboundMail, Message

ACCEPTED = InboundMail.Status.ACCEPTED
DUPLICATE = InboundMail.Status.DUPLICATE


def test_a_message_id_reused_with_other_content_is_a_new_message(inbox):
    first = deliver(make_mail(message_id="<same@client.test>", body="First question."))
    other = make_mail(
        sender="Bob <bob@other.test>", message_id="<same@client.test>", body="Another mail."
    )
    second = deliver(other)
    assert second.inbound.status == ACCEPTED, second.inbound.reason
    assert "other content" in second.inbound.reason
    assert second.message != first.message
    assert Message.objects.count() == 2


def test_a_message_id_reused_with_the_same_content_is_a_duplicate_and_says_so(inbox):
    raw = make_mail(message_id="<same@client.test>", body="First question.")
    deliver(raw)
    again = deliver(b"Received: from relay2.example by mx\r\n" + raw)
    assert again.inbound.status == DUPLICATE
    assert "same Message-ID and content" in again.inbound.reason
    assert Message.objects.count() == 1


def test_a_reused_message_id_arriving_twice_is_stored_once(inbox):
    deliver(make_mail(message_id="<same@client.test>", body="First."))
    other = make_mail(sender="bob@other.test", message_id="<same@client.test>", body="Other.")
    deliver(other)
    again = deliver(b"Received: from relay2.example by mx\r\n" + other)
    assert again.inbound.status == DUPLICATE
    assert Message.objects.count() == 2


def test_a_mail_without_message_id_says_it_was_found_by_content(inbox):
    raw = make_mail(message_id="")
    deliver(raw)
    again = deliver(b"Received: from elsewhere\r\n" + raw)
    assert again.inbound.status == DUPLICATE
    assert "same content" in again.inbound.reason


def test_a_reply_that_arrived_before_its_parent_is_joined_by_the_parent(inbox):
    reply = deliver(
        make_mail(
            sender="Bob <bob@client.test>",
            to=f"{inbox.address}, Jane <jane@client.test>",
            subject="Re: Printer",
            message_id="<reply@client.test>",
            in_reply_to="<parent@client.test>",
            references="<parent@client.test>",
        )
    )
    assert reply.thread_created
    parent = deliver(
        make_mail(subject="Printer", message_id="<parent@client.test>", cc="bob@client.test")
    )
    assert parent.inbound.status == ACCEPTED, parent.inbound.reason
    assert parent.thread == reply.thread
    reply.thread.refresh_from_db()
    assert reply.thread.message_count == 2


def test_a_late_parent_from_a_stranger_opens_its_own_thread(inbox):
    reply = deliver(
        make_mail(
            sender="Bob <bob@client.test>",
            message_id="<reply@client.test>",
            in_reply_to="<parent@client.test>",
        )
    )
    parent = deliver(make_mail(sender="eve@evil.test", message_id="<parent@client.test>"))
    assert parent.inbound.status == ACCEPTED
    assert parent.thread != reply.thread


def test_a_mail_without_from_takes_its_sender_from_reply_to_and_says_so(inbox):
    raw = make_mail(headers={"Reply-To": "Jane <jane@client.test>"})
    raw = b"\n".join(line for line in raw.split(b"\n") if not line.startswith(b"From:"))
    result = deliver(raw)
    assert result.inbound.status == ACCEPTED, result.inbound.reason
    assert result.message.from_email == "jane@client.test"
    assert "Reply-To" in result.message.sender_note


def test_a_part_that_breaks_our_html_code_degrades_to_text_and_the_mail_is_stored(
    inbox, monkeypatch
):
    from threads.ingest import prepare

    def broken(html: str) -> str:
        raise AssertionError("expected name token")

    monkeypatch.setattr(prepare, "sanitize_html", broken)
    result = deliver(make_mail(body="Plain words.", html="<p>Rich <b>words</b></p>"))
    assert result.inbound.status == ACCEPTED, result.inbound.reason
    assert result.message.visible_text == "Plain words."
    assert result.message.html == ""
    kept = Attachment.objects.get(message=result.message)
    assert kept.filename == "original.html"
