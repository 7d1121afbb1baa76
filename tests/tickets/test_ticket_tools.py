"""The ticket tools in the browser: merge, link a conversation, incidents, the SLA override."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.mail import deliver, deliver_without_ticket, make_mail
from tickets import selectors, services, workflows
from tickets.models import Ticket, TicketEvent, TicketThread


def mailed(acme, subject: str) -> Ticket:
    """A conversation by mail, with the ticket it opens."""
    thread = deliver(make_mail(subject=subject)).thread
    return selectors.ticket_for_thread(organization=acme.org, thread_id=thread.pk)


def new(acme, subject: str) -> Ticket:
    return services.ticket_create(organization=acme.org, subject=subject, actor=None)


def flash_of(response) -> str:
    return " ".join(str(m) for m in response.wsgi_request._messages)


def test_the_panel_offers_the_tools_and_the_override_to_whom_may_use_them(acme, inbox, web):
    ticket = mailed(acme, "Printer on fire")
    url = f"/acme/tickets/{ticket.reference}/"
    supervisor = web(acme.supervisor).get(url, follow=True).content.decode()
    assert "Merge into ticket" in supervisor and "Group under incident" in supervisor
    assert "Override the deadline" in supervisor
    agent = web(acme.agent).get(url, follow=True).content.decode()
    assert "Merge into ticket" in agent and "Override the deadline" not in agent
    viewer = web(acme.viewer).get(url, follow=True).content.decode()
    assert "Merge into ticket" not in viewer


def test_merging_two_conversations_tickets_moves_the_conversation(acme, inbox, web):
    keep, duplicate = mailed(acme, "Login broken"), mailed(acme, "Still cannot log in")
    thread = TicketThread.objects.get(ticket=duplicate).thread
    response = web(acme.agent).post(
        f"/acme/tickets/{duplicate.reference}/merge/", {"into": keep.reference.lower()}
    )
    assert response.status_code == 302
    first = TicketThread.objects.filter(ticket=keep).order_by("id").first().thread
    assert response["Location"] == f"/acme/threads/{first.reference}/"
    assert TicketThread.objects.get(thread=thread).ticket == keep
    duplicate.refresh_from_db()
    assert duplicate.merged_into == keep and duplicate.status == Ticket.Status.CLOSED


@pytest.mark.parametrize(
    ("into", "error"),
    [("", "Give a ticket reference"), ("TKT-ACME-999", "no ticket TKT-ACME-999")],
)
def test_a_merge_into_nothing_says_why_and_changes_nothing(acme, inbox, web, into, error):
    ticket = mailed(acme, "Login broken")
    response = web(acme.agent).post(f"/acme/tickets/{ticket.reference}/merge/", {"into": into})
    assert response.status_code == 302 and error in flash_of(response)
    ticket.refresh_from_db()
    assert ticket.merged_into is None and ticket.status == Ticket.Status.NEW


def test_another_organizations_ticket_is_no_target_and_theirs_are_404(
    acme, globex, inbox, globex_inbox, web
):
    ours = mailed(acme, "Ours")
    theirs = new(globex, "Theirs")
    client = web(acme.owner)
    response = client.post(f"/acme/tickets/{ours.reference}/merge/", {"into": theirs.reference})
    assert "no ticket" in flash_of(response)
    response = client.post(
        f"/acme/tickets/{ours.reference}/incident/", {"incident": theirs.reference}
    )
    assert "no ticket" in flash_of(response)
    for action, data in [
        ("merge/", {"into": ours.reference}),
        ("link/", {"thread": "THD-ACME-001"}),
        ("incident/", {"incident": ours.reference}),
        ("incident/leave/", {}),
        ("sla-override/", {"due_at": "2030-01-01T10:00", "reason": "x"}),
    ]:
        for slug in ("acme", "globex"):
            url = f"/{slug}/tickets/{theirs.reference}/{action}"
            assert client.post(url, data).status_code == 404, url
    assert not theirs.events.exclude(kind="created").exists()


def test_linking_a_conversation_without_a_ticket_and_refusing_one_that_has_one(acme, inbox, web):
    ticket = new(acme, "Outage follow-up")
    loose = deliver_without_ticket(make_mail(subject="Loose")).thread
    client = web(acme.agent)
    response = client.post(f"/acme/tickets/{ticket.reference}/link/", {"thread": loose.reference})
    assert response["Location"] == f"/acme/threads/{loose.reference}/"
    assert TicketThread.objects.get(thread=loose).ticket == ticket
    other = mailed(acme, "Has its own")
    owned = TicketThread.objects.get(ticket=other).thread
    response = client.post(f"/acme/tickets/{ticket.reference}/link/", {"thread": owned.reference})
    assert f"already belongs to {other.reference}. To bring it here, merge" in flash_of(response)
    assert TicketThread.objects.get(thread=owned).ticket == other


def test_grouping_under_an_incident_and_out_again(acme, inbox, web):
    incident, ticket = new(acme, "Mail outage"), mailed(acme, "No mail")
    client = web(acme.agent)
    response = client.post(
        f"/acme/tickets/{ticket.reference}/incident/", {"incident": incident.reference}
    )
    assert "part of the incident" in flash_of(response)
    ticket.refresh_from_db()
    assert ticket.parent == incident
    page = client.get(response["Location"]).content.decode()
    assert (
        "Follows the clock of its incident" in page
        and f"Take out of incident {incident.reference}" in page
    )
    response = client.post(f"/acme/tickets/{ticket.reference}/incident/leave/")
    ticket.refresh_from_db()
    assert ticket.parent is None
    response = client.post(f"/acme/tickets/{ticket.reference}/incident/leave/")
    assert "part of no incident" in flash_of(response)


def test_a_supervisor_overrides_the_deadline_in_the_organizations_time_and_agents_may_not(
    acme, inbox, web
):
    acme.org.timezone = "Europe/Paris"
    acme.org.save(update_fields=["timezone"])
    ticket = mailed(acme, "VIP")
    url = f"/acme/tickets/{ticket.reference}/sla-override/"
    data = {"due_at": "2099-06-01T17:30", "reason": "Agreed with the client by phone"}
    assert web(acme.agent).post(url, data).status_code == 403
    response = web(acme.supervisor).post(url, {"due_at": "2099-06-01T17:30", "reason": ""})
    assert "Say why" in flash_of(response)
    response = web(acme.supervisor).post(url, {"due_at": "tomorrow", "reason": "x"})
    assert "date and time" in flash_of(response)
    response = web(acme.supervisor).post(url, data | {"reason": "<script>alert(1)</script>"})
    assert "SLA deadline changed." in flash_of(response)
    page = web(acme.supervisor).get(response["Location"]).content.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    response = web(acme.supervisor).post(url, data)
    ticket.refresh_from_db()
    assert ticket.sla_override_due_at == datetime(
        2099, 6, 1, 17, 30, tzinfo=ZoneInfo("Europe/Paris")
    )
    page = web(acme.supervisor).get(response["Location"]).content.decode()
    assert "Deadline set by a supervisor" in page and "Agreed with the client by phone" in page
    assert "set the SLA deadline to 01 Jun 2099, 15:30 UTC" in page  # the timeline
    response = web(acme.supervisor).post(url, {"clear": "1", "reason": "Back to normal"})
    ticket.refresh_from_db()
    assert ticket.sla_override_due_at is None
    assert ticket.events.filter(kind=TicketEvent.Kind.SLA_OVERRIDDEN).count() == 3


def test_the_incidents_page_lists_each_incident_with_its_tickets_in_constant_queries(
    acme, inbox, web, django_assert_max_num_queries
):
    client = web(acme.agent)

    def grouped(count: int) -> None:
        incident = new(acme, f"Outage {count}")
        for n in range(count):
            workflows.incident_link(parent=incident, child=new(acme, f"hit {n}"), actor=None)

    grouped(1)
    with django_assert_max_num_queries(20) as few:
        assert client.get("/acme/incidents/").status_code == 200
    for size in (3, 4, 5):
        grouped(size)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get("/acme/incidents/").content.decode()
    assert html.count('class="card incident"') == 4
    assert "Outage 5" in html and "hit 4" in html and "0 open of" not in html
    resolved = Ticket.objects.get(subject="Outage 1")
    services.ticket_set_status(ticket=resolved, status="resolved", actor=acme.agent)
    assert "Outage 1" not in client.get("/acme/incidents/").content.decode()
    assert "Outage 1" in client.get("/acme/incidents/?all=1").content.decode()
