"""The conversation page and its actions, through the Django test client."""

import re
from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inboxes.models import Inbox
from inboxes.services import inbox_create
from tests.conftest import Cast, cast_fetched, make_cast, rows_for_the_module
from tests.mail import deliver, deliver_without_ticket, make_mail
from tests.tickets.conversation_seed import (
    PNG,
    Conversation,
    inline_image_mail,
    name_the_cast,
    seed_conversation,
)
from threads.models import Attachment, Message, OutboundMail, Participant, Thread
from tickets import queues
from tickets import services as tickets
from tickets.models import Macro, Note, Queue, Ticket, TicketEvent

HTMX = {"HTTP_HX_REQUEST": "true"}
SANDBOX = '<iframe class="msg-frame"'
STRICT_CSP = (
    "sandbox allow-popups allow-popups-to-escape-sandbox; "
    "default-src 'none'; style-src 'unsafe-inline'; img-src data: "
    "http://testserver/acme/attachments/; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'self'"
)


@pytest.fixture(scope="module")
def _lived_in(django_db_setup, django_db_blocker) -> Iterator[tuple[Cast, int, Conversation]]:
    """The organization, its inbox and the conversation, made once for the module."""
    with rows_for_the_module(django_db_blocker):
        cast = make_cast("acme", "ACME")
        made = inbox_create(organization=cast.org, name="support", auto_ack_enabled=False)
        yield cast, made.pk, seed_conversation(cast, made)


@pytest.fixture
def acme(_lived_in, db) -> Cast:
    return cast_fetched(_lived_in[0])


@pytest.fixture
def inbox(_lived_in, db):
    return Inbox.objects.get(pk=_lived_in[1])


@pytest.fixture
def conv(_lived_in, db) -> Conversation:
    """The conversation as the database holds it at the start of each test."""
    made = _lived_in[2]
    return Conversation(
        thread=Thread.objects.get(pk=made.thread.pk),
        ticket=Ticket.objects.get(pk=made.ticket.pk),
        queue=Queue.objects.get(pk=made.queue.pk),
        first=Message.objects.get(pk=made.first.pk),
        note=Note.objects.get(pk=made.note.pk),
        macro=Macro.objects.get(pk=made.macro.pk),
        last=Message.objects.get(pk=made.last.pk),
    )


def url(conv, what: str = "") -> str:
    return f"/acme/threads/{conv.thread.reference}/{what}"


def ticket_url(conv, what: str = "") -> str:
    return f"/acme/tickets/{conv.ticket.reference}/{what}"


def page(client, conv) -> str:
    response = client.get(url(conv))
    assert response.status_code == 200
    return response.content.decode()


# --- The page ------------------------------------------------------------------------------------


def test_the_page_shows_messages_and_notes_in_time_order_with_the_ticket_panel(acme, conv, web):
    html = page(web(acme.agent), conv)
    first = html.index(f'id="message-{conv.first.pk}"')
    note = html.index(f'id="note-{conv.note.pk}"')
    last = html.index(f'id="message-{conv.last.pk}"')
    assert first < note < last
    assert "Internal note" in html and "maybe the SSO" in html
    assert "Cannot log in since this morning" in html
    assert "cc bob@client.test" in html and "to support.acme@in.tisket.test" in html
    assert "Alex Martin" in html and "Jane Client" in html
    # The side panel: fields, SLA, participants, timeline.
    assert 'id="side-panel"' in html
    assert '<option value="high" selected>High</option>' in html
    assert f'<option value="{acme.agent.pk}" selected>Alex Martin (me)</option>' in html
    assert 'value="login"' in html
    assert "Next response" in html
    assert "due in 7 h 59 min" in html or "due in 8 h" in html
    assert "Resolution" in html
    assert "bob@client.test" in html.split('id="side-panel"')[1]
    assert "changed the priority from Normal to High" in html
    assert "Escalate" in html


def test_the_reply_box_names_the_clients_it_goes_to(acme, conv, web):
    Participant.objects.create(thread=conv.thread, email=acme.agent2.user.email)
    html = page(web(acme.agent), conv)
    to = html.split('class="to-list"')[1].split("</span>\n")[0]
    assert "jane@client.test" in to and "bob@client.test" in to
    assert acme.agent2.user.email not in to


def test_dates_are_shown_in_the_organizations_time_zone(acme, conv, web):
    acme.org.timezone = "Asia/Tokyo"
    acme.org.save(update_fields=["timezone"])
    html = page(web(acme.agent), conv)
    local = timezone.localtime(conv.first.created_at, ZoneInfo("Asia/Tokyo"))
    assert f">{local.day} {local:%b, %H:%M}<" in html


def test_html_mail_is_a_sandboxed_frame_without_scripts_or_same_origin(acme, conv, web):
    html = page(web(acme.agent), conv)
    frames = re.findall(r"<iframe[^>]*>", html)
    assert frames
    for frame in frames:
        assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in frame
        assert "allow-scripts" not in frame and "allow-same-origin" not in frame
    assert f'src="/acme/messages/{conv.first.pk}/body/"' in html
    assert "Show remote images" in html
    assert "tracker.example" not in html


def test_quoted_history_is_collapsed_under_the_new_part(acme, conv, web):
    html = page(web(acme.agent), conv)
    entry = html.split(f'id="message-{conv.last.pk}"')[1].split("</li>")[0]
    visible, quoted = entry.split('<details class="quoted">')
    assert "Thanks, that worked for the web app." in visible
    assert "Could you try to reset" not in visible
    assert "Could you try to reset your password" in quoted
    assert "screenshot.png" in entry and "/acme/attachments/" in entry


def test_a_text_mail_is_escaped(acme, inbox, web):
    thread = deliver(
        make_mail(body='<script>alert(1)</script> <img src=x onerror="alert(2)">')
    ).thread
    html = web(acme.agent).get(f"/acme/threads/{thread.reference}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html and "<img src=x" not in html


def test_outbound_messages_show_their_delivery_and_a_failed_one_is_flagged(acme, conv, web):
    html = page(web(acme.agent), conv)
    failed = OutboundMail.objects.get(status=OutboundMail.Status.FAILED).message
    entry = html.split(f'id="message-{failed.pk}"')[0].rsplit("<li", 1)[1]
    assert "is-failed" in entry
    assert "Not delivered." in html and "421 4.7.0 Try again later" in html
    assert "Queued for sending" in html  # the other reply, still in the outbox
    OutboundMail.objects.filter(status=OutboundMail.Status.PENDING).update(
        status=OutboundMail.Status.SENT, sent_at=timezone.now()
    )
    assert "✓ Sent" in page(web(acme.agent), conv)


def test_a_thread_without_a_ticket_shows_its_own_status_and_no_notes(acme, inbox, web):
    thread = deliver_without_ticket(make_mail()).thread
    html = web(acme.agent).get(f"/acme/threads/{thread.reference}/").content.decode()
    assert "This conversation has no ticket" in html
    assert 'class="status s-open"' in html
    assert 'id="pane-reply"' in html and 'id="pane-note"' not in html


def test_the_panel_shows_the_incident_and_its_linked_tickets(acme, conv, web):
    from tickets.workflows import incident_link

    child = tickets.ticket_create(organization=acme.org, subject="Me too: no login", actor=None)
    incident_link(parent=conv.ticket, child=child, actor=acme.supervisor)
    html = page(web(acme.agent), conv)
    assert f'Incident of <a href="/acme/tickets/{child.reference}/">{child.reference}</a>' in html
    child_page = web(acme.agent).get(f"/acme/tickets/{child.reference}/").content.decode()
    assert f'Part of incident <a href="/acme/tickets/{conv.ticket.reference}/">' in child_page
    assert f"made {child.reference} part of the incident {conv.ticket.reference}" in html


def test_the_ticket_page_opens_its_first_conversation(acme, conv, web):
    response = web(acme.agent).get(ticket_url(conv))
    assert response.status_code == 302
    assert response["Location"] == url(conv)


def test_a_ticket_without_conversation_shows_its_notes_and_panel(acme, web):
    ticket = tickets.ticket_create(organization=acme.org, subject="Renew the TLS cert", actor=None)
    tickets.ticket_note_add(ticket=ticket, body="Expires Friday.", actor=acme.agent)
    response = web(acme.agent).get(f"/acme/tickets/{ticket.reference}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Renew the TLS cert" in html and "Expires Friday." in html
    assert 'id="pane-note"' in html and 'id="pane-reply"' not in html


def test_unknown_and_foreign_pages_are_404(acme, globex, conv, web):
    client = web(acme.agent)
    assert client.get("/acme/threads/THD-ACME-999/").status_code == 404
    assert client.get("/acme/tickets/TKT-ACME-999/").status_code == 404
    assert client.get("/globex/threads/THD-GLX-001/").status_code == 404


def test_a_viewer_reads_the_conversation_without_a_reply_box(acme, conv, web):
    html = page(web(acme.viewer), conv)
    assert "Cannot log in since this morning" in html
    assert 'id="reply"' not in html and 'id="pane-reply"' not in html
    assert "<select" not in html.split('id="side-panel"')[1].split("</aside>")[0]


@pytest.mark.parametrize(
    "path",
    [
        "threads/{t}/reply/",
        "tickets/{k}/notes/",
        "tickets/{k}/update/",
        "tickets/{k}/macros/{m}/apply/",
    ],
)
def test_a_viewer_cannot_write(acme, conv, web, path):
    target = "/acme/" + path.format(
        t=conv.thread.reference, k=conv.ticket.reference, m=conv.macro.pk
    )
    before = (Message.objects.count(), Note.objects.count(), TicketEvent.objects.count())
    response = web(acme.viewer).post(target, {"body": "x", "status": "closed", "seen": 10**6})
    assert response.status_code == 403
    assert before == (Message.objects.count(), Note.objects.count(), TicketEvent.objects.count())


def test_the_page_makes_the_same_number_of_queries_for_2_or_10_messages(acme, conv, web):
    def count(thread: Thread) -> int:
        client = web(acme.agent)
        client.get(f"/acme/threads/{thread.reference}/")  # warm the session
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/acme/threads/{thread.reference}/").status_code == 200
        return len(queries)

    few = count(conv.thread)
    other = inbox_create(organization=acme.org, name="sales", auto_ack_enabled=False)
    queues.queue_create(organization=acme.org, name="Sales", actor=None, inboxes=[other])
    big = deliver(make_mail(to=other.address, subject="Big one")).thread
    ticket = big.ticket_link.ticket
    for number in range(10):
        deliver(
            make_mail(
                to=other.address,
                subject=f"Re: [{big.reference}] Big one",
                html=f"<p>part {number}</p>",
                attachments=[(f"f{number}.txt", "text/plain", b"x")],
            )
        )
        tickets.thread_reply_send(thread=big, author=acme.agent, body=f"answer {number}")
        tickets.ticket_note_add(ticket=ticket, body=f"note {number}", actor=acme.agent2)
        tickets.ticket_update(ticket=ticket, actor=acme.agent, tags=[f"t{number}"])
    assert Message.objects.filter(thread=big).count() > 20
    assert count(big) == few


# --- Bodies and attachments ---------------------------------------------------------------------


def test_the_body_is_served_with_a_strict_policy_and_remote_images_blocked(acme, conv, web):
    client = web(acme.viewer)
    response = client.get(f"/acme/messages/{conv.first.pk}/body/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == STRICT_CSP
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert response["X-Content-Type-Options"] == "nosniff"
    body = response.content.decode()
    assert "<b>my session expired</b>" in body
    assert "tracker.example" not in body and "tisket-remote:" not in body
    shown = client.get(f"/acme/messages/{conv.first.pk}/body/?remote=1")
    assert 'src="https://tracker.example/pixel.gif"' in shown.content.decode()
    assert (
        "img-src data: http://testserver/acme/attachments/ https:;"
        in (shown["Content-Security-Policy"])
    )


def test_an_inline_image_is_embedded_in_the_body_and_not_listed(acme, conv, web):
    message = deliver(inline_image_mail(in_reply_to="<first@client.test>")).message
    client = web(acme.agent)
    body = client.get(f"/acme/messages/{message.pk}/body/").content.decode()
    assert "cid:" not in body
    assert 'src="data:image/png;base64,' in body
    html = page(client, conv)
    entry = html.split(f'id="message-{message.pk}"')[1].split("</li>\n")[0]
    assert 'class="attachments"' not in entry


def test_a_text_only_body_is_escaped_text(acme, inbox, web):
    message = deliver(make_mail(body="<b>not bold</b>")).message
    body = web(acme.agent).get(f"/acme/messages/{message.pk}/body/").content.decode()
    assert "&lt;b&gt;not bold&lt;/b&gt;" in body


def test_another_organizations_body_and_attachment_are_404(acme, globex, globex_inbox, web):
    theirs = deliver(
        make_mail(
            to=globex_inbox.address, attachments=[("secret.txt", "text/plain", b"globex data")]
        )
    ).message
    client = web(acme.owner)
    assert client.get(f"/acme/messages/{theirs.pk}/body/").status_code == 404
    attachment = theirs.attachments.get()
    assert client.get(f"/acme/attachments/{attachment.pk}/").status_code == 404


def test_an_attachment_downloads_as_a_file(acme, conv, web):
    attachment = Attachment.objects.get(filename="screenshot.png")
    response = web(acme.viewer).get(f"/acme/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="screenshot.png"' in response["Content-Disposition"]
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PNG
    Attachment.objects.filter(pk=attachment.pk).update(file="", omitted_reason="Too large.")
    gone = web(acme.viewer).get(f"/acme/attachments/{attachment.pk}/")
    assert gone.status_code == 410 and gone.content == b"Too large."


# --- Replying -----------------------------------------------------------------------------------


def test_an_agent_replies_and_the_ticket_records_it(acme, conv, web):
    response = web(acme.agent).post(
        url(conv, "reply/"),
        {
            "body": "Please update the app to **4.2**.",
            "cc": "carol@client.test",
            "seen": conv.last.pk,
            "attachments": [SimpleUploadedFile("steps.txt", b"1. update\n2. log in\n")],
        },
    )
    assert response.status_code == 302
    message = Message.objects.filter(thread=conv.thread).latest("id")
    assert response["Location"] == url(conv) + f"#message-{message.pk}"
    assert message.direction == "outbound" and message.author == acme.agent
    assert OutboundMail.objects.filter(message=message, kind="reply").exists()
    assert list(message.attachments.values_list("filename", flat=True)) == ["steps.txt"]
    assert Participant.objects.filter(thread=conv.thread, email="carol@client.test").exists()
    assert TicketEvent.objects.filter(
        ticket=conv.ticket, kind="reply_sent", data__message=message.pk
    ).exists()
    html = web(acme.agent).get(response["Location"]).content.decode()
    assert "Reply sent." in html


def test_send_and_set_status(acme, conv, web):
    response = web(acme.agent).post(
        url(conv, "reply/"),
        {"body": "Done.", "seen": conv.last.pk, "status": "waiting_on_customer", "set_status": "1"},
    )
    assert response.status_code == 302
    conv.ticket.refresh_from_db()
    assert conv.ticket.status == Ticket.Status.WAITING_ON_CUSTOMER


def test_a_plain_send_ignores_the_chosen_status_and_only_takes_a_new_ticket_to_open(
    acme, conv, web
):
    web(acme.agent).post(
        url(conv, "reply/"), {"body": "Done.", "seen": conv.last.pk, "status": "closed"}
    )
    conv.ticket.refresh_from_db()
    assert conv.ticket.status == Ticket.Status.OPEN  # answered: no longer new, not closed


def test_a_thread_without_ticket_gets_its_status_from_send_and_set(acme, inbox, web):
    first = deliver(make_mail())
    response = web(acme.agent).post(
        f"/acme/threads/{first.thread.reference}/reply/",
        {"body": "Fixed.", "seen": first.message.pk, "status": "resolved", "set_status": "1"},
    )
    assert response.status_code == 302
    first.thread.refresh_from_db()
    assert first.thread.status == Thread.Status.RESOLVED


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"body": "   "}, "A reply needs some text."),
        ({"body": "Hi", "cc": "not-an-address"}, "Not an email address: not-an-address."),
        ({"body": "Hi", "status": "gone", "set_status": "1"}, "Unknown status"),
        (
            {"body": "Hi", "cc": ", ".join(f"p{n}@customer.test" for n in range(49))},
            "This mail would go to 51 addresses, more than the 50 one mail may go to.",  # 2 + 49
        ),
    ],
)
def test_bad_replies_are_refused_with_the_text_kept(acme, conv, web, data, error):
    before = Message.objects.count()
    response = web(acme.agent).post(url(conv, "reply/"), {"seen": conv.last.pk, **data})
    assert response.status_code == 400
    html = response.content.decode()
    assert error in html
    assert Message.objects.count() == before
    if data["body"].strip():
        assert f">{data['body']}</textarea>" in html


def test_a_reply_over_an_unseen_client_message_is_held_until_it_is_read(acme, conv, web):
    client = web(acme.agent)
    news = deliver(
        make_mail(subject=f"Re: [{conv.thread.reference}] x", body="Also, my phone is new.")
    ).message
    before = Message.objects.count()
    response = client.post(url(conv, "reply/"), {"body": "Try again now.", "seen": conv.last.pk})
    assert response.status_code == 409
    html = response.content.decode()
    assert "A new message arrived; read it before sending" in html
    assert ">Try again now.</textarea>" in html
    assert "Also, my phone is new." in html
    assert f'name="seen" value="{news.pk}"' in html
    assert "is-new" in html.split(f'id="message-{news.pk}"')[0].rsplit("<li", 1)[1]
    assert Message.objects.count() == before
    # Now seen: the same reply goes.
    again = client.post(url(conv, "reply/"), {"body": "Try again now.", "seen": news.pk})
    assert again.status_code == 302
    assert Message.objects.filter(thread=conv.thread).latest("id").text == "Try again now."


def test_our_own_messages_do_not_hold_a_reply(acme, conv, web):
    tickets.thread_reply_send(thread=conv.thread, author=acme.agent2, body="From Sam meanwhile.")
    response = web(acme.agent).post(url(conv, "reply/"), {"body": "Hi", "seen": conv.last.pk})
    assert response.status_code == 302


# --- Notes, the side panel, macros --------------------------------------------------------------


def test_an_agent_adds_a_note_and_may_set_the_status(acme, conv, web):
    response = web(acme.agent).post(
        ticket_url(conv, "notes/"),
        {
            "body": "Called her: works now.",
            "thread": conv.thread.reference,
            "status": "resolved",
            "set_status": "1",
        },
    )
    note = Note.objects.latest("id")
    assert response.status_code == 302
    assert response["Location"] == url(conv) + f"#note-{note.pk}"
    assert note.body == "Called her: works now." and note.author == acme.agent
    conv.ticket.refresh_from_db()
    assert conv.ticket.status == Ticket.Status.RESOLVED
    assert not Message.objects.filter(text__contains="Called her").exists()


def test_an_empty_note_is_refused(acme, conv, web):
    before = Note.objects.count()
    response = web(acme.agent).post(ticket_url(conv, "notes/"), {"body": " "})
    assert response.status_code == 400
    assert "A note needs some text." in response.content.decode()
    assert Note.objects.count() == before


@pytest.mark.parametrize(
    ("field", "value", "check"),
    [
        ("status", "in_progress", lambda t, c: t.status == "in_progress"),
        ("priority", "urgent", lambda t, c: t.priority == "urgent"),
        ("queue", "", lambda t, c: t.queue is None),
        ("assignee", "agent2", lambda t, c: t.assignee == c.agent2),
        ("assignee", "", lambda t, c: t.assignee is None),
        ("tags", "vip, Billing ", lambda t, c: sorted(t.tags.values_list("name", flat=True))
         == ["billing", "vip"]),
        ("escalate", "1", lambda t, c: t.escalation_level == 1
         and t.assignee.has_role("supervisor")),
    ],
)  # fmt: skip
def test_the_side_panel_changes_the_ticket(acme, conv, web, field, value, check):
    value = str(acme.agent2.pk) if value == "agent2" else value
    response = web(acme.agent).post(
        ticket_url(conv, "update/"), {field: value, "thread": conv.thread.reference}, **HTMX
    )
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<div id="side-panel"')
    ticket = Ticket.objects.get(pk=conv.ticket.pk)
    assert check(ticket, acme)


def test_the_side_panel_without_htmx_redirects_back(acme, conv, web):
    response = web(acme.agent).post(ticket_url(conv, "update/"), {"priority": "low"})
    assert response.status_code == 302 and response["Location"] == url(conv)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"priority": "asap"}, "Unknown priority"),
        ({"status": "done"}, "Unknown status"),
        ({"queue": "999999"}, "No such queue."),
        ({"assignee": "999999"}, "No such member."),
        ({"assignee": "viewer"}, "cannot be assigned tickets"),
    ],
)
def test_bad_panel_input_changes_nothing(acme, conv, web, data, error):
    data = {k: str(acme.viewer.pk) if v == "viewer" else v for k, v in data.items()}
    events = TicketEvent.objects.filter(ticket=conv.ticket).count()
    response = web(acme.agent).post(ticket_url(conv, "update/"), data, **HTMX)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert TicketEvent.objects.filter(ticket=conv.ticket).count() == events


def test_another_organizations_queue_cannot_be_chosen(acme, globex, conv, web):
    theirs = queues.queue_create(organization=globex.org, name="Theirs", actor=None)
    response = web(acme.agent).post(ticket_url(conv, "update/"), {"queue": theirs.pk}, **HTMX)
    assert response.status_code == 400
    assert Ticket.objects.get(pk=conv.ticket.pk).queue == conv.queue


def test_the_page_lists_the_macros_with_their_text_and_pending_actions(acme, conv, web):
    html = page(web(acme.agent), conv)
    assert "Ask for the app version" in html
    assert 'data-body="Hello Jane Client,' in html
    assert 'data-pending="status Waiting on customer · tags +needs-info"' in html


def test_applying_a_macro_changes_nothing_until_the_reply_is_sent(acme, conv, web, smtp):
    client = web(acme.agent)
    response = client.post(ticket_url(conv, f"macros/{conv.macro.pk}/apply/"))
    assert response.status_code == 302
    assert response["Location"] == url(conv) + f"?macro={conv.macro.pk}&apply=1#reply"
    html = client.get(url(conv) + f"?macro={conv.macro.pk}&apply=1").content.decode()
    assert (
        "Which version of the app do you use?"
        in html.split('id="reply-body"')[1].split("</textarea>")[0]
    )
    assert f'name="macro" value="{conv.macro.pk}"' in html
    assert "On send: <span data-macro-pending-text>status Waiting on customer" in html
    ticket = Ticket.objects.get(pk=conv.ticket.pk)
    assert ticket.status != Ticket.Status.WAITING_ON_CUSTOMER
    assert ticket.sla_paused_at is None
    assert not TicketEvent.objects.filter(ticket=ticket, kind="macro_applied").exists()

    sent = client.post(
        url(conv, "reply/"),
        {
            "body": "Which version?",
            "macro": conv.macro.pk,
            "seen": conv.last.pk,
            "idempotency_key": "macro-1",
        },
    )
    assert sent.status_code == 302
    ticket = Ticket.objects.get(pk=conv.ticket.pk)
    assert ticket.status == Ticket.Status.WAITING_ON_CUSTOMER
    assert "needs-info" in set(ticket.tags.values_list("name", flat=True))
    assert TicketEvent.objects.filter(ticket=ticket, kind="macro_applied").count() == 1


def test_a_reply_refused_keeps_its_pending_macro_and_applies_nothing(acme, conv, web):
    client = web(acme.agent)
    response = client.post(
        url(conv, "reply/"),
        {"body": "Hi", "cc": "not an address", "macro": conv.macro.pk, "seen": conv.last.pk},
    )
    assert response.status_code == 400
    assert f'name="macro" value="{conv.macro.pk}"' in response.content.decode()
    assert Ticket.objects.get(pk=conv.ticket.pk).status != Ticket.Status.WAITING_ON_CUSTOMER


def test_a_macro_of_another_organization_is_404(acme, globex, conv, web):
    from tickets.macros import macro_save

    theirs = macro_save(organization=globex.org, actor=None, name="Theirs", body="x")
    response = web(acme.agent).post(ticket_url(conv, f"macros/{theirs.pk}/apply/"))
    assert response.status_code == 404


def test_a_macro_naming_a_deleted_queue_is_a_clear_error_when_sent(acme, conv, web):
    from tickets.macros import macro_save

    gone = queues.queue_create(organization=acme.org, name="Gone", actor=None)
    macro = macro_save(organization=acme.org, actor=None, name="Move", actions={"queue": gone.pk})
    gone.delete()
    response = web(acme.agent).post(
        url(conv, "reply/"),
        {"body": "Moving you", "macro": macro.pk, "seen": conv.last.pk},
    )
    assert response.status_code == 400
    assert "no longer exists" in response.content.decode()
    assert not TicketEvent.objects.filter(ticket=conv.ticket, kind="macro_applied").exists()
    assert not conv.thread.messages.filter(text__contains="Moving you").exists()


# --- Presence -----------------------------------------------------------------------------------


def test_other_agents_on_the_thread_are_shown_viewing_or_replying(acme, conv, web, client):
    sam = web(acme.agent2)
    response = sam.post(url(conv, "presence/"), {"typing": "0"})
    assert response.status_code == 200
    assert "is viewing" not in response.content.decode()  # nobody else yet
    client.force_login(acme.agent.user)
    html = page(client, conv)
    assert "Sam Rivera is viewing" in html
    client.force_login(acme.agent2.user)
    client.post(url(conv, "presence/"), {"typing": "1"})
    client.force_login(acme.agent.user)
    fragment = client.post(url(conv, "presence/"), {"typing": "0"}).content.decode()
    assert "Sam Rivera is replying" in fragment
    assert "Alex Martin" not in fragment


def test_presence_fades_after_thirty_seconds(acme, conv, client):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client.force_login(acme.agent2.user)
        client.post(url(conv, "presence/"), {"typing": "1"})
        client.force_login(acme.agent.user)
        clock.shift(timedelta(seconds=20))
        assert "Sam Rivera is replying" in client.post(url(conv, "presence/")).content.decode()
        clock.shift(timedelta(seconds=15))
        assert "Sam Rivera" not in client.post(url(conv, "presence/")).content.decode()


def test_presence_of_another_organizations_thread_is_404(acme, globex, globex_inbox, web):
    theirs = deliver(make_mail(to=globex_inbox.address)).thread
    assert web(acme.owner).post(f"/acme/threads/{theirs.reference}/presence/").status_code == 404


# --- A new conversation -------------------------------------------------------------------------


def test_the_new_conversation_form_preselects_the_first_inbox(acme, inbox, web):
    inbox_create(organization=acme.org, name="zsales", auto_ack_enabled=False)
    response = web(acme.agent).get("/acme/threads/new/")
    assert response.status_code == 200
    assert f'<option value="{inbox.pk}" selected>' in response.content.decode()


def test_an_agent_starts_a_conversation(acme, inbox, web):
    name_the_cast(acme)
    response = web(acme.agent).post(
        "/acme/threads/new/",
        {
            "inbox": inbox.pk,
            "to": "client@example.test",
            "cc": "boss@example.test",
            "subject": "Your renewal",
            "body": "Hello,\n\nyour plan renews next week.",
        },
    )
    thread = Thread.objects.get(subject="Your renewal")
    assert response.status_code == 302
    assert response["Location"] == f"/acme/threads/{thread.reference}/"
    message = thread.messages.get()
    assert message.direction == "outbound" and message.author == acme.agent
    assert OutboundMail.objects.get(message=message).to == ["client@example.test"]
    assert set(thread.participants.values_list("email", flat=True)) == {
        "client@example.test",
        "boss@example.test",
    }


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"to": "nobody"}, "Not an email address: nobody."),
        ({"to": ""}, "Not an email address: (none given)."),
        ({"subject": " "}, "A new conversation needs a subject and some text."),
        ({"to": "support.acme@in.tisket.test"}, "not with one of our own addresses"),
        ({"inbox": "999999"}, "Choose the inbox to send from."),
    ],
)
def test_a_bad_new_conversation_is_refused_with_the_form_kept(acme, inbox, web, data, error):
    form = {"inbox": inbox.pk, "to": "c@example.test", "subject": "Hi", "body": "Text", **data}
    before = Thread.objects.count()
    response = web(acme.agent).post("/acme/threads/new/", form)
    assert response.status_code == 400
    html = response.content.decode()
    assert error in html
    assert ">Text</textarea>" in html
    assert Thread.objects.count() == before


def test_a_viewer_cannot_start_a_conversation(acme, inbox, web):
    client = web(acme.viewer)
    before = Thread.objects.count()
    assert client.get("/acme/threads/new/").status_code == 403
    response = client.post("/acme/threads/new/", {"inbox": inbox.pk, "to": "c@example.test"})
    assert response.status_code == 403
    assert Thread.objects.count() == before


def test_the_nav_links_to_a_new_conversation_for_agents_only(acme, inbox, web):
    assert 'href="/acme/threads/new/"' in web(acme.agent).get("/acme/").content.decode()
    assert 'href="/acme/threads/new/"' not in web(acme.viewer).get("/acme/").content.decode()


def test_the_reply_api_still_records_the_ticket_reply(acme, conv):
    from tests.conftest import api_client

    response = api_client(acme.agent).post(
        f"/api/v1/threads/{conv.thread.reference}/messages/", {"body": "Via the API"}, format="json"
    )
    assert response.status_code == 201
    assert TicketEvent.objects.filter(ticket=conv.ticket, kind="reply_sent").count() == 3


def test_a_message_whose_sender_did_not_come_from_from_says_so(acme, conv, web):
    from threads.models import Message

    Message.objects.filter(thread=conv.thread).update(
        sender_note="Sender taken from Reply-To: no From header."
    )
    html = page(web(acme.agent), conv)
    assert 'title="Sender taken from Reply-To: no From header.">Sender repaired</span>' in html


def test_a_note_renders_markdown_tables_and_bare_links_but_nothing_hostile(acme, conv, web):
    body = (
        "Status: https://status.example.com/incidents/42.\n\n"
        "| Region | Down |\n|---|---|\n| EU | **yes** |\n\n"
        "<script>alert(1)</script> [x](javascript:alert(2)) <img src=x onerror=alert(3)>"
    )
    tickets.ticket_note_add(ticket=conv.ticket, body=body, actor=acme.agent)
    html = page(web(acme.agent), conv)
    assert '<a href="https://status.example.com/incidents/42"' in html
    assert "<th>Region</th>" in html and "<td><strong>yes</strong></td>" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "javascript:alert(2)" not in html and "<img src=x" not in html
    assert Note.objects.latest("id").body == body  # what was written is kept as written
