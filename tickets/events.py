"""The ticket timeline: one explicit function per kind of change, never a post_save signal."""

from threads.models import Message, Thread
from tickets.models import Note, Ticket, TicketEvent
from tisket.models import Membership


def _event(ticket: Ticket, kind: str, actor: Membership | None, **data) -> TicketEvent:
    return TicketEvent.objects.create(ticket=ticket, kind=kind, actor=actor, data=data)


def ticket_created_event(*, ticket: Ticket, actor: Membership | None) -> TicketEvent:
    return _event(ticket, TicketEvent.Kind.CREATED, actor, via=ticket.created_via)


def ticket_assigned_event(
    *, ticket: Ticket, actor: Membership | None, assignee: Membership | None, automatic: bool
) -> TicketEvent:
    return _event(
        ticket,
        TicketEvent.Kind.ASSIGNED,
        actor,
        assignee=assignee.user.email if assignee else None,
        automatic=automatic,
    )


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


def ticket_linked_event(*, ticket: Ticket, actor: Membership | None, thread: Thread) -> TicketEvent:
    return _event(ticket, TicketEvent.Kind.LINKED, actor, thread=thread.reference)


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
