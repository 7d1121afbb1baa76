"""Writes of tickets: create, change, assign, notes, thread links, replies.

What a stored mail does to tickets is intake's (tickets.intake.effects)."""

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from threads import outbound
from threads.models import Message, OutboundMail, Thread
from threads.search import SearchPiece, thread_search_append
from threads.services import thread_set_status
from tickets import client_mail, events, notifications, sla
from tickets.categories import category_checked
from tickets.models import (
    OPEN_STATUSES,
    Note,
    Queue,
    QueueMember,
    ReplyDraft,
    Tag,
    Ticket,
    TicketThread,
    ticket_reference,
)
from tisket.errors import ConflictError, NotAllowedError, TisketError
from tisket.lib.rows import rows_save_fields
from tisket.models import Membership, Notification, Organization, Role
from tisket.notifications.matrix import Event
from tisket.services import sequence_next

EDITABLE = ("subject", "description", "category", "customer_email", "customer_organization")
REOPENABLE = (Ticket.Status.RESOLVED, Ticket.Status.CLOSED)
KEEP: Queue = object()  # type: ignore[assignment]  # "leave the queue as it is"


class TicketError(TisketError):
    pass


def same_organization_check(organization: Organization, *objects) -> None:
    for obj in objects:
        if obj is not None and obj.organization_id != organization.pk:
            raise TicketError(f"That {type(obj).__name__.lower()} is not of this organization.")


def assignable_check(ticket_or_org: Organization, assignee: Membership | None) -> None:
    if assignee is None:
        return
    same_organization_check(ticket_or_org, assignee)
    if not assignee.has_role(Role.AGENT) or not assignee.user.is_active:
        raise TicketError(
            f"{assignee.user.email} cannot be assigned tickets (role {assignee.role})."
        )


@transaction.atomic
def ticket_create(
    *,
    organization: Organization,
    subject: str,
    actor: Membership | None,
    description: str = "",
    priority: str = Ticket.Priority.NORMAL,
    category: str = "",
    queue: Queue | None = None,
    assignee: Membership | None = None,
    customer_email: str = "",
    customer_organization: str = "",
    tags: Iterable[str] = (),
    created_via: str = Ticket.Via.WEB,
    round_robin: bool = True,
) -> Ticket:
    """Open a ticket with the next reference of the organization.

    round_robin=False leaves a queue's automatic assignment to the caller (one that links the
    ticket's conversation first, so that the notice names it)."""
    ticket_subject_check(subject)
    same_organization_check(organization, queue)
    assignable_check(organization, assignee)
    category = category_checked(organization=organization, name=category)
    number = sequence_next(organization_id=organization.pk, name="ticket")
    ticket = ticket_new(
        organization=organization,
        number=number,
        subject=subject,
        description=description,
        priority=priority,
        category=category,
        queue=queue,
        customer_email=customer_email,
        customer_organization=customer_organization,
        created_via=created_via,
        now=timezone.now(),
    )
    ticket.save(force_insert=True)
    events.ticket_created_event(ticket=ticket, actor=actor)
    sla.sla_ticket_created(ticket)
    if tags:
        ticket.tags.set(_tags(organization, tags))
    if assignee is not None:
        ticket_assign(ticket=ticket, assignee=assignee, actor=actor)
    elif queue is not None and queue.auto_assign and round_robin:
        ticket_assign_round_robin(ticket=ticket, actor=actor)
    return ticket


def ticket_subject_check(subject: str) -> None:
    if not subject.strip():
        raise TicketError("A ticket needs a subject.")


def ticket_new(
    *,
    organization: Organization,
    number: int,
    subject: str,
    now: datetime,
    description: str = "",
    priority: str = Ticket.Priority.NORMAL,
    category: str = "",
    queue: Queue | None = None,
    assignee: Membership | None = None,
    customer_email: str = "",
    customer_organization: str = "",
    created_via: str = Ticket.Via.WEB,
) -> Ticket:
    """A new ticket's row, not saved yet: its fields as every way of opening one writes them."""
    return Ticket(
        organization=organization,
        number=number,
        reference=ticket_reference(code=organization.code, number=number),
        subject=subject.strip()[:998],
        description=description,
        priority=Ticket.Priority(priority),
        category=category,
        queue=queue,
        assignee=assignee,
        customer_email=customer_email.strip().lower(),
        customer_organization=customer_organization,
        created_via=Ticket.Via(created_via),
        created_at=now,
        updated_at=now,
    )


def _clean_tags(tags: Iterable[str]) -> list[str]:
    cleaned = {" ".join(tag.strip().lower().split())[:50] for tag in tags}
    return sorted(t for t in cleaned if t)


def _tags(organization: Organization, names: Iterable[str]) -> list[Tag]:
    names = _clean_tags(names)
    Tag.objects.bulk_create(
        [Tag(organization=organization, name=n) for n in names], ignore_conflicts=True
    )
    return list(Tag.objects.filter(organization=organization, name__in=names))


@transaction.atomic
def ticket_update(
    *,
    ticket: Ticket,
    actor: Membership | None,
    priority: str | None = None,
    queue: Queue | None = KEEP,
    tags: Sequence[str] | None = None,
    **fields,
) -> Ticket:
    """Change a ticket's fields, each with its event; queue=None takes it out of its queue."""
    organization = ticket.organization
    changed = []
    for name, value in fields.items():
        if name not in EDITABLE:
            raise TicketError(f"'{name}' cannot be changed here.")
        if name == "category":
            value = category_checked(organization=organization, name=value)
        if getattr(ticket, name) != value:
            setattr(ticket, name, value)
            changed.append(name)
    if changed:
        events.ticket_updated_event(ticket=ticket, actor=actor, fields=changed)
    if priority is not None and priority != ticket.priority:
        events.ticket_priority_event(ticket=ticket, actor=actor, old=ticket.priority, new=priority)
        ticket.priority = Ticket.Priority(priority)
        changed.append("priority")
    if queue is not KEEP and queue != ticket.queue:
        same_organization_check(organization, queue)
        events.ticket_queue_event(
            ticket=ticket,
            actor=actor,
            old=ticket.queue.name if ticket.queue else None,
            new=queue.name if queue else None,
        )
        ticket.queue = queue
        changed.append("queue")
    if tags is not None:
        old = sorted(ticket.tags.values_list("name", flat=True))
        new = _clean_tags(tags)
        if new != old:
            ticket.tags.set(_tags(organization, new))
            events.ticket_tags_event(ticket=ticket, actor=actor, old=old, new=new)
            changed.append("tags")
    if changed:
        ticket.updated_at = timezone.now()
        ticket.save(update_fields=[f for f in [*changed, "updated_at"] if f != "tags"])
    if {"priority", "customer_email", "customer_organization"} & set(changed):
        sla.sla_terms_changed(ticket)
    return ticket


@transaction.atomic
def ticket_set_status(
    *, ticket: Ticket, status: str, actor: Membership | None, summary: str = ""
) -> Ticket:
    """Move a ticket to a status; leaving resolved or closed is a reopen, and counts.

    A change the desk makes is told to the clients of its conversations, as their
    inboxes say (tickets.client_mail); summary is the agent's word on a resolution."""
    new = Ticket.Status(status)
    old = ticket.status
    summary = summary.strip()
    if summary and new != Ticket.Status.RESOLVED:
        raise TicketError("A summary goes with a resolution only.")
    if new == old and summary:
        raise ConflictError(f"{ticket.reference} is resolved already: send the summary as a reply.")
    if new == old:
        return ticket
    fields = ["status", "updated_at"]
    if old in REOPENABLE and new not in REOPENABLE:
        ticket.reopen_count += 1
        fields.append("reopen_count")
    if new == Ticket.Status.RESOLVED:
        ticket.resolved_at = timezone.now()
        fields.append("resolved_at")
    ticket.status = new
    ticket.updated_at = timezone.now()
    ticket.save(update_fields=fields)
    _threads_follow_status(ticket)
    events.ticket_status_event(ticket=ticket, actor=actor, old=old, new=new)
    sla.sla_status_changed(ticket, old=old, now=ticket.updated_at)
    threads = list(Thread.objects.filter(ticket_link__ticket=ticket).select_related("inbox"))
    client_mail.status_mails_queue(
        threads=threads, ticket=ticket, old=old, new=new, actor=actor, summary=summary
    )
    _summary_as_reply(threads=threads, summary=summary, actor=actor)
    if new == Ticket.Status.RESOLVED:
        _incident_resolve_children(parent=ticket, actor=actor)
    return ticket


# A linked thread shows its ticket's status in the thread's coarser terms, so the
# queue filters unresolved work on the thread's own column, without a join.
THREAD_STATUS_OF = {
    Ticket.Status.NEW: Thread.Status.OPEN,
    Ticket.Status.OPEN: Thread.Status.OPEN,
    Ticket.Status.IN_PROGRESS: Thread.Status.IN_PROGRESS,
    Ticket.Status.WAITING_ON_CUSTOMER: Thread.Status.IN_PROGRESS,
    Ticket.Status.RESOLVED: Thread.Status.RESOLVED,
    Ticket.Status.CLOSED: Thread.Status.CLOSED,
}


def _threads_follow_status(ticket: Ticket) -> None:
    Thread.objects.filter(ticket_link__ticket=ticket).exclude(
        status=THREAD_STATUS_OF[ticket.status]
    ).update(status=THREAD_STATUS_OF[ticket.status])


def _incident_resolve_children(*, parent: Ticket, actor: Membership | None) -> None:
    """Resolve the open tickets of a resolved incident, each with a note saying so."""
    for child in Ticket.objects.filter(parent=parent, status__in=OPEN_STATUSES):
        child.status_before_incident = child.status
        child.save(update_fields=["status_before_incident"])
        ticket_set_status(ticket=child, status=Ticket.Status.RESOLVED, actor=actor)
        note = Note.objects.create(
            ticket=child, author=actor, body=f"Resolved with its incident {parent.reference}."
        )
        _note_searchable(note)
        events.ticket_note_added_event(ticket=child, actor=actor, note=note)


@transaction.atomic
def ticket_assign(
    *,
    ticket: Ticket,
    assignee: Membership | None,
    actor: Membership | None,
    automatic: bool = False,
) -> Ticket:
    """Give the ticket to an agent of the organization, or to nobody."""
    assignable_check(ticket.organization, assignee)
    if assignee == ticket.assignee and not automatic:
        return ticket
    ticket.assignee = assignee
    ticket.updated_at = timezone.now()
    ticket.save(update_fields=["assignee", "updated_at"])
    events.ticket_assigned_event(ticket=ticket, actor=actor, assignee=assignee, automatic=automatic)
    if assignee is not None:
        assigned_notify(tickets=[ticket], actor=actor)
    return ticket


def assigned_notify(*, tickets: list[Ticket], actor: Membership | None) -> None:
    """Tell each ticket's new assignee (and whoever else their matrix reaches)."""
    by = f" by {actor.user.get_short_name()}" if actor is not None else ""
    references = notifications.conversation_references(tickets)
    notifications.tickets_notify(
        event=Event.ASSIGNED,
        kind=Notification.Kind.ASSIGNED,
        actor=actor,
        items=[
            (
                ticket,
                f"{references[ticket.pk]} assigned to you{by}",
                f"{ticket.subject} ({ticket.get_priority_display().lower()})",
            )
            for ticket in tickets
        ],
    )


def ticket_assign_round_robin(*, ticket: Ticket, actor: Membership | None) -> Membership | None:
    """Assign to the queue's agent whose last automatic ticket is oldest, skipping full ones."""
    return tickets_assign_round_robin(tickets=[ticket], actor=actor)[0]


ROUND_ROBIN_ROLES = [Role.AGENT, Role.SUPERVISOR, Role.ADMIN, Role.OWNER]
NEVER = datetime.min.replace(tzinfo=UTC)


@transaction.atomic
def tickets_assign_round_robin(
    *, tickets: list[Ticket], actor: Membership | None
) -> list[Membership | None]:
    """ticket_assign_round_robin for each ticket in turn, as if one after the other, in a
    constant number of queries: each ticket's assignee, None where every agent is full."""
    if any(ticket.queue_id is None for ticket in tickets):
        raise TicketError("Round-robin needs the ticket to be in a queue.")
    if not tickets:
        return []
    # The queues' row locks serialize concurrent round-robins: each sees the last. Taken in
    # one order, so that two batches over the same queues cannot deadlock.
    queues = {
        queue.pk: queue
        for queue in Queue.objects.select_for_update()
        .filter(pk__in={ticket.queue_id for ticket in tickets})
        .order_by("pk")
    }
    candidates: dict[int, list[QueueMember]] = {}
    open_tickets: dict[int, int] = {}
    for row in (
        QueueMember.objects.filter(
            queue_id__in=queues,
            membership__user__is_active=True,
            membership__role__in=ROUND_ROBIN_ROLES,
        )
        .select_related("membership__user")
        .annotate(
            open_tickets=Count(
                "membership__tickets",
                filter=Q(membership__tickets__status__in=OPEN_STATUSES),
            )
        )
    ):
        candidates.setdefault(row.queue_id, []).append(row)
        open_tickets[row.membership_id] = row.open_tickets
    chosen_ones: list[Membership | None] = []
    turned: dict[int, QueueMember] = {}
    assigned: list[Ticket] = []
    last = None
    for ticket in tickets:
        cap = queues[ticket.queue_id].open_ticket_cap
        free = [
            row
            for row in candidates.get(ticket.queue_id, [])
            if cap is None or open_tickets[row.membership_id] < cap
        ]
        if not free:
            chosen_ones.append(None)
            continue
        # The oldest turn first (never assigned before all), then the first to join.
        chosen = min(free, key=lambda row: (row.last_assigned_at or NEVER, row.pk))
        now = timezone.now()
        if last is not None and now <= last:
            now = last + timedelta(microseconds=1)  # each turn strictly after the one before
        last = now
        chosen.last_assigned_at = now
        turned[chosen.pk] = chosen
        if ticket.status in OPEN_STATUSES:
            if ticket.assignee_id in open_tickets:
                open_tickets[ticket.assignee_id] -= 1
            open_tickets[chosen.membership_id] += 1
        ticket.assignee = chosen.membership
        ticket.updated_at = now
        assigned.append(ticket)
        chosen_ones.append(chosen.membership)
    if not assigned:
        return chosen_ones
    QueueMember.objects.bulk_update(list(turned.values()), ["last_assigned_at"])
    rows_save_fields(assigned, ["assignee", "updated_at"])  # not bulk_update: see there
    events.events_insert(
        [
            events.ticket_assigned_row(
                ticket=ticket, actor=actor, assignee=ticket.assignee, automatic=True
            )
            for ticket in assigned
        ]
    )
    assigned_notify(tickets=assigned, actor=actor)
    return chosen_ones


def _note_searchable(note: Note) -> None:
    """A note's words join the documents of its ticket's conversations (search finds them)."""
    threads = TicketThread.objects.filter(ticket_id=note.ticket_id).values_list(
        "thread_id", flat=True
    )
    organization_id = note.ticket.organization_id
    thread_search_append(pieces=[SearchPiece(organization_id, pk, note.body) for pk in threads])


@transaction.atomic
def ticket_note_add(*, ticket: Ticket, body: str, actor: Membership) -> Note:
    """Add an internal note (never shown or sent to a client)."""
    if not body.strip():
        raise TicketError("A note needs some text.")
    if not actor.has_role(Role.AGENT):
        raise NotAllowedError("Viewers cannot add notes.")
    note = Note.objects.create(ticket=ticket, author=actor, body=body.strip())
    _note_searchable(note)
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now())
    events.ticket_note_added_event(ticket=ticket, actor=actor, note=note)
    mentioned = notifications.mentioned_members(ticket.organization_id, note.body)
    reference, who = notifications.conversation_reference(ticket), actor.user.get_short_name()
    notifications.ticket_notify(
        event=Event.NOTE,
        ticket=ticket,
        kind=Notification.Kind.NOTE,
        title=f"{who} added a note on {reference}",
        body=note.body[:500],
        actor=actor,
        mentioned=mentioned,
        mentioned_kind=Notification.Kind.MENTIONED,
        mentioned_title=f"{who} mentioned you on {reference}",
    )
    return note


@transaction.atomic
def ticket_thread_link(*, ticket: Ticket, thread: Thread, actor: Membership | None) -> TicketThread:
    """Link a thread to the ticket; a thread belongs to one ticket at most."""
    same_organization_check(ticket.organization, thread)
    existing = TicketThread.objects.filter(thread=thread).select_related("ticket").first()
    if existing is not None:
        if existing.ticket_id == ticket.pk:
            return existing
        raise ConflictError(f"{thread.reference} already belongs to {existing.ticket.reference}.")
    link = TicketThread.objects.create(ticket=ticket, thread=thread)
    _threads_follow_status(ticket)
    events.ticket_linked_event(ticket=ticket, actor=actor, thread=thread)
    return link


@transaction.atomic
def ticket_thread_unlink(*, ticket: Ticket, thread: Thread, actor: Membership | None) -> None:
    """Take a thread off the ticket."""
    if not TicketThread.objects.filter(ticket=ticket, thread=thread).delete()[0]:
        raise TicketError(f"{thread.reference} is not linked to {ticket.reference}.")
    events.ticket_unlinked_event(ticket=ticket, actor=actor, thread=thread)


def conversation_set_status(
    *,
    thread: Thread,
    ticket: Ticket | None,
    status: str,
    actor: Membership | None,
    summary: str = "",
) -> None:
    """Set a conversation's status: its ticket's, when it has one (its threads follow), else
    the thread's own. The page, the reply box and the client's page all set it here.

    summary, on a resolution, is the agent's word to the client in the resolved mail;
    where the inbox sends no such mail, it goes as a reply, never lost."""
    if ticket is not None:
        ticket_set_status(ticket=ticket, status=status, actor=actor, summary=summary)
        return
    summary = summary.strip()
    if summary and status != Thread.Status.RESOLVED:
        raise TicketError("A summary goes with a resolution only.")
    old = thread.status
    thread_set_status(thread=thread, status=status, actor=actor)
    client_mail.status_mails_queue(
        threads=[thread], ticket=None, old=old, new=status, actor=actor, summary=summary
    )
    _summary_as_reply(threads=[thread], summary=summary, actor=actor)


def _summary_as_reply(*, threads: list[Thread], summary: str, actor: Membership | None) -> None:
    """A summary where the inbox sends no resolved mail goes as a reply: never lost."""
    if not summary or actor is None:
        return
    for thread in threads:
        if not thread.inbox.mail_on_resolved:
            thread_reply_send(thread=thread, author=actor, body=summary)


def ticket_reply_sent(*, thread: Thread, message: Message, actor: Membership | None) -> None:
    """An agent answered the client on a thread: what it does to the thread's ticket, if any."""
    link = TicketThread.objects.select_related("ticket").filter(thread=thread).first()
    if link is not None:
        ticket_answered(ticket=link.ticket, message=message, actor=actor)


def ticket_answered(*, ticket: Ticket, message: Message, actor: Membership | None) -> None:
    """The desk answered the client, from the page, the API or a mail client.

    The one place that records a first response: its time, the SLA clocks, the
    event on the timeline, and a new ticket becoming open.
    """
    if ticket.first_responded_at is None:
        ticket.first_responded_at = message.created_at
    ticket.updated_at = timezone.now()
    ticket.save(update_fields=["first_responded_at", "updated_at"])
    sla.sla_agent_replied(ticket)
    events.ticket_reply_sent_event(ticket=ticket, actor=actor, message=message)
    if ticket.status == Ticket.Status.NEW:
        # Answered is no longer new: someone has it in hand.
        ticket_set_status(ticket=ticket, status=Ticket.Status.OPEN, actor=actor)


@transaction.atomic
def thread_reply_send(
    *,
    thread: Thread,
    author: Membership,
    body: str,
    cc: Sequence[str] = (),
    attachments: Sequence[tuple[str, bytes]] = (),
    idempotency_key: str = "",
) -> tuple[Message, OutboundMail | None]:
    """An agent's reply to a thread's clients, and what it does to the thread's ticket.

    A submission sent again raises outbound.ReplyAlreadySent and changes nothing.
    """
    message, mail = outbound.reply_send_skipping_ticket(
        thread=thread,
        author=author,
        body=body,
        cc=list(cc),
        attachments=list(attachments),
        idempotency_key=idempotency_key,
    )
    ticket_reply_sent(thread=thread, message=message, actor=author)
    # The reply went: the sender's own draft and the assistant's are used up; a colleague's
    # unsent words are theirs to drop.
    ReplyDraft.objects.filter(Q(owner=None) | Q(owner=author), thread=thread).delete()
    return message, mail


DRAFT_MAX_CHARS = 20_000


@transaction.atomic
def reply_draft_save(*, thread: Thread, body: str, actor: Membership) -> ReplyDraft:
    """Leave a reply on the conversation for an agent to review and send; replaces the last one.

    It is never sent from here: an agent opens the conversation, edits it and sends it.
    """
    if not actor.has_role(Role.AGENT):
        raise NotAllowedError("Viewers cannot write drafts.")
    body = body.strip()
    if not body:
        raise TicketError("A draft needs some text.")
    if len(body) > DRAFT_MAX_CHARS:
        raise TicketError(f"A draft holds at most {DRAFT_MAX_CHARS} characters.")
    draft, _ = ReplyDraft.objects.update_or_create(
        thread=thread,
        owner=None,
        defaults={
            "organization_id": thread.organization_id,
            "body": body,
            "author": actor,
            "via": actor.via,
            "created_at": timezone.now(),
        },
    )
    link = TicketThread.objects.select_related("ticket").filter(thread=thread).first()
    if link is not None:
        events.ticket_draft_saved_event(ticket=link.ticket, actor=actor, thread=thread)
    return draft
