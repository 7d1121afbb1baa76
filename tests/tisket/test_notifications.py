"""The bell: what notifies a member, the list, marking read, and mail on or off."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.mail import deliver, make_mail
from threads.models import OutboundMail
from tickets import services
from tickets.models import Ticket
from tisket.models import Notification


@pytest.fixture
def ticket(acme):
    return services.ticket_create(organization=acme.org, subject="Printer", actor=None)


def kinds(member) -> list[str]:
    return list(Notification.objects.filter(recipient=member).values_list("kind", flat=True))


def test_an_assignment_notifies_the_assignee_but_not_who_assigned_themselves(acme, ticket):
    services.ticket_assign(ticket=ticket, assignee=acme.agent, actor=acme.supervisor)
    services.ticket_assign(ticket=ticket, assignee=acme.agent2, actor=acme.agent2)
    notice = Notification.objects.get(recipient=acme.agent)
    assert notice.kind == "assigned"
    by = acme.supervisor.user.get_short_name()
    assert notice.title == f"{ticket.reference} assigned to you by {by}"
    assert notice.url == f"/acme/tickets/{ticket.reference}/"
    assert kinds(acme.agent2) == []
    mail = OutboundMail.objects.get(kind="notification", to=[acme.agent.user.email])
    assert mail.subject == notice.title and f"/acme/tickets/{ticket.reference}/" in mail.text


def test_a_member_who_turned_mail_off_gets_the_bell_only(acme, ticket):
    acme.agent.email_notifications = False
    acme.agent.save()
    services.ticket_assign(ticket=ticket, assignee=acme.agent, actor=None)
    assert kinds(acme.agent) == ["assigned"]
    assert not OutboundMail.objects.filter(kind="notification").exists()


def test_a_client_reply_notifies_the_assignee(acme, inbox):
    services.queue_create(organization=acme.org, name="Support", actor=None, inboxes=[inbox])
    first = deliver(make_mail(to=inbox.address, message_id="<a@example.com>"))
    ticket = Ticket.objects.get(thread_links__thread=first.thread)
    services.ticket_assign(ticket=ticket, assignee=acme.agent, actor=acme.agent)
    deliver(
        make_mail(
            to=inbox.address,
            message_id="<b@example.com>",
            subject=f"Re: [{first.thread.reference}] x",
            body="Any news?",
        )
    )
    notice = Notification.objects.get(recipient=acme.agent, kind="client_replied")
    # The conversation's reference, the one the client has: the ticket's would add nothing.
    assert first.thread.reference in notice.title and "Any news?" in notice.body


def test_a_mention_in_a_note_notifies_the_member_named(acme, ticket):
    services.ticket_note_add(
        ticket=ticket,
        body="@agent2 can you look? cc @admin@acme.test and @nobody",
        actor=acme.agent,
    )
    assert kinds(acme.agent2) == ["mentioned"]
    assert kinds(acme.admin) == ["mentioned"]
    assert kinds(acme.agent) == []  # the author


def test_the_list_marks_read_and_follows_the_link(acme, ticket, web):
    services.ticket_assign(ticket=ticket, assignee=acme.agent, actor=None)
    client = web(acme.agent)
    page = client.get("/acme/notifications/").content.decode()
    assert "assigned to you" in page
    assert (
        client.get("/acme/notifications/count/").content.decode() == '<span class="count">1</span>'
    )
    notice = Notification.objects.get(recipient=acme.agent)
    followed = client.post(f"/acme/notifications/{notice.pk}/read/")
    assert followed.status_code == 302 and followed["Location"] == notice.url
    assert client.get("/acme/notifications/count/").content == b""


def test_mark_all_read_and_the_mail_switch(acme, ticket, web):
    services.ticket_assign(ticket=ticket, assignee=acme.agent, actor=None)
    services.ticket_note_add(ticket=ticket, body="@agent see this", actor=acme.agent2)
    client = web(acme.agent)
    client.post("/acme/notifications/")
    assert not Notification.objects.filter(recipient=acme.agent, read_at__isnull=True).exists()
    client.post("/acme/notifications/", {"email_notifications": "off"})
    acme.agent.refresh_from_db()
    assert acme.agent.email_notifications is False


def test_nobody_reads_or_follows_someone_elses_notification(acme, ticket, web):
    services.ticket_assign(ticket=ticket, assignee=acme.agent, actor=None)
    notice = Notification.objects.get(recipient=acme.agent)
    response = web(acme.agent2).post(f"/acme/notifications/{notice.pk}/read/")
    assert response.status_code == 404
    notice.refresh_from_db()
    assert notice.read_at is None


def test_the_list_takes_the_same_queries_for_few_or_many(acme, web):
    client = web(acme.agent)
    for n in range(2):
        ticket = services.ticket_create(organization=acme.org, subject=f"T{n}", actor=None)
        services.ticket_assign(ticket=ticket, assignee=acme.agent, actor=None)
    client.get("/acme/notifications/")
    with CaptureQueriesContext(connection) as few:
        client.get("/acme/notifications/")
    for n in range(2, 25):
        ticket = services.ticket_create(organization=acme.org, subject=f"T{n}", actor=None)
        services.ticket_assign(ticket=ticket, assignee=acme.agent, actor=None)
    with CaptureQueriesContext(connection) as many:
        client.get("/acme/notifications/")
    assert len(many) == len(few)
