"""Writes that involve more than one ticket or person: escalation, incidents, merge."""

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from tickets import events, sla
from tickets.models import OPEN_STATUSES, Note, Ticket, TicketEvent, TicketThread
from tickets.services import TicketError, ticket_assign, ticket_set_status
from tisket.errors import ConflictError
from tisket.models import Membership, Role


@transaction.atomic
def ticket_escalate(
    *, ticket: Ticket, actor: Membership | None, to: Membership | None = None
) -> Ticket:
    """Raise the escalation level and hand the ticket to a supervisor.

    Without `to`, the supervisor of the ticket's queue (else of the
    organization) holding the fewest open tickets takes it.
    """
    to = to or _least_busy_supervisor(ticket)
    if to is not None and not to.has_role(Role.SUPERVISOR):
        raise TicketError(f"{to.user.email} is not a supervisor.")
    ticket.escalation_level += 1
    ticket.updated_at = timezone.now()
    ticket.save(update_fields=["escalation_level", "updated_at"])
    events.ticket_escalated_event(ticket=ticket, actor=actor, level=ticket.escalation_level, to=to)
    if to is not None:
        ticket_assign(ticket=ticket, assignee=to, actor=actor)
    return ticket


def _least_busy_supervisor(ticket: Ticket) -> Membership | None:
    supervisors = Membership.objects.filter(
        organization_id=ticket.organization_id,
        role__in=[Role.SUPERVISOR, Role.ADMIN, Role.OWNER],
        user__is_active=True,
    ).select_related("user")
    if ticket.queue_id is not None:
        in_queue = supervisors.filter(queues=ticket.queue_id)
        supervisors = in_queue if in_queue.exists() else supervisors
    return (
        supervisors.annotate(open=Count("tickets", filter=Q(tickets__status__in=OPEN_STATUSES)))
        .order_by("open", "role", "id")
        .first()
    )


@transaction.atomic
def incident_link(*, parent: Ticket, child: Ticket, actor: Membership | None) -> Ticket:
    """Make child part of the incident parent: resolving the parent resolves it."""
    if parent.organization_id != child.organization_id:
        raise TicketError("That ticket is not of this organization.")
    if parent.pk == child.pk:
        raise TicketError("A ticket cannot be its own incident.")
    if child.parent_id is not None and child.parent_id != parent.pk:
        raise ConflictError(f"{child.reference} is already part of another incident.")
    ancestor = parent
    while ancestor.parent_id is not None:  # no cycles: the child may not be above the parent
        if ancestor.parent_id == child.pk:
            raise TicketError(f"{child.reference} is above {parent.reference} already.")
        ancestor = ancestor.parent
    child.parent = parent
    child.save(update_fields=["parent"])
    sla.sla_incident_joined(child)
    for ticket in (parent, child):
        events.ticket_incident_linked_event(ticket=ticket, actor=actor, parent=parent, child=child)
    return child


@transaction.atomic
def incident_unlink(*, parent: Ticket, child: Ticket, actor: Membership | None) -> Ticket:
    """Take child out of the incident; if the incident resolved it, its old status returns."""
    if child.parent_id != parent.pk:
        raise TicketError(f"{child.reference} is not part of {parent.reference}.")
    child.parent = None
    child.save(update_fields=["parent"])
    if child.status == Ticket.Status.RESOLVED and child.status_before_incident:
        ticket_set_status(ticket=child, status=child.status_before_incident, actor=actor)
    if child.status_before_incident:
        child.status_before_incident = ""
        child.save(update_fields=["status_before_incident"])
    sla.sla_incident_left(child)
    for ticket in (parent, child):
        events.ticket_incident_unlinked_event(
            ticket=ticket, actor=actor, parent=parent, child=child
        )
    return child


@transaction.atomic
def ticket_merge(*, source: Ticket, target: Ticket, actor: Membership | None) -> Ticket:
    """Merge a duplicate into another ticket: threads, notes, events and incident children move;
    the duplicate closes, pointing at the survivor."""
    if source.organization_id != target.organization_id:
        raise TicketError("That ticket is not of this organization.")
    if source.pk == target.pk:
        raise TicketError("A ticket cannot be merged into itself.")
    if source.merged_into_id is not None:
        raise ConflictError(f"{source.reference} was merged already.")
    if target.merged_into_id is not None:
        raise ConflictError(f"{target.reference} was merged into another ticket; merge there.")
    TicketThread.objects.filter(ticket=source).update(ticket=target)
    Note.objects.filter(ticket=source).update(ticket=target)
    TicketEvent.objects.filter(ticket=source).update(ticket=target)
    Ticket.objects.filter(parent=source).exclude(pk=target.pk).update(parent=target)
    source.merged_into = target
    source.save(update_fields=["merged_into"])
    ticket_set_status(ticket=source, status=Ticket.Status.CLOSED, actor=actor)
    # The duplicate's incident tickets follow the survivor's deadlines, as saved.
    sla.sla_children_follow(Ticket.objects.get(pk=target.pk))
    for ticket in (source, target):
        events.ticket_merged_event(ticket=ticket, actor=actor, source=source, target=target)
    Ticket.objects.filter(pk=target.pk).update(updated_at=timezone.now())
    return target
