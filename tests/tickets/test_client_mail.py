"""The client told at each step: status mails through the outbox and a real SMTP server."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from inboxes.services import inbox_update
from tests.conftest import api_client
from tests.mail import deliver, deliver_without_ticket, make_mail
from threads.models import Message, OutboundMail, Suppression
from tickets import queues
from tickets import services as tickets
from tickets.models import Ticket
from tisket.errors import ConflictError
from tisket.lib.unsubscribe import CONVERSATION_UPDATES, Subscription
from tisket.models import Role
from tisket.unsubscriptions import unsubscribe

JANE = "jane@client.test"
BOB = "bob@client.test"
RATE_LINK = re.compile(r"https://desk\.example/c/rate/[^/\s)]+/([1-5])/")


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://desk.example"


@pytest.fixture
def queue(acme, inbox):
    return queues.queue_create(organization=acme.org, name="Support", actor=None, inboxes=[inbox])


def conversation(cc: str = "") -> tuple:
    thread = deliver(make_mail(cc=cc)).thread
    return thread, Ticket.objects.get(thread_links__thread=thread)


def text_of(mail) -> str:
    return mail.get_body(("plain",)).get_content()


def html_of(mail) -> str:
    return mail.get_body(("html",)).get_content()


def test_resolving_mails_the_requester_a_summary_and_five_rating_links(
    acme, inbox, queue, smtp, django_capture_on_commit_callbacks
):
    thread, ticket = conversation(cc=BOB)
    with django_capture_on_commit_callbacks(execute=True):
        tickets.conversation_set_status(
            thread=thread,
            ticket=ticket,
            status=Ticket.Status.RESOLVED,
            actor=acme.agent,
            summary="We reset your password; the **new** one is in your phone.",
        )
    [(recipients, sent)] = smtp.received  # the requester only: the inbox's default
    assert recipients == [JANE]
    assert str(sent["Subject"]) == "[THD-ACME-001] Re: Cannot log in"
    assert sent["Auto-Submitted"] == "auto-generated"
    text, html = text_of(sent), html_of(sent)
    assert "is resolved" in text
    assert "We reset your password" in text and "<strong>new</strong>" in html
    assert [int(s) for s in RATE_LINK.findall(text)] == [1, 2, 3, 4, 5]
    assert len(RATE_LINK.findall(html)) == 5
    assert "View this conversation online: https://desk.example/c/" in text
    # A rating request: optional mail, with RFC 8058's pair and a footer link.
    url = sent["List-Unsubscribe"].strip().strip("<>")  # folded before "<" when long
    assert url.startswith("https://desk.example/c/unsubscribe/")
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"Unsubscribe: {url}" in text and f'href="{url}"' in html
    # Stored on the conversation as the desk's message, threaded like a reply.
    stored = Message.objects.get(thread=thread, automated_reason="status: resolved")
    assert sent["Message-ID"] == f"<{stored.message_id}>"
    assert stored.author == acme.agent and "We reset your password" in stored.text
    # Members read the stored message: it says the links were sent, and holds none.
    assert "/c/rate/" not in stored.text + stored.html and "rate our help" in stored.text
    assert OutboundMail.objects.get(message=stored).kind == OutboundMail.Kind.STATUS


def test_each_participant_gets_a_mail_of_their_own_when_the_inbox_says_so(
    acme, inbox, queue, smtp, django_capture_on_commit_callbacks
):
    inbox_update(inbox=inbox, status_mail_to_participants=True)
    _thread, ticket = conversation(cc=BOB)
    with django_capture_on_commit_callbacks(execute=True):
        tickets.ticket_set_status(ticket=ticket, status=Ticket.Status.RESOLVED, actor=acme.agent)
    assert sorted(r for r, _ in smtp.received) == [[BOB], [JANE]]
    links = {r[0]: m["List-Unsubscribe"] for r, m in smtp.received}
    assert links[JANE] != links[BOB]  # each link names its own recipient
    assert len({m["Message-ID"] for _, m in smtp.received}) == 2


def test_waiting_and_reopened_mails_follow_the_inbox_switches(
    acme, inbox, queue, smtp, django_capture_on_commit_callbacks
):
    _thread, ticket = conversation()
    with django_capture_on_commit_callbacks(execute=True):
        tickets.ticket_set_status(
            ticket=ticket, status=Ticket.Status.WAITING_ON_CUSTOMER, actor=acme.agent
        )
    assert smtp.received == []  # off by default: the reply that asks says so
    inbox_update(inbox=inbox, mail_on_waiting=True, mail_on_reopened=True, mail_on_resolved=False)
    with django_capture_on_commit_callbacks(execute=True):
        tickets.ticket_set_status(ticket=ticket, status=Ticket.Status.OPEN, actor=acme.agent)
        tickets.ticket_set_status(
            ticket=ticket, status=Ticket.Status.WAITING_ON_CUSTOMER, actor=acme.agent
        )
        tickets.ticket_set_status(ticket=ticket, status=Ticket.Status.RESOLVED, actor=acme.agent)
        tickets.ticket_set_status(ticket=ticket, status=Ticket.Status.OPEN, actor=acme.agent)
    texts = [text_of(m) for _, m in smtp.received]
    assert len(texts) == 2
    assert "waits on you" in texts[0] and "We reopened your request" in texts[1]
    assert all(m["List-Unsubscribe-Post"] for _, m in smtp.received)


def test_the_clients_own_changes_and_their_mail_tell_them_nothing(
    acme, inbox, queue, smtp, django_capture_on_commit_callbacks
):
    inbox_update(inbox=inbox, mail_on_reopened=True)
    thread, ticket = conversation()
    with django_capture_on_commit_callbacks(execute=True):
        tickets.conversation_set_status(
            thread=thread, ticket=ticket, status=Ticket.Status.RESOLVED, actor=None
        )
        deliver(make_mail(subject="[THD-ACME-001] still broken", body="No, it is not fixed."))
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN  # reopened by the client's mail
    assert smtp.received == []


def test_an_assistants_change_sends_nothing(
    acme, inbox, queue, smtp, django_capture_on_commit_callbacks
):
    _thread, ticket = conversation()
    assistant = acme.agent.acting_as(Role.AGENT, via="assistant via token t1")
    with django_capture_on_commit_callbacks(execute=True):
        tickets.ticket_set_status(ticket=ticket, status=Ticket.Status.RESOLVED, actor=assistant)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.RESOLVED
    assert smtp.received == []


def test_an_unsubscribed_client_gets_the_agents_summary_as_a_plain_reply_only(
    acme, inbox, queue, smtp, django_capture_on_commit_callbacks
):
    thread, ticket = conversation()
    unsubscribe(subscription=Subscription(acme.org.pk, JANE, CONVERSATION_UPDATES))
    with django_capture_on_commit_callbacks(execute=True):
        tickets.ticket_set_status(ticket=ticket, status=Ticket.Status.RESOLVED, actor=acme.agent)
    assert smtp.received == []  # no summary: nothing to tell
    tickets.ticket_set_status(ticket=ticket, status=Ticket.Status.OPEN, actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        tickets.conversation_set_status(
            thread=thread,
            ticket=ticket,
            status=Ticket.Status.RESOLVED,
            actor=acme.agent,
            summary="Fixed on our side.",
        )
    [(_, sent)] = smtp.received
    assert "Fixed on our side." in text_of(sent)
    assert not RATE_LINK.search(text_of(sent))
    assert sent["List-Unsubscribe"] is None and sent["List-Unsubscribe-Post"] is None
    stored = Message.objects.get(thread=thread, automated_reason="status: resolved")
    assert stored.text == "Fixed on our side."  # what was sent, not the status mail


def test_a_summary_goes_as_a_reply_where_the_inbox_sends_no_resolved_mail(
    acme, inbox, queue, smtp, django_capture_on_commit_callbacks
):
    inbox_update(inbox=inbox, mail_on_resolved=False)
    thread, ticket = conversation()
    with django_capture_on_commit_callbacks(execute=True):
        tickets.conversation_set_status(
            thread=thread,
            ticket=ticket,
            status=Ticket.Status.RESOLVED,
            actor=acme.agent,
            summary="All done: the export runs nightly now.",
        )
    [(_, sent)] = smtp.received
    assert "All done" in text_of(sent) and sent["List-Unsubscribe"] is None
    assert OutboundMail.objects.get().kind == OutboundMail.Kind.REPLY
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.RESOLVED and ticket.first_responded_at is not None


def test_a_conversation_without_ticket_is_told_but_not_asked_for_a_rating(
    acme, inbox, smtp, django_capture_on_commit_callbacks
):
    thread = deliver_without_ticket(make_mail()).thread
    with django_capture_on_commit_callbacks(execute=True):
        tickets.conversation_set_status(
            thread=thread, ticket=None, status="resolved", actor=acme.agent
        )
    [(_, sent)] = smtp.received
    assert "is resolved" in text_of(sent) and not RATE_LINK.search(text_of(sent))
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_summary_needs_a_resolution(acme, inbox, queue):
    thread, ticket = conversation()
    with pytest.raises(tickets.TicketError):
        tickets.conversation_set_status(
            thread=thread, ticket=ticket, status="open", actor=acme.agent, summary="Hi"
        )
    tickets.ticket_set_status(ticket=ticket, status="resolved", actor=None)
    with pytest.raises(ConflictError):  # resolved already: the words would go nowhere
        tickets.ticket_set_status(
            ticket=ticket, status="resolved", actor=acme.agent, summary="Done."
        )


def test_the_reply_box_resolves_with_its_text_as_the_summary(
    acme, inbox, queue, web, smtp, django_capture_on_commit_callbacks
):
    thread, ticket = conversation()
    page = web(acme.agent).get(f"/acme/threads/{thread.reference}/")
    assert b"Resolve with summary" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = web(acme.agent).post(
            f"/acme/threads/{thread.reference}/reply/",
            {"body": "Your card was charged once only.", "resolve": "1", "seen": "999999"},
        )
    assert response.status_code == 302, response.content
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.RESOLVED
    [(_, sent)] = smtp.received
    assert "Your card was charged once only." in text_of(sent)
    assert RATE_LINK.search(text_of(sent))
    assert not Message.objects.filter(thread=thread, automated_reason="").exclude(
        direction="inbound"
    )  # one mail: the resolved one, not a reply besides


def test_the_inbox_settings_page_and_api_switch_the_status_mails(acme, inbox, web):
    response = api_client(acme.admin).patch(
        f"/api/v1/inboxes/{inbox.pk}/",
        {"mail_on_waiting": True, "status_mail_to_participants": True},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["mail_on_resolved"], body["mail_on_waiting"], body["mail_on_reopened"]) == (
        True,
        True,
        False,
    )
    page = web(acme.admin).get(f"/acme/settings/inboxes/{inbox.pk}/")
    assert b"Telling the client" in page.content and b"mail_on_resolved" in page.content


def test_an_address_that_bounced_gets_no_status_mail(
    acme, inbox, queue, smtp, django_capture_on_commit_callbacks
):
    inbox_update(inbox=inbox, status_mail_to_participants=True)
    _thread, ticket = conversation(cc=BOB)
    Suppression.objects.create(
        organization=acme.org,
        address=JANE,
        reason="bounced",
        until=timezone.now() + timedelta(days=1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        tickets.ticket_set_status(ticket=ticket, status=Ticket.Status.RESOLVED, actor=acme.agent)
    assert [r for r, _ in smtp.received] == [[BOB]]


def test_the_api_resolves_with_a_summary_and_refuses_one_without_resolving(
    acme, inbox, queue, smtp, django_capture_on_commit_callbacks
):
    _thread, ticket = conversation()
    api = api_client(acme.agent)
    url = f"/api/v1/tickets/{ticket.reference}/"
    refused = api.patch(url, {"status": "open", "summary": "Hi"}, format="json")
    assert refused.status_code == 400 and "summary" in refused.json()
    with django_capture_on_commit_callbacks(execute=True):
        done = api.patch(url, {"status": "resolved", "summary": "Done, *really*."}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "resolved"
    [(_, sent)] = smtp.received
    assert "Done, *really*." in text_of(sent) and RATE_LINK.search(text_of(sent))


def test_a_conversation_without_ticket_is_told_through_the_api_too(
    acme, inbox, smtp, django_capture_on_commit_callbacks
):
    thread = deliver_without_ticket(make_mail()).thread
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(acme.agent).patch(
            f"/api/v1/threads/{thread.reference}/", {"status": "resolved"}, format="json"
        )
    assert response.status_code == 200
    [(_, sent)] = smtp.received
    assert "is resolved" in text_of(sent)
