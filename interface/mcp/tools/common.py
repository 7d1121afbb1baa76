"""What the tools share: argument types, the registry of what each tool needs, lookups
that answer "not found" for another organization's objects, the shapes of the answers.

Each tool is a plain function of its arguments; the caller (token, organization, acting
member) comes from `caller()`. A reference or id of another organization is "not found",
exactly as one that does not exist, and so is a conversation or ticket outside what the
member sees when the organization keeps agents to their queues (tickets.visibility, as
the API and the pages apply it). No tool sends mail or deletes anything: writes are
notes, drafts, statuses, links and ticket fields, each a ticket event naming the token.
"""

import base64
import functools
import json
from datetime import datetime
from typing import Annotated, Literal

from django.core.exceptions import ValidationError
from django.db import close_old_connections
from django.db.models import Q
from django.http import Http404
from django.utils.dateparse import parse_datetime
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from inboxes import selectors as inbox_selectors
from inboxes.models import Inbox
from interface.mcp.audit import mcp_write_audited
from interface.mcp.caller import READ, WRITE, ToolAccess, caller
from threads import selectors as thread_selectors
from threads.models import Message, Thread
from tickets import selectors, sla, visibility
from tickets.models import Ticket
from tisket.errors import TisketError
from tisket.lib.untrusted import untrusted, untrusted_text
from tisket.models import Role

# --- Arguments ----------------------------------------------------------------------------

ThreadRef = Annotated[
    str,
    Field(
        description="A conversation's reference, e.g. THD-ACME-001 (from search_conversations "
        "or list_threads).",
        min_length=1,
        max_length=40,
    ),
]
TicketRef = Annotated[
    str,
    Field(
        description="A ticket's reference, e.g. TKT-ACME-002 (from list_tickets or "
        "get_ticket_for_thread).",
        min_length=1,
        max_length=40,
    ),
]
InboxId = Annotated[int, Field(description="An inbox's id (from list_inboxes).", ge=1)]
Cursor = Annotated[
    str | None,
    Field(
        description="Leave out for the first page; then pass the previous answer's next_cursor "
        "unchanged.",
        max_length=200,
    ),
]
Limit = Annotated[int, Field(description="How many items per page (1 to 100).", ge=1, le=100)]

TicketStatus = Literal["new", "open", "in_progress", "waiting_on_customer", "resolved", "closed"]
ThreadStatus = Literal["open", "in_progress", "resolved", "closed"]
Priority = Literal["urgent", "high", "normal", "low"]

# What each tool needs (read or write scope, least role); the server checks it before the
# call and lists a token only the tools it may call.
ACCESS: dict[str, ToolAccess] = {}


def tool(kind: str = READ, role: str = Role.VIEWER):
    """Register what a tool needs; its body runs with the connection hygiene of a request.

    The SDK runs a plain function on a worker thread, which keeps its own connection. A
    write tool's change is recorded in the audit log, in the same transaction.
    """

    def register(function):
        ACCESS[function.__name__] = ToolAccess(kind=kind, role=role)

        @functools.wraps(function)
        def run(**arguments):
            close_old_connections()
            try:
                if kind != WRITE:
                    return function(**arguments)
                with mcp_write_audited(who=caller(), tool=function.__name__, arguments=arguments):
                    return function(**arguments)
            finally:
                close_old_connections()

        return run

    return register


# --- Helpers ------------------------------------------------------------------------------


def when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def cursor_encode(updated_at: datetime, pk: int) -> str:
    raw = json.dumps([updated_at.isoformat(), pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        stamp, pk = json.loads(raw)
        when = parse_datetime(stamp)
        if when is None or not isinstance(pk, int):
            raise ValueError
        return when, pk
    except (ValueError, TypeError, json.JSONDecodeError):
        raise ToolError(
            "cursor: pass the next_cursor of the previous answer unchanged, or leave it out "
            "for the first page."
        ) from None


def page(rows: list, limit: int) -> tuple[list, str | None]:
    """The page's rows and the cursor of the next page (None on the last)."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, cursor_encode(rows[-1].updated_at, rows[-1].pk)


def keyset(after: tuple[datetime, int] | None) -> Q:
    if after is None:
        return Q()
    updated_at, pk = after
    return Q(updated_at__lt=updated_at) | Q(updated_at=updated_at, pk__lt=pk)


def thread_scope() -> Q | None:
    """The conversations the caller's member sees (their queues, when the organization
    keeps agents to them); None: all of the organization's."""
    return visibility.thread_scope(caller().actor)


def thread_find(reference: str) -> Thread:
    try:
        return thread_selectors.thread_get(
            organization=caller().organization, reference=reference.strip(), scope=thread_scope()
        )
    except Http404:
        raise ToolError(
            f"No conversation {reference!r} in this organization. Find references with "
            "search_conversations or list_threads."
        ) from None


def ticket_find(reference: str) -> Ticket:
    try:
        current = caller()
        return selectors.ticket_get(
            organization=current.organization, reference=reference.strip(), viewer=current.actor
        )
    except Http404:
        raise ToolError(
            f"No ticket {reference!r} in this organization. Find references with list_tickets "
            "or get_ticket_for_thread."
        ) from None


def ticket_reread(ticket: Ticket) -> Ticket:
    """A ticket the caller just changed, as it is now, for the answer: the change (a queue,
    an assignee) may have taken it out of what the member sees, and it still happened."""
    return selectors.ticket_get(organization=caller().organization, reference=ticket.reference)


def inbox_find(inbox_id: int) -> Inbox:
    try:
        return inbox_selectors.inbox_get(organization=caller().organization, pk=inbox_id)
    except Http404:
        raise ToolError(
            f"No inbox {inbox_id} in this organization. list_inboxes gives the ids."
        ) from None


def _error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        if hasattr(error, "message_dict"):
            return "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
        return " ".join(error.messages)
    return str(error)


class _Refused(ToolError):
    pass


def service_call(function, **kwargs):
    """Call a service; its domain error becomes a tool error the model can act on."""
    try:
        return function(**kwargs)
    except (TisketError, ValidationError) as error:
        raise _Refused(_error_text(error)) from None


def inbox_dict(inbox: Inbox) -> dict:
    return {
        "id": inbox.pk,
        "name": inbox.name,
        "address": inbox.address,
        "extra_addresses": [a.address for a in inbox.extra_addresses.all()],
        "display_name": inbox.display_name,
        "created_at": when(inbox.created_at),
    }


def thread_ticket_reference(thread: Thread) -> str | None:
    link = getattr(thread, "ticket_link", None)
    return link.ticket.reference if link is not None else None


def thread_dict(thread: Thread, *, ticket: str | None = "") -> dict:
    """A conversation's summary; `ticket` is its ticket's reference when the caller knows it."""
    return {
        "reference": thread.reference,
        "subject": untrusted(thread.subject, limit=998),
        "status": thread.status,
        "inbox": thread.inbox.name,
        "client_email": thread.client_email,
        "client_name": untrusted(thread.client_name, limit=200),
        "message_count": thread.message_count,
        "ticket": thread_ticket_reference(thread) if ticket == "" else ticket,
        "updated_at": when(thread.updated_at),
    }


def message_dict(message: Message) -> dict:
    inbound = message.direction == Message.Direction.INBOUND
    text = message.visible_text or message.text
    names = [a.filename for a in message.attachments.all()]
    if inbound:
        content = untrusted(text, note=True)
        content["attachment_names"] = [untrusted_text(n, limit=200) for n in names]
    else:
        content = {"untrusted": False, "text": text, "attachment_names": names}
    return {
        "id": message.pk,
        "direction": message.direction,
        "from_email": message.from_email,
        "from_name": untrusted_text(message.from_name, limit=200) if inbound else message.from_name,
        "author": message.author.user.email if message.author_id else None,
        "is_automated": message.is_automated,
        "at": when(message.created_at),
        "content": content,
    }


def ticket_dict(ticket: Ticket) -> dict:
    # A ticket opened by mail takes its subject and description from the client's mail.
    from_mail = ticket.created_via == Ticket.Via.EMAIL
    return {
        "reference": ticket.reference,
        "subject": untrusted(ticket.subject, limit=998) if from_mail else ticket.subject,
        "description": (
            untrusted(ticket.description, limit=5000) if from_mail else ticket.description[:5000]
        ),
        "status": ticket.status,
        "priority": ticket.priority,
        "queue": ticket.queue.name if ticket.queue else None,
        "assignee": ticket.assignee.user.email if ticket.assignee else None,
        "tags": [tag.name for tag in ticket.tags.all()],
        "threads": [link.thread.reference for link in ticket.thread_links.all()],
        "customer_email": ticket.customer_email,
        "created_via": ticket.created_via,
        "sla_state": sla.sla_state(ticket),
        "created_at": when(ticket.created_at),
        "updated_at": when(ticket.updated_at),
    }
