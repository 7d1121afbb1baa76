"""The client's pages: a conversation opened from the signed link of our mail, without login."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail as django_mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from inboxes.services import inbox_update
from tests.conftest import api_client
from tests.mail import deliver, make_mail
from threads import outbound
from threads.client_access import (
    client_link_lifetime,
    client_link_token,
    client_link_url,
    client_links_revoke,
)
from threads.models import InboundMail, Message, OutboundMail, Thread
from tickets import csat, queues
from tickets import services as tickets
from tickets.models import Rating, Ticket, TicketEvent

JANE = "jane@client.test"


@pytest.fixture
def queue(acme, inbox):
    """The inbox opens a ticket for every new thread."""
    return queues.queue_create(organization=acme.org, name="Support", actor=None, inboxes=[inbox])


def page_url(thread: Thread, email: str = JANE) -> str:
    return reverse("client:thread", kwargs={"token": client_link_token(thread=thread, email=email)})


def action_url(name: str, thread: Thread, email: str = JANE) -> str:
    return reverse(name, kwargs={"token": client_link_token(thread=thread, email=email)})


def conversation(acme) -> Thread:
    """Jane asks, the agent answers: a thread of two public messages."""
    thread = deliver(make_mail(body="Hello, I cannot log in since this morning.")).thread
    outbound.reply_send_skipping_ticket(
        thread=thread, author=acme.agent, body="Please try again now."
    )
    thread.refresh_from_db()
    return thread


def link_in(text: str) -> str:
    line = next(x for x in text.splitlines() if x.startswith("View this conversation online: "))
    url = line.removeprefix("View this conversation online: ").strip()
    assert url.startswith(settings.SITE_URL + "/c/")
    return url.removeprefix(settings.SITE_URL)


# --- The link in outbound mail ------------------------------------------------------


def test_an_agents_reply_carries_a_link_that_opens_the_conversation(
    acme, inbox, client, django_capture_on_commit_callbacks
):
    deliver(make_mail(message_id="<q1@client.test>"))
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(acme.agent).post(
            "/api/v1/threads/THD-ACME-001/messages/", {"body": "Try again now."}, format="json"
        )
    assert response.status_code == 201, response.content
    [sent] = django_mail.outbox
    path = link_in(sent.body)
    [(html, _)] = sent.alternatives
    assert f'href="{settings.SITE_URL}{path}"' in html
    page = client.get(path)
    assert page.status_code == 200
    assert b"Try again now." in page.content
    assert b"I cannot log in" in page.content
    # The link is the mail's, not the message's: the stored reply stays as written.
    assert "View this conversation" not in Message.objects.get(direction="outbound").text


def test_a_new_conversation_and_an_acknowledgement_carry_the_link(acme, inbox, client):
    inbox_update(inbox=inbox, auto_ack_enabled=True)
    deliver(make_mail(sender="Ann <ann@client.test>", subject="Invoice"))
    ack = OutboundMail.objects.get(kind=OutboundMail.Kind.AUTO_ACK)
    assert client.get(link_in(ack.text)).status_code == 200
    _, _, started = outbound.thread_start(
        inbox=inbox, author=acme.agent, to=["bob@client.test"], subject="Renewal", body="Hi Bob"
    )
    page = client.get(link_in(started.text))
    assert page.status_code == 200
    assert b"Hi Bob" in page.content
    assert b"bob@client.test" in page.content  # the page knows whom the link was sent to


# --- Reading ----------------------------------------------------------------------


def test_the_page_shows_the_public_messages_in_order_with_the_desks_name(acme, inbox, client):
    inbox_update(inbox=inbox, display_name="Acme Help Desk")
    thread = conversation(acme)
    response = client.get(page_url(thread))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("I cannot log in") < html.index("Please try again now.")
    assert "Acme Help Desk" in html
    assert "agent@acme.test" not in html  # the desk speaks with the inbox's name
    assert thread.reference in html
    assert 'data-status="new"' in html and ">New<" in html  # the desk's word, as agents see


def test_the_page_is_private_no_store_no_referrer_noindex(acme, inbox, client):
    response = client.get(page_url(conversation(acme)))
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response["X-Robots-Tag"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_internal_notes_never_appear(acme, inbox, queue, client):
    thread = conversation(acme)
    tickets.ticket_note_add(
        ticket=thread.ticket_link.ticket, body="NOTE-7f3c9a secret margin", actor=acme.agent
    )
    response = client.get(page_url(thread))
    assert response.status_code == 200
    assert b"NOTE-7f3c9a" not in response.content


def test_another_threads_messages_never_appear(acme, inbox, client):
    thread = conversation(acme)
    other = deliver(make_mail(subject="Other matter", body="OTHER-41d2 my other question")).thread
    assert other != thread
    assert b"OTHER-41d2" not in client.get(page_url(thread)).content
    assert b"OTHER-41d2" in client.get(page_url(other)).content


def test_mail_content_is_shown_as_text_never_as_markup(acme, inbox, client):
    thread = deliver(
        make_mail(
            body="<script>alert(1)</script> <img src=x onerror=alert(2)>",
            html="<p>hi<script>alert(3)</script></p>",
        )
    ).thread
    html = client.get(page_url(thread)).content.decode()
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- Links that do not open -----------------------------------------------------------


def test_an_expired_link_says_so_kindly_without_naming_the_organization(acme, inbox, client):
    url = page_url(conversation(acme))
    with time_machine.travel(timezone.now() + client_link_lifetime() + timedelta(hours=1)):
        response = client.get(url)
    assert response.status_code == 410
    text = response.content.decode()
    assert "no longer valid" in text
    assert "reply to the last email" in text.lower()
    assert "Acme" not in text and "THD-ACME" not in text and "support.acme" not in text
    assert "no-store" in response["Cache-Control"]


def test_the_lifetime_comes_from_the_setting(acme, inbox, client, settings):
    settings.TISKET_CLIENT_LINK_DAYS = 2
    url = page_url(conversation(acme))
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        assert client.get(url).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        assert client.get(url).status_code == 410


def test_a_revoked_link_is_gone_and_the_next_mail_carries_a_working_one(acme, inbox, client):
    thread = conversation(acme)
    old = page_url(thread)
    client_links_revoke(thread=thread, actor=acme.agent)
    response = client.get(old)
    assert response.status_code == 410
    assert b"Acme" not in response.content
    _, row = outbound.reply_send_skipping_ticket(
        thread=thread, author=acme.agent, body="New answer"
    )
    assert client.get(link_in(row.text)).status_code == 200


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-3] + ("abc" if not t.endswith("abc") else "xyz"),  # signature
        lambda t: "x" + t,  # payload
        lambda t: "garbage",
        lambda t: "a:b:c:d",
        lambda t: "%00%ff",
        lambda t: "x" * 2000,
    ],
)
def test_a_forged_link_is_a_friendly_404(acme, inbox, client, mangle):
    token = client_link_token(thread=conversation(acme), email=JANE)
    response = client.get(f"/c/{mangle(token)}/")
    assert response.status_code == 404
    assert b"not valid" in response.content
    assert b"Acme" not in response.content


def test_a_link_signed_for_something_else_opens_nothing(acme, inbox, queue, client):
    thread = conversation(acme)
    ticket = thread.ticket_link.ticket
    tickets.ticket_set_status(ticket=ticket, status=Ticket.Status.RESOLVED, actor=acme.agent)
    assert client.get(f"/c/{csat.csat_token(ticket=ticket)}/").status_code == 404


def test_a_link_for_an_address_not_in_the_thread_opens_nothing(acme, inbox, client):
    thread = conversation(acme)
    assert client.get(page_url(thread, email="eve@evil.test")).status_code == 410


def test_a_link_to_a_deleted_thread_is_404(acme, inbox, client):
    thread = conversation(acme)
    url = page_url(thread)
    thread.delete()
    assert client.get(url).status_code == 404


# --- Replying ------------------------------------------------------------------------


def test_a_reply_goes_through_the_pipeline_once_even_if_posted_twice(acme, inbox, queue, client):
    thread = conversation(acme)
    url = action_url("client:thread-reply", thread)
    form = {"body": "It works now, thank you!", "nonce": "n0nce-abc-123456"}
    first = client.post(url, form)
    second = client.post(url, form)  # a double click, or the browser sending the form again
    assert first.status_code == second.status_code == 302
    [reply] = Message.objects.filter(thread=thread, text__contains="It works now")
    assert reply.direction == "inbound"
    assert reply.from_email == JANE
    assert reply.in_reply_to  # threaded on the conversation's last message
    rows = InboundMail.objects.filter(source="client-page").order_by("id")
    assert [r.status for r in rows] == ["accepted", "duplicate"]
    assert all(r.thread_id == thread.pk for r in rows)
    assert Thread.objects.get(pk=thread.pk).message_count == 3
    assert first["Location"].endswith(f"#m{reply.pk}")
    page = client.get(first["Location"].split("#")[0])
    assert b"It works now, thank you!" in page.content
    assert b"Your message was sent" in page.content
    ticket = Ticket.objects.get()
    assert ticket.events.filter(kind="client_replied").count() == 1


def test_the_same_text_in_a_new_form_is_a_new_message(acme, inbox, client):
    thread = conversation(acme)
    url = action_url("client:thread-reply", thread)
    client.post(url, {"body": "Thanks", "nonce": "first-form-000001"})
    client.post(url, {"body": "Thanks", "nonce": "second-form-00002"})
    assert Message.objects.filter(thread=thread, text__contains="Thanks").count() == 2


def test_a_reply_reopens_a_resolved_ticket_like_a_mail_would(acme, inbox, queue, client):
    thread = conversation(acme)
    ticket = thread.ticket_link.ticket
    tickets.ticket_set_status(ticket=ticket, status=Ticket.Status.RESOLVED, actor=acme.agent)
    client.post(action_url("client:thread-reply", thread), {"body": "Broken again."})
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.reopen_count == 1


def test_an_empty_reply_is_refused_and_nothing_changes(acme, inbox, client):
    thread = conversation(acme)
    response = client.post(action_url("client:thread-reply", thread), {"body": "   "})
    assert response.status_code == 400
    assert b"Write a message first." in response.content
    assert not InboundMail.objects.filter(source="client-page").exists()


def test_a_closed_thread_takes_no_reply_from_the_page(acme, inbox, client):
    thread = conversation(acme)
    Thread.objects.filter(pk=thread.pk).update(status=Thread.Status.CLOSED)
    page = client.get(page_url(thread))
    assert b'name="body"' not in page.content
    response = client.post(action_url("client:thread-reply", thread), {"body": "Hello?"})
    assert response.status_code == 400
    assert not InboundMail.objects.filter(source="client-page").exists()


def test_posts_need_the_csrf_token(acme, inbox):
    thread = conversation(acme)
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(action_url("client:thread-reply", thread), {"body": "Hi"})
    assert response.status_code == 403
    assert not InboundMail.objects.filter(source="client-page").exists()
    page = strict.get(page_url(thread))
    token = strict.cookies["csrftoken"].value
    assert b"csrfmiddlewaretoken" in page.content
    close = action_url("client:thread-close", thread)
    evil = strict.post(close, {"csrfmiddlewaretoken": token}, HTTP_ORIGIN="https://evil.test")
    assert evil.status_code == 403
    # The page sends no Referer, so a browser posts its forms with "Origin: null".
    ok = strict.post(close, {"csrfmiddlewaretoken": token}, HTTP_ORIGIN="null")
    assert ok.status_code == 302
    assert Thread.objects.get(pk=thread.pk).status == Thread.Status.RESOLVED


def test_a_null_origin_without_the_token_is_still_refused(acme, inbox):
    thread = conversation(acme)
    strict = Client(enforce_csrf_checks=True)
    strict.get(page_url(thread))
    response = strict.post(action_url("client:thread-close", thread), HTTP_ORIGIN="null")
    assert response.status_code == 403
    assert Thread.objects.get(pk=thread.pk).status == Thread.Status.OPEN


def test_a_link_is_rate_limited(acme, inbox, client):
    thread = conversation(acme)
    url = action_url("client:thread-reopen", thread)
    codes = [client.post(url).status_code for _ in range(31)]
    assert codes[:30] == [302] * 30
    assert codes[30] == 429


def test_get_is_not_allowed_on_actions(acme, inbox, client):
    thread = conversation(acme)
    response = client.get(action_url("client:thread-close", thread))
    assert response.status_code == 405
    assert Thread.objects.get(pk=thread.pk).status == Thread.Status.OPEN


# --- Closing, reopening, rating --------------------------------------------------------


def test_the_client_closes_and_reopens_their_ticket(acme, inbox, queue, client):
    thread = conversation(acme)
    ticket = thread.ticket_link.ticket
    response = client.post(action_url("client:thread-close", thread), follow=True)
    assert b"marked your request as resolved" in response.content
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.RESOLVED
    event = ticket.events.filter(kind=TicketEvent.Kind.STATUS).latest("id")
    assert event.actor is None
    assert b'data-status="resolved"' in response.content
    assert b"Reopen" in response.content
    client.post(action_url("client:thread-reopen", thread))
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.reopen_count == 1


def test_without_a_ticket_closing_resolves_the_thread(acme, inbox, client):
    thread = conversation(acme)
    client.post(action_url("client:thread-close", thread))
    assert Thread.objects.get(pk=thread.pk).status == Thread.Status.RESOLVED
    client.post(action_url("client:thread-reopen", thread))
    assert Thread.objects.get(pk=thread.pk).status == Thread.Status.OPEN


def test_a_closed_ticket_is_not_reopened_from_the_page(acme, inbox, queue, client):
    thread = conversation(acme)
    ticket = thread.ticket_link.ticket
    tickets.ticket_set_status(ticket=ticket, status=Ticket.Status.CLOSED, actor=acme.agent)
    response = client.post(action_url("client:thread-reopen", thread), follow=True)
    assert b"closed for good" in response.content
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED


def test_the_client_rates_a_resolution_once(acme, inbox, queue, client):
    thread = conversation(acme)
    ticket = thread.ticket_link.ticket
    assert b'name="score"' not in client.get(page_url(thread)).content  # not resolved yet
    tickets.ticket_set_status(ticket=ticket, status=Ticket.Status.RESOLVED, actor=acme.agent)
    assert b'name="score"' in client.get(page_url(thread)).content
    rate = action_url("client:thread-rate", thread)
    response = client.post(rate, {"score": "4", "comment": "Quick and kind"}, follow=True)
    assert b"Thank you for your rating" in response.content
    assert b"You rated our help 4 out of 5" in response.content
    assert b'name="score"' not in response.content
    again = client.post(rate, {"score": "1"}, follow=True)
    assert b"You rated this already" in again.content
    rating = Rating.objects.get()
    assert (rating.score, rating.comment, rating.resolution) == (4, "Quick and kind", 0)
    assert ticket.events.filter(kind="rated").count() == 1


def test_a_rating_out_of_range_or_before_resolution_is_refused(acme, inbox, queue, client):
    thread = conversation(acme)
    ticket = thread.ticket_link.ticket
    rate = action_url("client:thread-rate", thread)
    early = client.post(rate, {"score": "5"}, follow=True)
    assert b"once your request is resolved" in early.content
    tickets.ticket_set_status(ticket=ticket, status=Ticket.Status.RESOLVED, actor=acme.agent)
    for bad in ("9", "0", "x", ""):
        assert client.post(rate, {"score": bad}).status_code == 400
    assert not Rating.objects.exists()


def test_a_new_resolution_can_be_rated_again(acme, inbox, queue, client):
    thread = conversation(acme)
    ticket = thread.ticket_link.ticket
    rate = action_url("client:thread-rate", thread)
    tickets.ticket_set_status(ticket=ticket, status=Ticket.Status.RESOLVED, actor=acme.agent)
    client.post(rate, {"score": "2"})
    client.post(action_url("client:thread-reopen", thread))
    client.post(action_url("client:thread-close", thread))
    client.post(rate, {"score": "5"})
    assert list(Rating.objects.order_by("resolution").values_list("resolution", "score")) == [
        (0, 2),
        (1, 5),
    ]


# --- The desk withdraws the links ----------------------------------------------------


def test_an_agent_revokes_the_client_links(acme, inbox, web, client):
    thread = conversation(acme)
    old = page_url(thread)
    url = f"/acme/threads/{thread.reference}/client-link/revoke/"
    response = web(acme.agent).post(url)
    assert response.status_code == 302
    assert response["Location"] == f"/acme/threads/{thread.reference}/"
    assert Thread.objects.get(pk=thread.pk).client_link_version == 1
    client.logout()
    assert client.get(old).status_code == 410


def test_the_conversation_page_offers_agents_the_withdraw_button(acme, inbox, web):
    thread = conversation(acme)
    action = f'action="/acme/threads/{thread.reference}/client-link/revoke/"'
    assert action in web(acme.agent).get(f"/acme/threads/{thread.reference}/").content.decode()
    assert action not in web(acme.viewer).get(f"/acme/threads/{thread.reference}/").content.decode()


def test_a_viewer_cannot_revoke_and_another_organization_sees_nothing(acme, globex, inbox, web):
    thread = conversation(acme)
    url = f"/acme/threads/{thread.reference}/client-link/revoke/"
    assert web(acme.viewer).post(url).status_code == 403
    assert web(globex.owner).post(url).status_code == 404
    assert (
        web(globex.owner)
        .post(f"/globex/threads/{thread.reference}/client-link/revoke/")
        .status_code
        == 404
    )
    assert web(acme.agent).get(url).status_code == 405
    assert Thread.objects.get(pk=thread.pk).client_link_version == 0


def test_the_absolute_link_uses_the_site_url(acme, inbox, settings):
    settings.SITE_URL = "https://desk.example.com"
    url = client_link_url(thread=conversation(acme), email=JANE)
    assert url.startswith("https://desk.example.com/c/")


def test_a_reply_sent_again_carries_a_fresh_link(
    acme, inbox, client, django_capture_on_commit_callbacks
):
    thread = deliver(make_mail()).thread
    message, row = outbound.reply_send_skipping_ticket(
        thread=thread, author=acme.agent, body="Try again now."
    )
    OutboundMail.objects.filter(pk=row.pk).update(status=OutboundMail.Status.FAILED)
    stale = link_in(row.text)
    client_links_revoke(thread=thread, actor=acme.agent)  # withdrawn before the retry
    assert client.get(stale).status_code == 410

    with django_capture_on_commit_callbacks(execute=True):
        outbound.message_send_again(message=message, actor=acme.agent)

    [mail] = django_mail.outbox
    fresh = link_in(mail.body)
    assert fresh != stale
    assert client.get(fresh).status_code == 200
    assert mail.body.startswith("Try again now.")
