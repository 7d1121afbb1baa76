"""Writes of queues: create, change, delete; their agents and the inboxes that feed them;
what each member has read of the conversations they list."""

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from tickets.models import Queue, QueueMember, ThreadRead
from tickets.services import TicketError, same_organization_check
from tisket.audit import Action, audit_record
from tisket.errors import ConflictError, NotAllowedError
from tisket.models import Membership, Organization, Role


@transaction.atomic
def queue_create(
    *, organization: Organization, name: str, actor: Membership | None, **fields
) -> Queue:
    """Create a queue."""
    if actor is not None and not actor.has_role(Role.SUPERVISOR):
        raise NotAllowedError("Only supervisors and admins manage queues.")
    if Queue.objects.filter(organization=organization, name=name.strip()).exists():
        raise ConflictError(f"A queue named '{name.strip()}' exists already.")
    members = fields.pop("members", [])
    inboxes = fields.pop("inboxes", [])
    queue = Queue.objects.create(organization=organization, name=name.strip(), **fields)
    queue_set_members(queue=queue, members=members)
    queue_set_inboxes(queue=queue, inboxes=inboxes)
    _queue_audit(queue, "created", actor=actor)
    return queue


def _queue_audit(queue: Queue, change: str, actor: Membership | None = None, **data) -> None:
    audit_record(
        organization=queue.organization_id,
        action=Action.QUEUE_CHANGED,
        actor=actor,
        target=queue,
        data={"change": change, **data},
    )


def queue_set_members(*, queue: Queue, members: Iterable[Membership]) -> None:
    """Make the queue's agents exactly these members of its organization."""
    members = list(members)
    same_organization_check(queue.organization, *members)
    wanted = {m.pk for m in members}
    before = set(QueueMember.objects.filter(queue=queue).values_list("membership_id", flat=True))
    QueueMember.objects.filter(queue=queue).exclude(membership_id__in=wanted).delete()
    QueueMember.objects.bulk_create(
        [QueueMember(queue=queue, membership_id=pk) for pk in wanted], ignore_conflicts=True
    )
    if wanted != before:
        # Queue membership decides what an agent sees when agent groups are on.
        emails = dict(
            Membership.objects.filter(pk__in=wanted ^ before).values_list("pk", "user__email")
        )
        _queue_audit(
            queue,
            "members",
            added=sorted(emails[pk] for pk in wanted - before),
            removed=sorted(emails[pk] for pk in before - wanted),
        )


def queue_set_inboxes(*, queue: Queue, inboxes: Iterable) -> None:
    """Route new threads of these inboxes to this queue (each inbox to one queue only)."""
    inboxes = list(inboxes)
    same_organization_check(queue.organization, *inboxes)
    for inbox in inboxes:
        other = Queue.objects.filter(inboxes=inbox).exclude(pk=queue.pk).first()
        if other is not None:
            raise ConflictError(f"The inbox {inbox.name} already feeds the queue {other.name}.")
    queue.inboxes.set(inboxes)


def queue_update(*, queue: Queue, **fields) -> Queue:
    """Rename a queue or change its assignment rules."""
    allowed = {"name", "auto_assign", "open_ticket_cap"}
    unknown = set(fields) - allowed
    if unknown:
        raise TicketError(f"Cannot change {', '.join(sorted(unknown))} here.")
    if "name" in fields:
        fields["name"] = fields["name"].strip()
        clash = Queue.objects.filter(organization_id=queue.organization_id, name=fields["name"])
        if clash.exclude(pk=queue.pk).exists():
            raise ConflictError(f"A queue named '{fields['name']}' exists already.")
    for name, value in fields.items():
        setattr(queue, name, value)
    if fields:
        queue.save(update_fields=list(fields))
        _queue_audit(queue, "changed", fields=sorted(fields))
    return queue


def queue_delete(*, queue: Queue) -> None:
    """Delete a queue but the default one; its tickets stay, without a queue."""
    if queue.is_default:
        raise ConflictError(
            f"{queue.name} is the default queue: new conversations open their tickets there."
        )
    _queue_audit(queue, "deleted")
    queue.delete()


def thread_read_mark(*, membership: Membership, thread_id: int, seen: datetime) -> None:
    """The member has read the conversation as it was at `seen` (never later than now)."""
    seen = min(seen, timezone.now())
    marks = ThreadRead.objects.filter(membership=membership, thread_id=thread_id)
    if marks.filter(read_at__lt=seen).update(read_at=seen):
        return
    ThreadRead.objects.bulk_create(
        [ThreadRead(membership=membership, thread_id=thread_id, read_at=seen)],
        ignore_conflicts=True,
    )
