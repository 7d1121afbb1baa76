"""A supervisor's SLA override: a new deadline for a ticket, with the reason, on its timeline."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from tickets import events
from tickets.models import OPEN_STATUSES, Ticket
from tickets.sla.clocks import sla_deadline_overridden
from tisket.errors import NotAllowedError, TisketError
from tisket.models import Membership, Role

REASON_MAX = 500


class SlaOverrideError(TisketError):
    pass


@transaction.atomic
def ticket_sla_override(
    *, ticket: Ticket, due_at: datetime | None, reason: str, actor: Membership
) -> Ticket:
    """Set (or, with due_at None, clear) a supervisor's deadline for the ticket's clocks."""
    if not actor.has_role(Role.SUPERVISOR):
        raise NotAllowedError("Only a supervisor may override a ticket's SLA.")
    if actor.organization_id != ticket.organization_id:
        raise NotAllowedError("That ticket is not of your organization.")
    reason = " ".join(reason.split())
    if not reason:
        raise SlaOverrideError("Say why the deadline changes.")
    if len(reason) > REASON_MAX:
        raise SlaOverrideError(f"Keep the reason under {REASON_MAX} characters.")
    ticket = (
        Ticket.objects.select_for_update(of=("self",)).select_related("parent").get(pk=ticket.pk)
    )
    if ticket.status not in OPEN_STATUSES:
        raise SlaOverrideError(f"{ticket.reference} is {ticket.get_status_display().lower()}.")
    if ticket.parent_id is not None:
        raise SlaOverrideError(
            f"{ticket.reference} follows its incident {ticket.parent.reference}'s clock: "
            "change the incident's deadline."
        )
    now = timezone.now()
    if due_at is not None:
        if timezone.is_naive(due_at):
            raise SlaOverrideError("Give the deadline with its time zone.")
        if due_at <= now:
            raise SlaOverrideError("The new deadline must lie in the future.")
    elif ticket.sla_override_due_at is None:
        raise SlaOverrideError(f"{ticket.reference} has no overridden deadline to clear.")
    old = ticket.sla_override_due_at or ticket.sla_due_at
    ticket.sla_override_due_at = due_at
    ticket.sla_override_at = now if due_at is not None else None
    ticket.sla_override_reason = reason if due_at is not None else ""
    sla_deadline_overridden(ticket, now=now)
    events.ticket_sla_overridden_event(
        ticket=ticket,
        actor=actor,
        old=old.isoformat() if old else None,
        new=due_at.isoformat() if due_at else None,
        reason=reason,
    )
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=now)
    return ticket
