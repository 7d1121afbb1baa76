"""The ticket timeline: one explicit function per kind of change, never a post_save signal."""

from threads.models import Message, Thread
from tickets.models import Note, Ticket, TicketEvent
from tisket.models import Membership


def _row(ticket: Ticket, kind: str, actor: Membership | None, **data) -> TicketEvent:
    if actor is not None and actor.via:
        data["via"] = actor.via  # e.g. an assistant acting through one of the member's tokens
    return TicketEvent(ticket=ticket, kind=kind, actor=actor, data=data)


def _event(ticket: Ticket, kind: str, actor: Membership | None, **data) -> TicketEvent:
    return events_insert([_row(ticket, kind, actor, **data)])[0]


def events_insert(rows: list[TicketEvent]) -> list[TicketEvent]:
    """Write the rows of many events in one insert, in their order (a batch of tickets)."""
    return TicketEvent.objects.bulk_create(rows)


# The events a batch writes together (events_insert) are built by the *_row functions; the
# one-ticket functions save the same row.


def ticket_created_row(*, ticket: Ticket, actor: Membership | None) -> TicketEvent:
    return _row(ticket, TicketEvent.Kind.CREATED, actor, via=ticket.created_via)


def ticket_created_event(*, ticket: Ticket, actor: Membership | None) -> TicketEvent:
    return events_insert([ticket_created_row(ticket=ticket, actor=actor)])[0]


def ticket_assigned_row(
    *, ticket: Ticket, actor: Membership | None, assignee: Membership | None, automatic: bool
) -> TicketEvent:
    return _row(
        ticket,
        TicketEvent.Kind.ASSIGNED,
        actor,
        assignee=assignee.user.email if assignee else None,
        automatic=automatic,
    )


def ticket_assigned_event(
    *, ticket: Ticket, actor: Membership | None, assignee: Membership | None, automatic: bool
) -> TicketEvent:
    row = ticket_assigned_row(ticket=ticket, actor=actor, assignee=assignee, automatic=automatic)
    return events_insert([row])[0]


def ticket_status_event(
    *, ticket: Ticket, actor: Membership | None, old: str, new: str
) -> TicketEvent:
    return _event(ticket, TicketEvent.Kind.STATUS, actor, old=old, new=new)


def ticket_priority_event(
    *, ticket: Ticket, actor: Membership | None, old: str, new: str
) -> TicketEvent:
    return _event(ticket, TicketEvent.Kind.PRIORITY, actor, old=old, new=new)


def ticket_queue_event(
    *, ticket: Ticket, actor: Membership | None, old: str | None, new: str | None
) -> TicketEvent:
    return _event(ticket, TicketEvent.Kind.QUEUE, actor, old=old, new=new)


def ticket_tags_event(
    *, ticket: Ticket, actor: Membership | None, old: list[str], new: list[str]
) -> TicketEvent:
    return _event(ticket, TicketEvent.Kind.TAGS, actor, old=old, new=new)


def ticket_updated_event(
    *, ticket: Ticket, actor: Membership | None, fields: list[str]
) -> TicketEvent:
    return _event(ticket, TicketEvent.Kind.UPDATED, actor, fields=fields)


def ticket_linked_row(*, ticket: Ticket, actor: Membership | None, thread: Thread) -> TicketEvent:
    return _row(ticket, TicketEvent.Kind.LINKED, actor, thread=thread.reference)


def ticket_linked_event(*, ticket: Ticket, actor: Membership | None, thread: Thread) -> TicketEvent:
    return events_insert([ticket_linked_row(ticket=ticket, actor=actor, thread=thread)])[0]


def ticket_unlinked_event(
    *, ticket: Ticket, actor: Membership | None, thread: Thread
) -> TicketEvent:
    return _event(ticket, TicketEvent.Kind.UNLINKED, actor, thread=thread.reference)


def ticket_note_added_event(*, ticket: Ticket, actor: Membership | None, note: Note) -> TicketEvent:
    return _event(ticket, TicketEvent.Kind.NOTE_ADDED, actor, note=note.pk)


def ticket_client_replied_event(*, ticket: Ticket, message: Message) -> TicketEvent:
    return _event(
        ticket,
        TicketEvent.Kind.CLIENT_REPLIED,
        None,
        thread=message.thread.reference,
        message=message.pk,
    )


def ticket_escalated_event(
    *, ticket: Ticket, actor: Membership | None, level: int, to: Membership | None
) -> TicketEvent:
    return _event(
        ticket, TicketEvent.Kind.ESCALATED, actor, level=level, to=to.user.email if to else None
    )


def ticket_incident_linked_event(
    *, ticket: Ticket, actor: Membership | None, parent: Ticket, child: Ticket
) -> TicketEvent:
    return _event(
        ticket,
        TicketEvent.Kind.INCIDENT_LINKED,
        actor,
        parent=parent.reference,
        child=child.reference,
    )


def ticket_incident_unlinked_event(
    *, ticket: Ticket, actor: Membership | None, parent: Ticket, child: Ticket
) -> TicketEvent:
    return _event(
        ticket,
        TicketEvent.Kind.INCIDENT_UNLINKED,
        actor,
        parent=parent.reference,
        child=child.reference,
    )


def ticket_merged_event(
    *, ticket: Ticket, actor: Membership | None, source: Ticket, target: Ticket
) -> TicketEvent:
    return _event(
        ticket, TicketEvent.Kind.MERGED, actor, source=source.reference, target=target.reference
    )


def ticket_macro_applied_event(*, ticket: Ticket, actor: Membership | None, macro) -> TicketEvent:
    return _event(ticket, TicketEvent.Kind.MACRO_APPLIED, actor, macro=macro.name)


def ticket_rated_event(*, ticket: Ticket, score: int) -> TicketEvent:
    return _event(ticket, TicketEvent.Kind.RATED, None, score=score)


def ticket_reply_sent_event(
    *, ticket: Ticket, actor: Membership | None, message: Message
) -> TicketEvent:
    return _event(
        ticket,
        TicketEvent.Kind.REPLY_SENT,
        actor,
        thread=message.thread.reference,
        message=message.pk,
    )


def ticket_draft_saved_event(
    *, ticket: Ticket, actor: Membership | None, thread: Thread
) -> TicketEvent:
    return _event(ticket, TicketEvent.Kind.DRAFT_SAVED, actor, thread=thread.reference)


def ticket_sla_overridden_event(
    *, ticket: Ticket, actor: Membership | None, old: str | None, new: str | None, reason: str
) -> TicketEvent:
    return _event(ticket, TicketEvent.Kind.SLA_OVERRIDDEN, actor, old=old, new=new, reason=reason)
