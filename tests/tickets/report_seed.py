"""Tickets for the reports' tests: breaches, resolutions, tiers, client companies, ratings."""

from datetime import UTC, datetime, timedelta

import time_machine

from sla import services as sla_services
from tests.factories import always_open_policy
from tickets import queues, services
from tickets.models import Rating, Ticket
from tickets.sla import sla_sweep

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


def seed_reports(acme):
    """Billing (agent2's queue): 3 tickets, Initech's by domain, breached on first response.
    Technical (agent's): 2 tickets named for Hooli (Gold tier), answered and resolved in time,
    one rated 5 and one rated 2."""
    standard = always_open_policy(
        acme.org,
        {
            "normal": {"first_response_minutes": 60, "resolution_minutes": 600},
            "high": {"first_response_minutes": 30, "resolution_minutes": 300},
        },
    )
    gold = sla_services.policy_create(
        organization=acme.org,
        name="Gold",
        calendar=standard.calendar,
        targets={"normal": {"first_response_minutes": 120, "resolution_minutes": 900}},
    )
    sla_services.customer_save(
        organization=acme.org, name="Initech", policy=None, domains=["initech.test"]
    )
    sla_services.customer_save(organization=acme.org, name="Hooli", policy=gold, domains=[])
    billing = queues.queue_create(
        organization=acme.org, name="Billing", actor=None, members=[acme.agent2]
    )
    technical = queues.queue_create(
        organization=acme.org, name="Technical", actor=None, members=[acme.agent]
    )
    for n, priority in enumerate(["normal", "high", "normal"]):
        with time_machine.travel(NOW - timedelta(hours=n + 3), tick=False):
            services.ticket_create(
                organization=acme.org,
                subject=f"=HYPERLINK(evil) {n}" if n == 0 else f"Invoice {n}",
                actor=None,
                queue=billing,
                assignee=acme.agent2,
                priority=priority,
                customer_email=f"p{n}@initech.test",
                round_robin=False,
            )
    for n, score in enumerate([5, 2]):
        with time_machine.travel(NOW - timedelta(hours=n + 5), tick=False):
            ticket = services.ticket_create(
                organization=acme.org,
                subject=f"Crash {n}",
                actor=None,
                queue=technical,
                assignee=acme.agent,
                customer_organization="hooli",
                round_robin=False,
            )
        Ticket.objects.filter(pk=ticket.pk).update(
            status="resolved",
            first_responded_at=ticket.created_at + timedelta(minutes=10),
            resolved_at=ticket.created_at + timedelta(minutes=90),
            sla_due_at=None,
            first_response_alert_at=None,
            resolution_alert_at=None,
            sla_warn_at=None,
        )
        Rating.objects.create(
            ticket=ticket, resolution=0, score=score, created_at=NOW - timedelta(hours=1)
        )
    with time_machine.travel(NOW, tick=False):
        sla_sweep()
    return acme
