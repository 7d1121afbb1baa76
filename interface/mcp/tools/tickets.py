"""Tools of tickets: list, read, change, note, SLA."""

from typing import Annotated, Any

from django.db import transaction
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from interface.mcp.caller import WRITE, caller
from interface.mcp.tools.common import (
    Cursor,
    Limit,
    Priority,
    TicketRef,
    TicketStatus,
    cursor_decode,
    keyset,
    page,
    service_call,
    thread_find,
    ticket_dict,
    ticket_find,
    ticket_reread,
    tool,
    when,
)
from tickets import selectors, services, sla
from tickets.models import Queue
from tisket.models import Membership, Role

# --- Tickets ------------------------------------------------------------------------------


@tool()
def list_tickets(
    status: Annotated[
        list[TicketStatus] | None, Field(description="Only these statuses; leave out for all.")
    ] = None,
    priority: Annotated[
        list[Priority] | None, Field(description="Only these priorities; leave out for all.")
    ] = None,
    assignee: Annotated[
        str | None,
        Field(description="A member's email address, 'me' or 'none'.", max_length=320),
    ] = None,
    thread: Annotated[
        str | None, Field(description="Only the ticket of this conversation.", max_length=40)
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 25,
) -> dict[str, Any]:
    """Tickets (internal work items), latest change first."""
    current = caller()
    assignee_param = ""
    if assignee in ("me", "none"):
        assignee_param = assignee
    elif assignee:
        assignee_param = str(_member(assignee).pk)
    tickets = selectors.tickets_list(
        organization=current.organization,
        me=current.actor,
        status=",".join(status or []),
        priority=",".join(priority or []),
        assignee=assignee_param,
        thread=thread or "",
        viewer=current.actor,
    )
    rows = list(
        tickets.filter(keyset(cursor_decode(cursor))).order_by("-updated_at", "-id")[: limit + 1]
    )
    rows, next_cursor = page(rows, limit)
    return {"tickets": [ticket_dict(t) for t in rows], "next_cursor": next_cursor}


@tool()
def get_ticket(ticket: TicketRef) -> dict[str, Any]:
    """One ticket, with its latest internal notes (members only; never sent to clients)."""
    found = ticket_find(ticket)
    notes = list(selectors.notes_list(ticket=found).order_by("-created_at", "-id")[:20])
    return {
        **ticket_dict(found),
        "notes": [
            {
                "author": note.author.user.email if note.author else None,
                "body": note.body,
                "at": when(note.created_at),
            }
            for note in notes
        ],
    }


@tool()
def get_sla_status(ticket: TicketRef) -> dict[str, Any]:
    """A ticket's SLA: its state (on_track, at_risk, breached, paused, or null when no clock
    runs) and the deadlines of its first response, next response and resolution."""
    found = ticket_find(ticket)
    return {
        "reference": found.reference,
        "policy": found.sla_policy.name if found.sla_policy else None,
        "state": sla.sla_state(found),
        "first_response_due_at": when(found.first_response_due_at),
        "next_response_due_at": when(found.next_response_due_at),
        "resolution_due_at": when(found.resolution_due_at),
        "paused_since": when(found.sla_paused_at),
        "first_responded_at": when(found.first_responded_at),
    }


def _member(email: str) -> Membership:
    member = (
        Membership.objects.select_related("user")
        .filter(organization=caller().organization, user__email=email.strip().lower())
        .first()
    )
    if member is None:
        raise ToolError(f"assignee: no member {email!r} in this organization.")
    return member


def _queue(name: str) -> Queue | None:
    if name.strip().lower() == "none":
        return None
    queues = Queue.objects.filter(organization=caller().organization)
    found = queues.filter(name__iexact=name.strip()).first()
    if found is None:
        names = ", ".join(queues.order_by("name").values_list("name", flat=True)[:50])
        raise ToolError(f"queue: no queue {name!r}. Queues: {names or 'none yet'}; or 'none'.")
    return found


@tool(WRITE, Role.AGENT)
def update_ticket(
    ticket: TicketRef,
    status: Annotated[TicketStatus | None, Field(description="The new status.")] = None,
    priority: Annotated[Priority | None, Field(description="The new priority.")] = None,
    queue: Annotated[
        str | None, Field(description="A queue's name, or 'none' to take it out.", max_length=100)
    ] = None,
    assignee: Annotated[
        str | None,
        Field(description="An agent's email address, or 'none' to unassign.", max_length=320),
    ] = None,
    tags: Annotated[
        list[Annotated[str, Field(max_length=50)]] | None,
        Field(
            description="The ticket's tags, all of them (replaces the current ones).", max_length=30
        ),
    ] = None,
) -> dict[str, Any]:
    """Change a ticket's status, priority, queue, assignee or tags; give at least one.

    Each change is on the ticket's timeline as done by an assistant via this token."""
    current = caller()
    if all(v is None for v in (status, priority, queue, assignee, tags)):
        raise ToolError("Give at least one of status, priority, queue, assignee, tags.")
    found = ticket_find(ticket)
    fields: dict[str, Any] = {}
    if priority is not None:
        fields["priority"] = priority
    if queue is not None:
        fields["queue"] = _queue(queue)
    if tags is not None:
        fields["tags"] = tags
    member = None
    if assignee is not None and assignee.strip().lower() != "none":
        member = _member(assignee)
    actor = current.actor
    with transaction.atomic():
        if fields:
            service_call(services.ticket_update, ticket=found, actor=actor, **fields)
        if assignee is not None:
            service_call(services.ticket_assign, ticket=found, assignee=member, actor=actor)
        if status is not None:
            service_call(services.ticket_set_status, ticket=found, status=status, actor=actor)
    return ticket_dict(ticket_reread(found))


@tool(WRITE, Role.AGENT)
def add_internal_note(
    ticket: Annotated[
        str,
        Field(
            description="A ticket's reference (TKT-…), or a conversation's (THD-…) that has a "
            "ticket.",
            min_length=1,
            max_length=40,
        ),
    ],
    body: Annotated[
        str,
        Field(
            description="The note: members see it, clients never.", min_length=1, max_length=20_000
        ),
    ],
) -> dict[str, Any]:
    """Add an internal note to a ticket (never shown or sent to a client)."""
    current = caller()
    if ticket.strip().upper().startswith("THD-"):
        found_thread = thread_find(ticket)
        linked = selectors.ticket_for_thread(
            organization=current.organization, thread_id=found_thread.pk
        )
        if linked is None:
            raise ToolError(
                f"{found_thread.reference} has no ticket: link it with link_thread_to_ticket "
                "first, or name a ticket."
            )
        ticket = linked.reference
    found = ticket_find(ticket)
    note = service_call(services.ticket_note_add, ticket=found, body=body, actor=current.actor)
    return {"ticket": found.reference, "note": {"id": note.pk, "body": note.body}}
