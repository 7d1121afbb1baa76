from datetime import datetime

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone

from tickets import sla
from tickets.models import Note, Queue, QueueMember, Ticket, TicketEvent, TicketThread
from tisket.errors import TisketError
from tisket.models import Membership, Organization


def queues_list(*, organization: Organization) -> QuerySet[Queue]:
    return Queue.objects.filter(organization=organization).prefetch_related(
        Prefetch(
            "queue_members",
            queryset=QueueMember.objects.select_related("membership__user").order_by("id"),
        ),
        "inboxes",
    )


def queue_get(*, organization: Organization, pk: int) -> Queue:
    try:
        return queues_list(organization=organization).get(pk=pk)
    except (Queue.DoesNotExist, ValueError, TypeError):
        raise Http404("No such queue.") from None


SLA_STATES = ("on_track", "at_risk", "breached", "paused")


def tickets_list(
    *,
    organization: Organization,
    me: Membership | None = None,
    status: str = "",
    priority: str = "",
    queue: str = "",
    assignee: str = "",
    tag: str = "",
    sla_state: str = "",
    updated_since: datetime | None = None,
) -> QuerySet[Ticket]:
    tickets = Ticket.objects.filter(organization=organization).select_related(
        "queue", "assignee__user", "sla_policy"
    )
    if status:
        tickets = tickets.filter(status__in=status.split(","))
    if priority:
        tickets = tickets.filter(priority__in=priority.split(","))
    if queue:
        tickets = tickets.filter(queue_id=int(queue)) if queue.isdigit() else tickets.none()
    if assignee == "me":
        tickets = tickets.filter(assignee=me)
    elif assignee == "none":
        tickets = tickets.filter(assignee__isnull=True)
    elif assignee:
        tickets = (
            tickets.filter(assignee_id=int(assignee)) if assignee.isdigit() else tickets.none()
        )
    if tag:
        tickets = tickets.filter(tags__name=" ".join(tag.strip().lower().split()))
    if updated_since is not None:
        tickets = tickets.filter(updated_at__gte=updated_since)
    if sla_state:
        if sla_state not in SLA_STATES:
            raise TisketError(f"sla: use one of {', '.join(SLA_STATES)}.")
        tickets = tickets.filter(sla.sla_state_q(sla_state, timezone.now()))
    return tickets.prefetch_related(
        Prefetch("thread_links", queryset=TicketThread.objects.select_related("thread")),
        "tags",
    )


def ticket_get(*, organization: Organization, reference: str) -> Ticket:
    try:
        return tickets_list(organization=organization).get(reference=reference.upper())
    except Ticket.DoesNotExist:
        raise Http404("No such ticket.") from None


def notes_list(*, ticket: Ticket) -> QuerySet[Note]:
    return Note.objects.filter(ticket=ticket).select_related("author__user")


def events_list(*, ticket: Ticket) -> QuerySet[TicketEvent]:
    return TicketEvent.objects.filter(ticket=ticket).select_related("actor__user")
