"""Agent groups: what a member sees when the organization keeps agents to their queues.

With `Organization.restrict_agents_to_queues` on, a member below supervisor
sees the tickets of the queues they belong to, the tickets assigned to them,
and the conversations of those tickets; a conversation without a ticket is
seen by the members of the queue its inbox feeds. Supervisors and above see
everything. The selectors behind the queue, the conversation pages, search and
the API take the scope from here, so the rule lives in one place.
"""

from django.db.models import Q

from tickets.models import Queue
from tisket.models import Membership, Role


def restricted(member: Membership | None) -> bool:
    return (
        member is not None
        and member.organization.restrict_agents_to_queues
        and not member.has_role(Role.SUPERVISOR)
    )


def _queue_ids(member: Membership) -> list[int]:
    cached = getattr(member, "_queue_ids", None)
    if cached is None:
        cached = list(
            Queue.objects.filter(
                organization_id=member.organization_id, queue_members__membership_id=member.pk
            ).values_list("pk", flat=True)
        )
        member._queue_ids = cached
    return cached


def ticket_scope(member: Membership | None) -> Q | None:
    """The tickets the member sees, as a condition on Ticket; None: all of them."""
    if not restricted(member):
        return None
    return Q(queue_id__in=_queue_ids(member)) | Q(assignee_id=member.pk)


def thread_scope(member: Membership | None) -> Q | None:
    """The conversations the member sees, as a condition on Thread; None: all of them."""
    if not restricted(member):
        return None
    queues = _queue_ids(member)
    return (
        Q(ticket_link__ticket__queue_id__in=queues)
        | Q(ticket_link__ticket__assignee_id=member.pk)
        | Q(
            ticket_link__isnull=True,
            inbox_id__in=Queue.inboxes.through.objects.filter(queue_id__in=queues).values(
                "inbox_id"
            ),
        )
    )


def inbound_scope(member: Membership | None) -> Q | None:
    """The logged mail (held mail included) the member sees, as a condition on InboundMail:
    that of the inboxes feeding their queues; None: all of it."""
    if not restricted(member):
        return None
    return Q(
        inbox_id__in=Queue.inboxes.through.objects.filter(queue_id__in=_queue_ids(member)).values(
            "inbox_id"
        )
    )


def member_sees_ticket(member: Membership, ticket) -> bool:
    if not restricted(member):
        return True
    return ticket.queue_id in _queue_ids(member) or ticket.assignee_id == member.pk
