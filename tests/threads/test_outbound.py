"""Replies and acknowledgements through a real SMTP server (aiosmtpd)."""

from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from inboxes.services import inbox_create, inbox_update
from tests.conftest import api_client
from tests.mail import deliver, make_mail
from tests.smtp import Mailbox, free_port
from threads import outbound
from threads.inbound import inbound_record
from threads.models import Message, OutboundMail, Suppression, Thread
from tickets import queues
from tickets import services as tickets
from tickets.intake import mail_process_many

S = OutboundMail.Status


@pytest.fixture
def quiet_inbox(inbox):
    return inbox  # the tests' inboxes do not acknowledge unless asked


@pytest.fixture
def acking_inbox(inbox):
    return inbox_update(inbox=inbox, auto_ack_enabled=True)


def reply(client, reference: str, body: str, capture, **extra):
    with capture(execute=True):
        return client.post(
            f"/api/v1/threads/{reference}/messages/", {"body": body, **extra}, format="json"
        )


def test_an_agents_reply_reaches_the_client_threaded(
    acme, quiet_inbox, smtp, django_capture_on_commit_callbacks
):
    first = deliver(make_mail(message_id="<q1@client.test>", cc="bob@client.test"))
    response = reply(
        api_client(acme.agent), "THD-ACME-001", "Try again now.", django_capture_on_commit_callbacks
    )
    assert response.status_code == 201, response.content
    assert response.json()["direction"] == "outbound"
    [(recipients, sent)] = smtp.received
    assert sorted(recipients) == ["bob@client.test", "jane@client.test"]
    assert sent["From"].addresses[0].addr_spec == "support.acme@in.tisket.test"
    assert str(sent["Subject"]) == "[THD-ACME-001] Re: Cannot log in"
    assert sent["In-Reply-To"] == "<q1@client.test>"
    assert "<q1@client.test>" in sent["References"]
    reply_to = sent["Reply-To"].addresses[0].addr_spec
    assert reply_to.startswith("support.acme+r")
    stored = Message.objects.get(direction="outbound")
    assert sent["Message-ID"] == f"<{stored.message_id}>"
    assert OutboundMail.objects.get().status == S.SENT
    # The client answers the Reply-To address, from a mail program that drops the subject.
    answer = deliver(make_mail(to=reply_to, subject="thanks", in_reply_to=sent["Message-ID"]))
    assert answer.thread == first.thread


def test_a_reply_records_the_tickets_first_response(
    acme, inbox, smtp, django_capture_on_commit_callbacks
):
    queue = queues.queue_create(organization=acme.org, name="S", actor=None, inboxes=[inbox])
    thread = deliver(make_mail()).thread
    ticket = thread.ticket_link.ticket
    assert ticket.queue == queue
    reply(api_client(acme.agent), thread.reference, "On it.", django_capture_on_commit_callbacks)
    ticket.refresh_from_db()
    assert ticket.first_responded_at is not None
    assert ticket.events.filter(kind="reply_sent").exists()


def test_internal_notes_never_leave_in_a_reply(
    acme, inbox, smtp, django_capture_on_commit_callbacks
):
    queues.queue_create(organization=acme.org, name="S", actor=None, inboxes=[inbox])
    thread = deliver(make_mail()).thread
    tickets.ticket_note_add(
        ticket=thread.ticket_link.ticket, body="NOTE-5e2a do not tell", actor=acme.agent
    )
    smtp.received.clear()
    reply(api_client(acme.agent), thread.reference, "Fixed.", django_capture_on_commit_callbacks)
    assert all("NOTE-5e2a" not in sent.as_string() for _, sent in smtp.received)


def test_a_new_conversation_is_acknowledged_once_per_sender_and_window(
    acme, acking_inbox, smtp, django_capture_on_commit_callbacks
):
    inbox_update(
        inbox=acking_inbox, auto_ack_text="Hi {{ client_name }}, we got {{ thread.reference }}."
    )
    with django_capture_on_commit_callbacks(execute=True):
        deliver(make_mail(subject="first"))
    with django_capture_on_commit_callbacks(execute=True):
        deliver(make_mail(subject="second"))  # same sender, new thread, within the window
    [(recipients, ack)] = smtp.received
    assert recipients == ["jane@client.test"]
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["X-Auto-Response-Suppress"] == "All"
    text = ack.get_body(preferencelist=("plain",)).get_content()
    lines = text.strip().splitlines()
    assert lines[0] == "Hi Jane Client, we got THD-ACME-001."
    assert lines[-1].startswith("View this conversation online: ")  # every mail to a client
    assert Thread.objects.get(number=1).message_count == 2
    with timezone.override("UTC"):
        OutboundMail.objects.update(created_at=timezone.now() - timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        deliver(make_mail(subject="third"))
    assert len(smtp.received) == 2


@pytest.mark.parametrize(
    "kwargs",
    [
        {"headers": {"Auto-Submitted": "auto-replied"}},
        {"headers": {"Precedence": "bulk"}},
        {"sender": "MAILER-DAEMON@client.test"},
        {"sender": "help.globex@in.tisket.test"},
        {"sender": "agent@acme.test"},
    ],
)
def test_nothing_acknowledges_automatic_mail_our_own_or_a_members(
    acme, acking_inbox, smtp, django_capture_on_commit_callbacks, kwargs
):
    with django_capture_on_commit_callbacks(execute=True):
        deliver(make_mail(**kwargs))
    assert smtp.received == []
    assert not OutboundMail.objects.exists()


def test_two_desks_and_an_autoresponder_cannot_loop(
    acme, globex, acking_inbox, smtp, django_capture_on_commit_callbacks
):
    inbox = acking_inbox
    help_desk = inbox_create(organization=globex.org, name="help", auto_ack_enabled=True)
    # An autoresponder that answers everything, without any RFC 3834 header.
    for round_ in range(10):
        with django_capture_on_commit_callbacks(execute=True):
            deliver(make_mail(sender="robot@client.test", subject=f"Your mail {round_}"))
        with django_capture_on_commit_callbacks(execute=True):
            deliver(make_mail(sender=inbox.address, to=help_desk.address, subject=f"ack {round_}"))
    acks = [r for r, _ in smtp.received]
    assert acks == [["robot@client.test"]]  # one per sender per window, none between desks


def test_smtp_down_then_up_delivers_once(acme, quiet_inbox, settings):
    deliver(make_mail())
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    _, row = outbound.reply_send_skipping_ticket(
        thread=Thread.objects.get(), author=acme.agent, body="Hello"
    )
    sent = outbound.outbox_send(outbound_id=row.pk)  # nothing listens: a temporary failure
    assert sent.status == S.PENDING
    assert sent.attempts == 1
    assert sent.next_attempt_at > timezone.now()
    assert "Connection" in sent.last_error or "refused" in sent.last_error.lower()
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=settings.EMAIL_PORT)
    controller.start()
    try:
        assert outbound.outbox_send(outbound_id=row.pk) is None  # not due yet
        OutboundMail.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        assert outbound.outbox_sweep() == [row.pk]  # eager in tests: queued means sent
        assert outbound.outbox_sweep() == []
    finally:
        controller.stop()
    row.refresh_from_db()
    assert (row.status, row.attempts) == (S.SENT, 2)
    assert len(mailbox.received) == 1


def test_a_permanent_refusal_fails_after_one_attempt(acme, quiet_inbox, smtp):
    deliver(make_mail())
    smtp.answer = "550 5.1.1 No such user"
    _, row = outbound.reply_send_skipping_ticket(
        thread=Thread.objects.get(), author=acme.agent, body="Hi"
    )
    sent = outbound.outbox_send(outbound_id=row.pk)
    assert (sent.status, sent.attempts) == (S.FAILED, 1)
    assert "550" in sent.last_error
    assert outbound.outbox_send(outbound_id=row.pk) is None


def test_a_row_claimed_before_a_crash_is_never_sent_again(acme, quiet_inbox, smtp):
    deliver(make_mail())
    _, row = outbound.reply_send_skipping_ticket(
        thread=Thread.objects.get(), author=acme.agent, body="Hi"
    )
    # The worker claimed the row and died after the transport took the mail.
    OutboundMail.objects.filter(pk=row.pk).update(
        status=S.SENDING, next_attempt_at=timezone.now() - timedelta(hours=2)
    )
    assert outbound.outbox_send(outbound_id=row.pk) is None
    outbound.outbox_sweep()
    row.refresh_from_db()
    assert row.status == S.FAILED
    assert "may or may not have left" in row.last_error
    assert smtp.received == []


def test_an_encoded_line_break_in_a_subject_adds_no_header(
    acme, quiet_inbox, smtp, django_capture_on_commit_callbacks
):
    raw = make_mail(subject="placeholder").replace(
        b"Subject: placeholder", b"Subject: =?utf-8?q?Hi=0D=0ABcc=3A_victim=40evil.test?="
    )
    deliver(raw)
    reply(api_client(acme.agent), "THD-ACME-001", "Hello", django_capture_on_commit_callbacks)
    [(recipients, sent)] = smtp.received
    assert recipients == ["jane@client.test"]
    assert sent["Bcc"] is None
    assert "victim@evil.test" not in recipients


@pytest.mark.parametrize(
    ("payload", "status"),
    [({"body": "  "}, 400), ({"body": "x", "cc": ["not an address"]}, 400), ({}, 400)],
)
def test_a_bad_reply_is_a_400_and_sends_nothing(acme, quiet_inbox, smtp, payload, status):
    deliver(make_mail())
    response = api_client(acme.agent).post(
        "/api/v1/threads/THD-ACME-001/messages/", payload, format="json"
    )
    assert response.status_code == status
    assert not OutboundMail.objects.exists()


def test_viewers_cannot_reply_and_other_organizations_get_404(acme, globex, quiet_inbox):
    deliver(make_mail())
    url = "/api/v1/threads/THD-ACME-001/messages/"
    assert api_client(acme.viewer).post(url, {"body": "x"}, format="json").status_code == 403
    assert api_client(globex.owner).post(url, {"body": "x"}, format="json").status_code == 404


def test_a_failed_reply_is_shown_on_its_thread(acme, quiet_inbox, smtp):
    deliver(make_mail())
    smtp.answer = "550 5.1.1 No such user"
    _, row = outbound.reply_send_skipping_ticket(
        thread=Thread.objects.get(), author=acme.agent, body="Hi"
    )
    outbound.outbox_send(outbound_id=row.pk)
    messages = api_client(acme.agent).get("/api/v1/threads/THD-ACME-001/messages/").json()
    inbound_message, reply_message = messages["results"]
    assert inbound_message["delivery"] is None
    assert reply_message["delivery"]["status"] == "failed"
    assert "550" in reply_message["delivery"]["last_error"]


def test_an_agent_starts_a_conversation_and_the_clients_answer_threads_back(
    acme, quiet_inbox, smtp, django_capture_on_commit_callbacks
):
    client = api_client(acme.agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/threads/",
            {
                "to": ["Ann@Customer.test"],
                "cc": ["boss@customer.test"],
                "subject": "Your renewal",
                "body": "Hello Ann, your plan renews next week.",
            },
            format="json",
        )
    assert response.status_code == 201, response.content
    thread = response.json()
    assert thread["reference"] == "THD-ACME-001"
    assert thread["inbox"] == "support"  # the organization's first inbox, preselected
    assert thread["message_count"] == 1
    [(recipients, sent)] = smtp.received
    assert sorted(recipients) == ["ann@customer.test", "boss@customer.test"]
    assert str(sent["Subject"]) == "[THD-ACME-001] Your renewal"
    answer = deliver(
        make_mail(
            sender="ann@customer.test",
            to=sent["Reply-To"].addresses[0].addr_spec,
            subject="Re: Your renewal",
            in_reply_to=sent["Message-ID"],
        )
    )
    assert answer.inbound.status == "accepted"
    assert answer.thread.reference == "THD-ACME-001"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"to": [], "subject": "s", "body": "b"}, "to"),
        ({"to": ["x"], "subject": "s", "body": "b"}, "to"),
        ({"to": ["a@b.test"], "subject": "", "body": "b"}, "subject"),
        ({"to": ["a@b.test"], "subject": "s", "body": "b", "inbox": 99999}, "inbox"),
        ({"to": ["support.acme@in.tisket.test"], "subject": "s", "body": "b"}, "detail"),
    ],
)
def test_a_bad_new_conversation_is_a_400_and_creates_nothing(acme, quiet_inbox, payload, field):
    response = api_client(acme.agent).post("/api/v1/threads/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Thread.objects.exists()


def many(count: int) -> list[str]:
    return [f"person{n}@customer.test" for n in range(count)]


def test_a_reply_copied_to_more_than_the_recipient_limit_is_a_400_and_sends_nothing(
    acme, quiet_inbox, smtp
):
    deliver(make_mail())  # jane, and 50 copies more: 51 recipients
    response = api_client(acme.agent).post(
        "/api/v1/threads/THD-ACME-001/messages/", {"body": "Hi", "cc": many(50)}, format="json"
    )
    assert response.status_code == 400
    assert "51 addresses, more than the 50" in response.json()["detail"]
    assert not OutboundMail.objects.exists()
    assert not Thread.objects.get().participants.filter(email__endswith="@customer.test").exists()


def test_a_reply_to_a_conversation_with_too_many_clients_is_refused(acme, quiet_inbox, settings):
    thread = deliver(make_mail(cc=", ".join(many(3)))).thread  # jane and three copies
    settings.TISKET_MAX_RECIPIENTS = 3
    response = api_client(acme.agent).post(
        f"/api/v1/threads/{thread.reference}/messages/", {"body": "Hi"}, format="json"
    )
    assert response.status_code == 400
    assert "4 client addresses, more than the 3" in response.json()["detail"]
    assert not OutboundMail.objects.exists()
    settings.TISKET_MAX_RECIPIENTS = 4
    response = api_client(acme.agent).post(
        f"/api/v1/threads/{thread.reference}/messages/", {"body": "Hi"}, format="json"
    )
    assert response.status_code == 201


def test_a_new_conversation_to_more_than_the_recipient_limit_is_a_400(acme, quiet_inbox):
    payload = {"to": many(30), "cc": many(60)[30:], "subject": "Offer", "body": "Hello"}
    response = api_client(acme.agent).post("/api/v1/threads/", payload, format="json")
    assert response.status_code == 400
    assert "60 addresses, more than the 50" in response.json()["detail"]
    assert not Thread.objects.exists()


TRACKING_URL = "/anymail/postmark/tracking/"
WEBHOOK_AUTH = "Basic " + __import__("base64").b64encode(b"tisket:webhook-secret").decode()


def _postmark(client, payload: dict):
    import json

    return client.post(
        TRACKING_URL, json.dumps(payload), content_type="application/json",
        HTTP_AUTHORIZATION=WEBHOOK_AUTH,
    )  # fmt: skip


@pytest.fixture
def esp(settings):
    from django.core import mail

    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    mail.outbox = []
    return mail.outbox


def _sent_reply(acme) -> OutboundMail:
    deliver(make_mail())
    _, row = outbound.reply_send_skipping_ticket(
        thread=Thread.objects.get(), author=acme.agent, body="Hi"
    )
    return outbound.outbox_send(outbound_id=row.pk)


def test_an_esp_names_the_mail_and_its_delivery_is_recorded(client, acme, quiet_inbox, esp):
    row = _sent_reply(acme)
    assert row.status == S.SENT
    assert row.esp_message_id == "0"
    response = _postmark(
        client,
        {
            "RecordType": "Delivery",
            "MessageID": "0",
            "Recipient": "jane@client.test",
            "DeliveredAt": "2026-11-22T10:00:00Z",
            "Details": "Test delivery",
            "Tag": "",
            "ServerID": 1,
            "Metadata": {},
        },
    )
    assert response.status_code == 200
    row.refresh_from_db()
    assert row.delivery_event == "delivered"


def test_a_hard_bounce_stops_automatic_mail_to_the_address_for_60_days(
    client, acme, acking_inbox, esp, django_capture_on_commit_callbacks
):
    from threads.models import Suppression

    row = _sent_reply(acme)
    bounce = {
        "RecordType": "Bounce",
        "Type": "HardBounce",
        "TypeCode": 1,
        "MessageID": row.esp_message_id,
        "Email": "jane@client.test",
        "Description": "The server was unable to deliver your message",
        "Details": "smtp;550 5.1.1 unknown user",
        "BouncedAt": "2026-11-22T10:00:00Z",
        "Inactive": True,
        "CanActivate": True,
        "Subject": "x",
        "Tag": "",
        "ServerID": 1,
        "Metadata": {},
    }
    assert _postmark(client, bounce).status_code == 200
    row.refresh_from_db()
    assert row.delivery_event == "bounced"
    suppression = Suppression.objects.get(address="jane@client.test")
    assert suppression.until > timezone.now() + timedelta(days=59)
    esp.clear()
    with django_capture_on_commit_callbacks(execute=True):
        deliver(make_mail(subject="a new question"))
    assert esp == []  # no acknowledgement to a bouncing address


def test_a_soft_bounce_suppresses_nothing(client, acme, quiet_inbox, esp):
    from threads.models import Suppression

    row = _sent_reply(acme)
    soft = {
        "RecordType": "Bounce",
        "Type": "SoftBounce",
        "TypeCode": 4096,
        "MessageID": row.esp_message_id,
        "Email": "jane@client.test",
        "Description": "Mailbox full",
        "Details": "452 4.2.2",
        "BouncedAt": "2026-11-22T10:00:00Z",
        "Subject": "x",
        "Tag": "",
        "ServerID": 1,
        "Metadata": {},
    }
    assert _postmark(client, soft).status_code == 200
    assert not Suppression.objects.exists()


def test_a_reply_in_markdown_with_a_file_reaches_the_client(
    acme, quiet_inbox, smtp, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    deliver(make_mail())
    invoice = SimpleUploadedFile("../../invoice.pdf", b"%PDF-1.4\n" + b"1" * 2000)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(acme.agent).post(
            "/api/v1/threads/THD-ACME-001/messages/",
            {"body": "Here is **the invoice**.\n\n<script>x</script>", "attachments": [invoice]},
            format="multipart",
        )
    assert response.status_code == 201, response.content
    stored = response.json()["attachments"]
    assert [(a["filename"], a["content_type"]) for a in stored] == [
        ("invoice.pdf", "application/pdf")
    ]
    [(_, sent)] = smtp.received
    html = sent.get_body(preferencelist=("html",)).get_content()
    assert "<strong>the invoice</strong>" in html
    assert "<script" not in html
    [part] = list(sent.iter_attachments())
    assert part.get_filename() == "invoice.pdf"
    assert part.get_content().startswith(b"%PDF-1.4")


def test_attachments_over_the_inbox_limit_are_refused(acme, quiet_inbox):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from inboxes.services import inbox_update

    inbox_update(inbox=quiet_inbox, max_message_bytes=1024 * 1024)
    deliver(make_mail())
    big = SimpleUploadedFile("big.bin", b"x" * (2 * 1024 * 1024))
    response = api_client(acme.agent).post(
        "/api/v1/threads/THD-ACME-001/messages/",
        {"body": "big", "attachments": [big]},
        format="multipart",
    )
    assert response.status_code == 400
    assert "limit of 1 MB" in response.json()["detail"]
    assert not OutboundMail.objects.exists()


def test_a_failed_reply_is_sent_again_once_under_its_own_message_id(
    acme, quiet_inbox, smtp, django_capture_on_commit_callbacks
):
    deliver(make_mail())
    smtp.answer = "550 5.2.2 Mailbox full"
    message, row = outbound.reply_send_skipping_ticket(
        thread=Thread.objects.get(), author=acme.agent, body="Hi"
    )
    outbound.outbox_send(outbound_id=row.pk)
    smtp.answer = "250 OK"  # the client made room
    url = f"/api/v1/threads/THD-ACME-001/messages/{message.pk}/send-again/"

    assert api_client(acme.viewer).post(url).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(acme.agent).post(url)

    assert response.status_code == 202, response.content
    assert response.json()["delivery"]["status"] == "pending"  # queued; sent at commit
    [(recipients, sent)] = smtp.received
    assert recipients == ["jane@client.test"]
    assert sent["Message-ID"] == f"<{message.message_id}>"  # the client sees it once
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (S.SENT, 1, "")
    [earlier] = row.earlier_attempts  # what became of the first attempt is kept
    assert (earlier["status"], earlier["attempts"]) == ("failed", 1)
    assert "550" in earlier["last_error"] and earlier["sent_again_by"] == acme.agent.pk
    # Sent now: nothing to send again, and nothing is.
    again = api_client(acme.agent).post(url)
    assert again.status_code == 409
    assert "only a mail that failed or bounced" in again.json()["detail"]
    assert len(smtp.received) == 1


def test_only_an_agents_failed_mail_can_be_sent_again(acme, quiet_inbox, smtp):
    client_mail = deliver(make_mail()).message
    response = api_client(acme.agent).post(
        f"/api/v1/threads/THD-ACME-001/messages/{client_mail.pk}/send-again/"
    )
    assert response.status_code == 409
    assert "written to a client" in response.json()["detail"]
    other = deliver(make_mail(subject="Another", message_id="<other@client.test>")).message
    # A message of another conversation is not this conversation's.
    wrong = f"/api/v1/threads/THD-ACME-001/messages/{other.pk}/send-again/"
    assert api_client(acme.agent).post(wrong).status_code == 404
    assert not smtp.received


def test_an_agent_sends_a_bounced_reply_again_from_the_conversation(
    acme, quiet_inbox, smtp, web, django_capture_on_commit_callbacks
):
    deliver(make_mail())
    with django_capture_on_commit_callbacks(execute=True):
        message, row = outbound.reply_send_skipping_ticket(
            thread=Thread.objects.get(), author=acme.agent, body="Hi"
        )
    OutboundMail.objects.filter(pk=row.pk).update(esp_message_id="esp-1")
    outbound.delivery_recorded(
        esp_message_id="esp-1", event="bounced", recipient="jane@client.test",
        detail="Mailbox full", hard=True,
    )  # fmt: skip
    page = web(acme.agent).get("/acme/threads/THD-ACME-001/").content.decode()
    assert "Bounced." in page and "Send again" in page
    viewer = web(acme.viewer)
    assert "Send again" not in viewer.get("/acme/threads/THD-ACME-001/").content.decode()
    assert viewer.post(f"/acme/messages/{message.pk}/send-again/").status_code == 403

    with django_capture_on_commit_callbacks(execute=True):
        response = web(acme.agent).post(f"/acme/messages/{message.pk}/send-again/", follow=True)

    page = response.content.decode()
    assert "Queued to be sent again." in page
    assert "jane@client.test bounced hard or complained lately" in page
    assert len(smtp.received) == 2  # the first attempt, then this one
    row.refresh_from_db()
    assert (row.status, row.delivery_event, row.esp_message_id) == (S.SENT, "", "")
    # The ESP's late word on the first attempt does not land on this one.
    outbound.delivery_recorded(
        esp_message_id="esp-1", event="bounced", recipient="jane@client.test",
        detail="late", hard=False,
    )  # fmt: skip
    row.refresh_from_db()
    assert row.delivery_event == ""
    assert row.earlier_attempts[0]["delivery_event"] == "bounced"


def test_one_batch_acknowledges_each_sender_once_and_no_member_or_held_address(acme, acking_inbox):
    deliver(make_mail(sender="bob@client.test", subject="yesterday"))  # Bob has his receipt
    Suppression.objects.create(
        organization=acme.org,
        address="held@client.test",
        reason="bounced: 550 unknown user",
        until=timezone.now() + timedelta(days=3),
    )
    mails = [
        make_mail(sender="Jane <jane@client.test>", subject="one"),
        make_mail(sender="Jane <JANE@Client.test>", subject="two"),  # the same address
        make_mail(sender="bob@client.test", subject="again"),
        make_mail(sender="agent@acme.test", subject="from a member"),
        make_mail(sender="Agent <AGENT@ACME.TEST>", subject="from a member, in capitals"),
        make_mail(sender="held@client.test", subject="bounced before"),
        make_mail(sender="ann@client.test", subject="first time"),
        make_mail(sender="rob@client.test", headers={"Auto-Submitted": "auto-replied"}),
    ]
    rows = [inbound_record(raw=raw, source="test")[0] for raw in mails]
    mail_process_many(inbound_ids=[row.pk for row in rows])  # one run, one batch
    receipts = OutboundMail.objects.filter(kind=OutboundMail.Kind.AUTO_ACK).order_by("id")
    assert [(receipt.thread.subject, receipt.to) for receipt in receipts] == [
        ("yesterday", ["bob@client.test"]),
        ("one", ["jane@client.test"]),
        ("first time", ["ann@client.test"]),
    ]
