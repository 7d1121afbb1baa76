"""The bell: what notifies a member per their matrix, the paged list, reading, the badge,
preferences and defaults, and that none of it crosses organizations."""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.mail import deliver, make_mail
from threads.models import OutboundMail
from tickets import queues, services
from tickets.models import Ticket
from tickets.notification_mail import notification_mails_send
from tisket.models import Notification, NotificationPreference
from tisket.notifications import services as prefs
from tisket.notifications.selectors import member_matrix

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ticket(acme):
    return services.ticket_create(organization=acme.org, subject="Printer", actor=None)


def kinds(member) -> list[str]:
    return list(Notification.objects.filter(recipient=member).values_list("kind", flat=True))


def later(seconds: int = 301) -> datetime:
    return NOW + timedelta(seconds=seconds)


def test_an_assignment_notifies_the_assignee_and_mails_them_only_if_unread_later(
    acme, ticket, clock
):
    services.ticket_assign(ticket=ticket, assignee=acme.agent, actor=acme.supervisor)
    services.ticket_assign(ticket=ticket, assignee=acme.agent2, actor=acme.agent2)
    notice = Notification.objects.get(recipient=acme.agent)
    by = acme.supervisor.user.get_short_name()
    assert notice.kind == "assigned"
    assert notice.title == f"{ticket.reference} assigned to you by {by}"
    assert notice.url == f"/acme/tickets/{ticket.reference}/"
    assert (notice.email_status, notice.email_due_at) == ("pending", later(300))
    assert kinds(acme.agent2) == []  # who assigned themselves
    assert notification_mails_send(now=later(299)) == 0
    assert notification_mails_send(now=later()) == 1
    mail = OutboundMail.objects.get(kind="notification", to=[acme.agent.user.email])
    assert mail.subject == notice.title and f"/acme/tickets/{ticket.reference}/" in mail.text
    assert notification_mails_send(now=later(600)) == 0  # mailed once


def test_a_member_who_turned_mail_off_gets_the_bell_only(acme, ticket, clock):
    prefs.notification_preferences_set(membership=acme.agent, cells={("assigned", "email"): "off"})
    services.ticket_assign(ticket=ticket, assignee=acme.agent, actor=None)
    assert Notification.objects.get(recipient=acme.agent).email_status == ""
    assert notification_mails_send(now=later()) == 0


def test_a_client_reply_reaches_the_assignee_and_whoever_follows_the_queue(acme, inbox):
    queue = queues.queue_create(
        organization=acme.org, name="Support", actor=None, inboxes=[inbox], members=[acme.agent2]
    )
    prefs.notification_preferences_set(
        membership=acme.agent2, cells={("client_replied", "in_app"): "queues"}
    )
    first = deliver(make_mail(to=inbox.address, message_id="<a@example.com>"))
    ticket = Ticket.objects.get(thread_links__thread=first.thread)
    assert ticket.queue == queue
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
    follower = Notification.objects.get(recipient=acme.agent2, kind="client_replied")
    assert follower.in_app and follower.email_status == ""  # in-app only, as chosen
    assert kinds(acme.supervisor) == []  # not theirs, not their queue


def test_a_new_conversation_reaches_the_queue_when_the_admins_say_so(acme, inbox):
    queues.queue_create(
        organization=acme.org, name="Support", actor=None, inboxes=[inbox], members=[acme.agent]
    )
    prefs.notification_defaults_set(
        organization=acme.org,
        cells={("new_conversation", "in_app"): ("queues", False)},
        actor=acme.admin,
    )
    result = deliver(make_mail(to=inbox.address, message_id="<new@example.com>"))
    notice = Notification.objects.get(kind="new_conversation")
    assert notice.recipient == acme.agent and result.thread.reference in notice.title
    ticket = Ticket.objects.get(thread_links__thread=result.thread)
    assert notice.topic == ticket.reference


def test_a_note_tells_the_assignee_and_a_mention_names_who_it_mentions(acme, ticket):
    services.ticket_assign(ticket=ticket, assignee=acme.agent, actor=acme.agent)
    services.ticket_note_add(
        ticket=ticket,
        body="@agent2 can you look? cc @admin@acme.test and @nobody",
        actor=acme.supervisor,
    )
    assert kinds(acme.agent2) == ["mentioned"]
    assert kinds(acme.admin) == ["mentioned"]
    assert kinds(acme.agent) == ["note"]  # on their ticket, without their name
    assert kinds(acme.supervisor) == []  # the author


def test_a_locked_default_holds_for_everyone_and_a_cell_equal_to_its_default_is_not_stored(
    acme,
):
    prefs.notification_defaults_set(
        organization=acme.org, cells={("client_replied", "email"): ("all", True)}, actor=None
    )
    prefs.notification_preferences_set(
        membership=acme.agent,
        cells={("client_replied", "email"): "off", ("note", "in_app"): "mine"},
    )
    cells = member_matrix(membership=acme.agent)
    assert cells[("client_replied", "email")].scope == "all"
    assert cells[("client_replied", "email")].locked
    assert not NotificationPreference.objects.filter(membership=acme.agent).exists()


def test_only_admins_set_the_defaults_and_through_the_page(acme, web):
    with pytest.raises(Exception, match="Only admins"):
        prefs.notification_defaults_set(
            organization=acme.org, cells={("rating", "email"): ("all", False)}, actor=acme.agent
        )
    assert web(acme.agent).get("/acme/settings/notifications/").status_code == 403
    client = web(acme.admin)
    page = client.get("/acme/settings/notifications/")
    assert page.status_code == 200 and "SLA breach" in page.content.decode()
    form = page.context["form"]
    data = {name: field.initial for name, field in form.fields.items() if field.initial}
    data.update({"rating__email": "mine", "rating__email__locked": "on"})
    assert client.post("/acme/settings/notifications/", data).status_code == 302
    cell = member_matrix(membership=acme.agent)[("rating", "email")]
    assert (cell.scope, cell.locked) == ("mine", True)


def test_the_preferences_page_saves_the_matrix_quiet_hours_and_digest(acme, web):
    client = web(acme.agent)
    page = client.get("/acme/notifications/")
    assert "/accounts/profile/notifications/acme/" in page.content.decode()
    page = client.get("/accounts/profile/notifications/acme/")
    assert page.status_code == 200
    fields = page.context["form"].fields
    assert "off" not in dict(fields["sla_breached__email"].choices)  # its floor is "mine"
    data = {name: field.initial for name, field in fields.items()}
    data = {k: v for k, v in data.items() if v not in (None, False)}
    data.update(
        {
            "client_replied__email": "queues",
            "sla_breached__email": "all",
            "quiet_hours_start": "22:00",
            "quiet_hours_end": "07:00",
            "email_digest": "on",
            "digest_time": "08:30",
        }
    )
    assert client.post("/accounts/profile/notifications/acme/", data).status_code == 302
    acme.agent.refresh_from_db()
    assert (acme.agent.quiet_hours_start, acme.agent.quiet_hours_end) == (time(22), time(7))
    assert acme.agent.email_digest and acme.agent.digest_time == time(8, 30)
    cells = member_matrix(membership=acme.agent)
    assert cells[("client_replied", "email")].scope == "queues"
    assert cells[("sla_breached", "email")].scope == "all"
    half = {**data, "quiet_hours_end": ""}
    refused = client.post("/accounts/profile/notifications/acme/", half)
    assert refused.status_code == 200 and "both a start and an end" in refused.content.decode()


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
    notice.refresh_from_db()
    assert notice.email_status == "skipped"  # read in time: no mail


def _many(member, count: int) -> None:
    Notification.objects.bulk_create(
        Notification(
            organization_id=member.organization_id,
            recipient=member,
            kind="assigned",
            title=f"N{n}",
            created_at=NOW + timedelta(seconds=n),
        )
        for n in range(count)
    )


def test_the_list_pages_through_everything_and_the_badge_stops_at_99(acme, web):
    _many(acme.agent, 120)
    client = web(acme.agent)
    first = client.get("/acme/notifications/")
    assert [n.title for n in first.context["items"]][:2] == ["N119", "N118"]
    assert "Page 1 of 3" in first.content.decode()
    last = client.get("/acme/notifications/?page=3")
    assert [n.title for n in last.context["items"]][-1] == "N0"
    assert len(last.context["items"]) == 20
    assert client.get("/acme/notifications/count/").content == b'<span class="count">99+</span>'
    assert '<span class="count">99+</span>' in first.content.decode()


def test_mark_one_read_stays_on_its_page_and_mark_all_reads_every_page(acme, web):
    _many(acme.agent, 60)
    client = web(acme.agent)
    one = Notification.objects.get(recipient=acme.agent, title="N3")
    stayed = client.post(f"/acme/notifications/{one.pk}/read/", {"stay": "1", "page": "2"})
    assert stayed["Location"] == "/acme/notifications/?page=2"
    one.refresh_from_db()
    assert one.read_at is not None
    client.post("/acme/notifications/")
    assert not Notification.objects.filter(recipient=acme.agent, read_at__isnull=True).exists()


def test_the_list_takes_the_same_queries_for_few_or_many_on_any_page(acme, web):
    client = web(acme.agent)
    _many(acme.agent, 3)
    client.get("/acme/notifications/")
    with CaptureQueriesContext(connection) as few:
        client.get("/acme/notifications/")
    _many(acme.agent, 150)
    with CaptureQueriesContext(connection) as many:
        client.get("/acme/notifications/?page=2")
    assert len(many) == len(few)


def test_nothing_of_the_bell_crosses_organizations(acme, globex, ticket, web):
    services.ticket_assign(ticket=ticket, assignee=acme.agent, actor=None)
    notice = Notification.objects.get(recipient=acme.agent)
    for member in (acme.agent2, globex.agent):
        client = web(member)
        assert client.post(f"/acme/notifications/{notice.pk}/read/").status_code == 404
    outsider = web(globex.admin)
    assert outsider.get("/accounts/profile/notifications/acme/").status_code == 404
    assert outsider.get("/acme/settings/notifications/").status_code == 404
    assert outsider.get("/acme/notifications/").status_code == 404
    assert web(globex.agent).get("/globex/notifications/count/").content == b""
    notice.refresh_from_db()
    assert notice.read_at is None
    # An organization's defaults and scopes reach its own members only.
    prefs.notification_defaults_set(
        organization=acme.org, cells={("client_replied", "in_app"): ("all", False)}, actor=None
    )
    assert member_matrix(membership=globex.agent)[("client_replied", "in_app")].scope == "mine"
    services.ticket_note_add(ticket=ticket, body="@agent@globex.test hello", actor=acme.admin)
    assert not Notification.objects.filter(organization=globex.org).exists()


def test_a_rating_tells_the_assignee_in_the_app(acme, ticket):
    from tickets import csat

    services.ticket_assign(ticket=ticket, assignee=acme.agent, actor=None)
    services.ticket_set_status(ticket=ticket, status=Ticket.Status.RESOLVED, actor=acme.agent)
    csat.csat_record(token=csat.csat_token(ticket=ticket), score=4, comment="Quick")
    notice = Notification.objects.get(kind="rating")
    assert notice.recipient == acme.agent and notice.title.endswith("rated 4/5")
    assert (notice.body, notice.email_status) == ("Quick", "")  # by mail only if one asks


def test_with_agents_kept_to_their_queues_all_means_all_they_may_see(acme, ticket):
    acme.org.restrict_agents_to_queues = True
    acme.org.save(update_fields=["restrict_agents_to_queues"])
    queue = queues.queue_create(organization=acme.org, name="Billing", actor=None)
    services.ticket_update(ticket=ticket, actor=None, queue=queue)
    for member in (acme.agent, acme.agent2):
        prefs.notification_preferences_set(membership=member, cells={("note", "in_app"): "all"})
    queues.queue_set_members(queue=queue, members=[acme.agent2])
    services.ticket_note_add(ticket=ticket, body="Invoice attached", actor=acme.supervisor)
    assert kinds(acme.agent2) == ["note"]
    assert kinds(acme.agent) == []  # not their queue, not theirs: they cannot open it


def test_who_an_event_reaches_takes_the_same_queries_for_one_ticket_or_many(
    acme, django_assert_max_num_queries
):
    from tickets.notifications import audience

    tickets = [
        services.ticket_create(
            organization=acme.org, subject=f"T{n}", actor=None, assignee=acme.agent
        )
        for n in range(12)
    ]
    for member in (acme.agent2, acme.viewer):
        prefs.notification_preferences_set(
            membership=member, cells={("sla_breached", "in_app"): "all"}
        )
    for batch in (tickets[:1], tickets):
        with django_assert_max_num_queries(4):
            reached = audience(event="sla_breached", tickets=batch)
        assert {m.pk for m, _ in reached[batch[0].pk]} == {
            acme.agent.pk, acme.agent2.pk, acme.viewer.pk,
            acme.supervisor.pk, acme.admin.pk, acme.owner.pk,
        }  # fmt: skip
