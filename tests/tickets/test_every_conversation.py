"""Every conversation has its ticket: mail to any inbox, an agent's first message, an auto-reply."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.conftest import api_client
from tests.mail import deliver, make_mail
from threads.models import Thread
from tickets import queues
from tickets.conversations import conversation_start, queue_default
from tickets.models import Queue, Ticket, TicketThread
from tisket.errors import ConflictError
from tisket.models import Organization


def ticket_of(thread: Thread) -> Ticket | None:
    link = TicketThread.objects.filter(thread=thread).select_related("ticket").first()
    return link.ticket if link else None


def test_mail_to_an_inbox_in_no_queue_opens_its_ticket_in_the_default_queue(acme, inbox):
    result = deliver(make_mail())
    ticket = ticket_of(result.thread)
    assert ticket is not None
    assert ticket.queue == Queue.objects.get(organization=acme.org, is_default=True)
    assert ticket.queue.name == "General"
    assert ticket.created_via == Ticket.Via.EMAIL


def test_mail_to_an_inbox_an_admin_routed_opens_its_ticket_in_that_queue(acme, inbox):
    sales = queues.queue_create(
        organization=acme.org, name="Sales", actor=acme.admin, inboxes=[inbox]
    )
    assert ticket_of(deliver(make_mail()).thread).queue == sales


def test_an_inbox_made_through_the_api_feeds_the_default_queue(acme):
    response = api_client(acme.admin).post("/api/v1/inboxes/", {"name": "billing"}, format="json")
    assert response.status_code == 201, response.content
    result = deliver(make_mail(to="billing.acme@in.tisket.test"))
    assert ticket_of(result.thread).queue.is_default


def test_an_auto_reply_thread_gets_a_ticket_too(acme, inbox):
    result = deliver(make_mail(headers={"Auto-Submitted": "auto-replied"}, subject="Out of office"))
    assert result.message.is_automated
    assert ticket_of(result.thread) is not None


def test_a_conversation_an_agent_starts_has_its_ticket_assigned_to_them(acme, inbox, smtp):
    thread, ticket, message, _ = conversation_start(
        inbox=inbox, author=acme.agent, to=["jane@client.test"], subject="Your order", body="Hi"
    )
    assert ticket_of(thread) == ticket
    ticket.refresh_from_db()
    assert ticket.assignee == acme.agent
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.first_responded_at == message.created_at
    assert ticket.queue.is_default


def test_a_conversation_started_from_the_page_and_the_api_has_a_ticket(acme, inbox, web, smtp):
    response = web(acme.agent).post(
        reverse("tickets:thread-new", kwargs={"org_slug": "acme"}),
        {"inbox": inbox.pk, "to": "jane@client.test", "subject": "Hello", "body": "Hi"},
    )
    assert response.status_code == 302
    api = api_client(acme.agent).post(
        "/api/v1/threads/",
        {"to": ["joe@client.test"], "subject": "Hello", "body": "Hi"},
        format="json",
    )
    assert api.status_code == 201, api.content
    threads = Thread.objects.filter(organization=acme.org)
    assert threads.count() == 2
    assert all(ticket_of(t) is not None for t in threads)
    assert ticket_of(threads.get(reference=api.json()["reference"])).created_via == "api"


def test_org_create_makes_the_default_queue(db):
    call_command("org_create", "initech", "--name", "Initech", "--owner", "b@i.test", "--no-input")
    organization = Organization.objects.get(slug="initech")
    assert list(
        Queue.objects.filter(organization=organization).values_list("name", "is_default")
    ) == [("General", True)]


def test_the_default_queue_is_one_per_organization_and_takes_a_free_name(acme, globex):
    queues.queue_create(organization=acme.org, name="General", actor=acme.admin)
    first = queue_default(organization=acme.org)
    assert (first.name, first.is_default) == ("General 2", True)
    assert queue_default(organization=acme.org) == first
    assert queue_default(organization=globex.org).organization == globex.org


def test_the_default_queue_cannot_be_deleted(acme, web):
    queue = queue_default(organization=acme.org)
    with pytest.raises(ConflictError):
        queues.queue_delete(queue=queue)
    api = api_client(acme.admin).delete(f"/api/v1/queues/{queue.pk}/")
    assert api.status_code == 409
    page = web(acme.admin).post(
        reverse("settings:queue-delete", kwargs={"org_slug": "acme", "queue": queue.pk}),
        follow=True,
    )
    assert "is the default queue" in page.content.decode()
    assert Queue.objects.filter(pk=queue.pk).exists()


def test_an_agent_closes_a_ticketless_thread_without_writing(acme, inbox, web):
    thread = deliver(make_mail()).thread
    TicketThread.objects.filter(thread=thread).delete()  # a conversation from before
    client = web(acme.agent)
    page = client.get(
        reverse("tickets:thread", kwargs={"org_slug": "acme", "thread": thread.reference})
    )
    body = page.content.decode()
    assert "its inbox is in no queue" not in body
    assert "Open a ticket" in body
    response = client.post(
        reverse("tickets:thread-status", kwargs={"org_slug": "acme", "thread": thread.reference}),
        {"status": "closed"},
    )
    assert response.status_code == 302
    thread.refresh_from_db()
    assert thread.status == Thread.Status.CLOSED
    assert not thread.messages.filter(direction="outbound").exists()
    opened = client.post(
        reverse(
            "tickets:thread-ticket-open", kwargs={"org_slug": "acme", "thread": thread.reference}
        )
    )
    assert opened.status_code == 302
    assert ticket_of(thread) is not None


def test_a_viewer_cannot_set_a_threads_status_and_another_org_gets_404(acme, globex, inbox, web):
    thread = deliver(make_mail()).thread
    url = reverse("tickets:thread-status", kwargs={"org_slug": "acme", "thread": thread.reference})
    assert web(acme.viewer).post(url, {"status": "closed"}).status_code == 403
    other = reverse(
        "tickets:thread-status", kwargs={"org_slug": "globex", "thread": thread.reference}
    )
    assert web(globex.admin).post(other, {"status": "closed"}).status_code == 404
