"""The SLA dashboard page: states, per-day/agent/queue figures and charts, bad periods."""

from datetime import UTC, datetime, timedelta

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import always_open_policy
from tickets import queues, services
from tickets.sla import sla_sweep

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


def workload(acme, count: int) -> None:
    always_open_policy(
        acme.org, {"normal": {"first_response_minutes": 60, "resolution_minutes": 600}}
    )
    queue = queues.queue_create(organization=acme.org, name="Billing", actor=None)
    for n in range(count):
        with time_machine.travel(NOW - timedelta(hours=n + 2), tick=False):
            ticket = services.ticket_create(
                organization=acme.org,
                subject=f"T{n}",
                actor=None,
                queue=queue,
                assignee=acme.agent if n % 2 else acme.agent2,
            )
        if n % 3 == 0:
            ticket.first_responded_at = ticket.created_at + timedelta(minutes=20)
            ticket.save(update_fields=["first_responded_at"])
    with time_machine.travel(NOW, tick=False):
        sla_sweep()


def test_the_dashboard_shows_states_figures_and_charts(acme, web):
    workload(acme, 4)
    with time_machine.travel(NOW, tick=False):
        page = web(acme.agent).get("/acme/sla/?days=7").content.decode()
    assert "breached</a>" in page
    assert '<svg class="chart"' in page and "<script" not in page.split("<main")[1]
    assert "Billing" in page and acme.agent.user.email in page
    assert "20.0" in page  # the first-response median, in minutes


def test_a_bad_period_is_reported_and_the_default_shown(acme, web):
    page = web(acme.agent).get("/acme/sla/?from=yesterday&to=2026-01-01").content.decode()
    assert "YYYY-MM-DD" in page
    backwards = web(acme.agent).get("/acme/sla/?from=2026-02-01&to=2026-01-01").content.decode()
    assert "before" in backwards


def test_the_dashboard_takes_the_same_queries_for_few_or_many(acme, web):
    workload(acme, 2)
    client = web(acme.agent)
    with time_machine.travel(NOW, tick=False):
        client.get("/acme/sla/")
        with CaptureQueriesContext(connection) as few:
            client.get("/acme/sla/")
    for n in range(10):
        services.ticket_create(organization=acme.org, subject=f"more {n}", actor=None)
    with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as many:
        client.get("/acme/sla/")
    assert len(many) == len(few)
