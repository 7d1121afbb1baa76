"""Agent groups in the SLA reports: a grouped agent's figures cover the tickets they see."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.conftest import api_client
from tests.factories import always_open_policy
from tickets import queues, services
from tickets.sla import reports, sla_sweep
from tisket.models import Organization

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
DAY = NOW.date()


@pytest.fixture
def grouped(acme):
    """Technical (acme.agent's): 2 tickets answered in 20 min. Billing (agent2's): 3 answered
    in 90 min, one of them assigned to acme.agent. The switch is on."""
    always_open_policy(
        acme.org, {"normal": {"first_response_minutes": 60, "resolution_minutes": 600}}
    )
    technical = queues.queue_create(
        organization=acme.org, name="Technical", actor=None, members=[acme.agent]
    )
    billing = queues.queue_create(
        organization=acme.org, name="Billing", actor=None, members=[acme.agent2]
    )
    plan = [(technical, None, 20), (technical, None, 20)]
    plan += [(billing, acme.agent2, 90), (billing, acme.agent2, 90), (billing, acme.agent, 90)]
    for n, (queue, assignee, minutes) in enumerate(plan):
        with time_machine.travel(NOW - timedelta(hours=n + 2), tick=False):
            ticket = services.ticket_create(
                organization=acme.org,
                subject=f"T{n}",
                actor=None,
                queue=queue,
                assignee=assignee,
                round_robin=False,
            )
        ticket.first_responded_at = ticket.created_at + timedelta(minutes=minutes)
        ticket.save(update_fields=["first_responded_at"])
    with time_machine.travel(NOW, tick=False):
        sla_sweep()
    Organization.objects.filter(pk=acme.org.pk).update(restrict_agents_to_queues=True)
    acme.org.refresh_from_db()
    for member in (acme.agent, acme.supervisor):
        member.organization = acme.org
    return acme


def _by_queue(member) -> dict:
    rows = reports.sla_metrics(
        organization=member.organization, since=DAY, until=DAY, group_by="queue", member=member
    )
    return {row["queue"]: row["tickets"] for row in rows}


def test_a_grouped_agents_metrics_cover_their_queues_and_their_own_tickets(grouped):
    assert _by_queue(grouped.agent) == {"Technical": 2, "Billing": 1}
    assert _by_queue(grouped.supervisor) == {"Technical": 2, "Billing": 3}


def test_a_grouped_agents_summary_counts_the_open_tickets_they_see(grouped):
    with time_machine.travel(NOW, tick=False):
        mine = reports.sla_summary(organization=grouped.org, member=grouped.agent)
        everyone = reports.sla_summary(organization=grouped.org, member=grouped.supervisor)
    assert sum(mine["total"].values()) == 3 and sum(everyone["total"].values()) == 5
    assert {row["agent"] for row in mine["by_agent"]} == {None, grouped.agent.user.email}


def test_without_the_switch_every_agent_sees_the_whole_organization(grouped):
    Organization.objects.filter(pk=grouped.org.pk).update(restrict_agents_to_queues=False)
    grouped.org.refresh_from_db()
    grouped.agent.organization = grouped.org
    assert _by_queue(grouped.agent) == {"Technical": 2, "Billing": 3}


def test_the_dashboard_of_a_grouped_agent_shows_only_their_figures(grouped, web):
    with time_machine.travel(NOW, tick=False):
        page = web(grouped.agent).get("/acme/sla/?days=7").content.decode()
        whole = web(grouped.supervisor).get("/acme/sla/?days=7").content.decode()
    assert 'id="sla-scope"' in page and 'id="sla-scope"' not in whole
    # agent2 owns two Billing tickets: their name is in the supervisor's figures only.
    assert grouped.agent2.user.email not in page and grouped.agent2.user.email in whole
    assert "Technical" in page


def test_the_sla_api_scopes_a_grouped_agents_figures_too(grouped):
    agent, supervisor = api_client(grouped.agent), api_client(grouped.supervisor)
    query = {"from": DAY.isoformat(), "to": DAY.isoformat(), "group_by": "queue"}
    with time_machine.travel(NOW, tick=False):
        rows = agent.get("/api/v1/sla/metrics/", query).json()
        summary = agent.get("/api/v1/sla/summary/").json()
        everyone = supervisor.get("/api/v1/sla/metrics/", query).json()
    assert {r["group"]: r["tickets"] for r in rows} == {"Technical": 2, "Billing": 1}
    assert {r["group"]: r["tickets"] for r in everyone} == {"Technical": 2, "Billing": 3}
    assert sum(summary["total"].values()) == 3
