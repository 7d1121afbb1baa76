"""A supervisor's SLA override, and an incident's tickets following its clock."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.conftest import api_client
from tests.factories import always_open_policy
from tickets import services, workflows
from tickets.models import SlaBreach, Ticket, TicketEvent
from tickets.sla import sla_recompute_stale, sla_state, sla_sweep
from tickets.sla.override import SlaOverrideError, ticket_sla_override
from tisket.errors import NotAllowedError

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
TARGETS = {
    "normal": {
        "first_response_minutes": 60,
        "next_response_minutes": 120,
        "resolution_minutes": 480,
    },
}


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def policy(acme, clock):
    return always_open_policy(acme.org, TARGETS)


def minutes(n: float) -> datetime:
    return START + timedelta(minutes=n)


def new(acme, subject: str = "Printer") -> Ticket:
    return services.ticket_create(
        organization=acme.org, subject=subject, actor=None, assignee=acme.agent
    )


def fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


# --- The override --------------------------------------------------------------------------------


def test_a_supervisor_moves_the_deadline_with_a_reason_and_the_sweep_honours_it(
    acme, policy, clock
):
    ticket = new(acme)
    ticket_sla_override(
        ticket=ticket,
        due_at=minutes(1000),
        reason="Client agreed  to\ntomorrow",
        actor=acme.supervisor,
    )
    ticket = fresh(ticket)
    assert ticket.first_response_due_at == ticket.resolution_due_at == minutes(1000)
    assert ticket.sla_due_at == minutes(1000) and ticket.sla_warn_at == minutes(750)
    assert ticket.sla_override_reason == "Client agreed to tomorrow"
    event = ticket.events.get(kind=TicketEvent.Kind.SLA_OVERRIDDEN)
    assert event.actor == acme.supervisor
    assert event.data == {
        "old": minutes(60).isoformat(),
        "new": minutes(1000).isoformat(),
        "reason": "Client agreed to tomorrow",
    }
    clock.move_to(minutes(480))  # the policy's deadlines pass: nothing happens
    assert (sla_sweep().warnings, sla_sweep().breaches) == (0, 0)
    assert sla_state(fresh(ticket)) == "on_track"
    clock.move_to(minutes(750))
    assert sla_sweep().warnings == 2  # first response and resolution, at the new 75 %
    clock.move_to(minutes(1000))
    assert sla_sweep().breaches == 2
    assert set(SlaBreach.objects.values_list("due_at", flat=True)) == {minutes(1000)}


def test_clearing_the_override_returns_to_the_policy_and_a_reopen_forgets_it(acme, policy, clock):
    ticket = new(acme)
    ticket_sla_override(ticket=ticket, due_at=minutes(30), reason="VIP", actor=acme.admin)
    assert fresh(ticket).sla_due_at == minutes(30)
    ticket_sla_override(ticket=ticket, due_at=None, reason="Not VIP after all", actor=acme.owner)
    ticket = fresh(ticket)
    assert ticket.sla_due_at == minutes(60) and ticket.sla_override_due_at is None
    ticket_sla_override(ticket=ticket, due_at=minutes(900), reason="later", actor=acme.supervisor)
    services.ticket_set_status(ticket=fresh(ticket), status="resolved", actor=acme.agent)
    services.ticket_set_status(ticket=fresh(ticket), status="open", actor=acme.agent)
    ticket = fresh(ticket)
    assert ticket.sla_override_due_at is None and ticket.resolution_due_at == minutes(480)


def test_a_policy_change_keeps_the_override(acme, policy, clock):
    from sla import services as sla_services

    ticket = new(acme)
    ticket_sla_override(ticket=ticket, due_at=minutes(2000), reason="agreed", actor=acme.admin)
    sla_services.policy_update(policy=policy, targets={"normal": {"first_response_minutes": 5}})
    assert sla_recompute_stale() == 1
    assert fresh(ticket).sla_due_at == minutes(2000)


def test_an_override_needs_a_supervisor_a_reason_a_future_time_and_an_open_ticket(
    acme, policy, clock
):
    ticket = new(acme)
    for member in (acme.agent, acme.viewer):
        with pytest.raises(NotAllowedError):
            ticket_sla_override(ticket=ticket, due_at=minutes(90), reason="x", actor=member)
    with pytest.raises(SlaOverrideError, match="why"):
        ticket_sla_override(ticket=ticket, due_at=minutes(90), reason=" \n ", actor=acme.admin)
    with pytest.raises(SlaOverrideError, match="future"):
        ticket_sla_override(ticket=ticket, due_at=minutes(-1), reason="x", actor=acme.admin)
    with pytest.raises(SlaOverrideError, match="no overridden"):
        ticket_sla_override(ticket=ticket, due_at=None, reason="x", actor=acme.admin)
    services.ticket_set_status(ticket=ticket, status="closed", actor=acme.agent)
    with pytest.raises(SlaOverrideError, match="closed"):
        ticket_sla_override(ticket=ticket, due_at=minutes(90), reason="x", actor=acme.admin)
    assert not TicketEvent.objects.filter(kind=TicketEvent.Kind.SLA_OVERRIDDEN).exists()


def test_a_supervisor_of_another_organization_may_not_override(acme, globex, policy, clock):
    ticket = new(acme)
    with pytest.raises(NotAllowedError):
        ticket_sla_override(ticket=ticket, due_at=minutes(90), reason="x", actor=globex.owner)
    assert fresh(ticket).sla_override_due_at is None


def test_the_api_overrides_for_supervisors_and_refuses_agents_and_strangers(
    acme, globex, policy, clock
):
    ticket = new(acme)
    url = f"/api/v1/tickets/{ticket.reference}/sla-override/"
    body = {"due_at": minutes(600).isoformat(), "reason": "Waiting for the vendor"}
    assert api_client(acme.agent).post(url, body, format="json").status_code == 403
    assert api_client(globex.owner).post(url, body, format="json").status_code == 404
    bad = api_client(acme.supervisor).post(url, {"due_at": body["due_at"]}, format="json")
    assert bad.status_code == 400 and "reason" in bad.content.decode()
    response = api_client(acme.supervisor).post(url, body, format="json")
    assert response.status_code == 200, response.content
    sla = response.json()["sla"]
    assert sla["overridden_due_at"].startswith("2026-03-02T19:00")
    assert sla["override_reason"] == "Waiting for the vendor"
    assert sla["resolution_due_at"] == sla["overridden_due_at"]


# --- Incidents: the tickets follow the incident's clock -----------------------------------------


def test_an_incidents_tickets_follow_its_clock_and_never_breach_on_their_own(acme, policy, clock):
    incident, child = new(acme, "Outage"), new(acme, "Cannot log in")
    clock.move_to(minutes(30))
    late = new(acme, "Also down")  # its own first response would be due at 90
    for ticket in (child, late):
        workflows.incident_link(parent=incident, child=ticket, actor=acme.agent)
    for ticket in (child, late):
        ticket = fresh(ticket)
        assert ticket.first_response_due_at == minutes(60) == ticket.sla_due_at
        assert ticket.first_response_alert_at is None and ticket.resolution_alert_at is None
    ticket_sla_override(ticket=incident, due_at=minutes(300), reason="vendor", actor=acme.admin)
    assert fresh(late).sla_due_at == minutes(300)  # an override of the incident moves them too
    with pytest.raises(SlaOverrideError, match="incident"):
        ticket_sla_override(ticket=late, due_at=minutes(900), reason="x", actor=acme.admin)
    clock.move_to(minutes(300))
    result = sla_sweep()
    assert result.breaches == 2  # the incident's two clocks
    assert set(SlaBreach.objects.values_list("ticket_id", flat=True)) == {incident.pk}
    assert sla_state(fresh(late)) == "breached"  # shown as the incident's state


def test_a_ticket_out_of_its_incident_runs_its_own_clock_again(acme, policy, clock):
    incident, child = new(acme, "Outage"), new(acme, "Cannot log in")
    ticket_sla_override(ticket=incident, due_at=minutes(600), reason="vendor", actor=acme.admin)
    workflows.incident_link(parent=incident, child=child, actor=acme.agent)
    assert fresh(child).sla_due_at == minutes(600)
    workflows.incident_unlink(parent=incident, child=fresh(child), actor=acme.agent)
    child = fresh(child)
    assert child.sla_due_at == minutes(60) and child.first_response_alert_at == minutes(45)
    clock.move_to(minutes(60))
    assert sla_sweep().breaches == 1
    assert SlaBreach.objects.get().ticket_id == child.pk


def test_merging_an_incident_hands_its_tickets_to_the_survivors_clock(acme, policy, clock):
    keep, duplicate, child = new(acme, "keep"), new(acme, "dup"), new(acme, "child")
    workflows.incident_link(parent=duplicate, child=child, actor=None)
    ticket_sla_override(ticket=keep, due_at=minutes(700), reason="agreed", actor=acme.admin)
    workflows.ticket_merge(source=duplicate, target=keep, actor=acme.agent)
    child = fresh(child)
    assert child.parent_id == keep.pk and child.sla_due_at == minutes(700)


def test_tickets_of_a_sub_incident_follow_the_top_incident(acme, policy, clock):
    top, middle, leaf = new(acme, "top"), new(acme, "middle"), new(acme, "leaf")
    workflows.incident_link(parent=middle, child=leaf, actor=None)
    workflows.incident_link(parent=top, child=middle, actor=None)
    ticket_sla_override(ticket=top, due_at=minutes(800), reason="vendor", actor=acme.admin)
    assert fresh(middle).sla_due_at == fresh(leaf).sla_due_at == minutes(800)
    assert fresh(leaf).resolution_alert_at is None


def test_an_incidents_tickets_are_paused_while_the_incident_waits_on_its_customer(
    acme, policy, clock
):
    incident, child = new(acme, "Outage"), new(acme, "Cannot log in")
    workflows.incident_link(parent=incident, child=child, actor=acme.agent)
    clock.move_to(minutes(10))
    services.ticket_set_status(ticket=incident, status="waiting_on_customer", actor=acme.agent)
    assert sla_state(fresh(child)) == "paused" and fresh(child).sla_paused_at == minutes(10)
    clock.move_to(minutes(20))
    grouped_late = new(acme, "Also down")  # grouped while the incident is paused: paused too
    workflows.incident_link(parent=incident, child=grouped_late, actor=acme.agent)
    assert sla_state(fresh(grouped_late)) == "paused"
    clock.move_to(minutes(40))
    services.ticket_set_status(ticket=fresh(incident), status="open", actor=acme.agent)
    for ticket in (child, grouped_late):
        ticket = fresh(ticket)
        assert ticket.sla_paused_at is None and sla_state(ticket) == "on_track"
        assert ticket.sla_due_at == fresh(incident).sla_due_at == minutes(90)  # 30 paused


def test_a_paused_ticket_grouped_under_a_running_incident_runs_and_pauses_again_alone(
    acme, policy, clock
):
    incident, child = new(acme, "Outage"), new(acme, "Cannot log in")
    services.ticket_set_status(ticket=child, status="waiting_on_customer", actor=acme.agent)
    workflows.incident_link(parent=incident, child=fresh(child), actor=acme.agent)
    assert sla_state(fresh(child)) == "on_track"  # the incident's clock runs
    clock.move_to(minutes(10))
    workflows.incident_unlink(parent=incident, child=fresh(child), actor=acme.agent)
    assert sla_state(fresh(child)) == "paused"  # it still waits on its own customer
