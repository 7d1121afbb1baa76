"""Reading the clocks: a ticket's SLA state, and the same as a query."""

from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from tickets.models import Ticket


def sla_state(ticket: Ticket, now: datetime | None = None) -> str | None:
    """paused, breached, at_risk, on_track; None when no clock runs."""
    if ticket.sla_due_at is None:
        return None
    if ticket.sla_paused_at is not None:
        return "paused"
    now = now or timezone.now()
    if ticket.sla_due_at <= now:
        return "breached"
    if ticket.sla_warn_at is not None and ticket.sla_warn_at <= now:
        return "at_risk"
    return "on_track"


def sla_state_q(state: str, now: datetime, prefix: str = "") -> Q:
    """Tickets in an SLA state, as ranges over the first warning point and deadline.

    `prefix` reaches the ticket through a relation (e.g. "ticket_link__ticket__").
    """

    def q(**lookups) -> Q:
        return Q(**{prefix + name: value for name, value in lookups.items()})

    if state == "paused":
        return q(sla_due_at__isnull=False, sla_paused_at__isnull=False)
    unpaused = q(sla_paused_at__isnull=True)
    if state == "breached":
        return unpaused & q(sla_due_at__lte=now)
    if state == "at_risk":
        return unpaused & q(sla_warn_at__lte=now, sla_due_at__gt=now)
    if state == "on_track":
        return unpaused & q(sla_warn_at__gt=now)
    raise ValueError(f"unknown SLA state {state!r}")
