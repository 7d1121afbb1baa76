"""What a client is told of their conversation's history: opened, waiting on them, resolved.

Read from the ticket's events, which agents' work also writes: only the kinds meant for
the client come here (created, a status, a rating), never notes, assignments or tags.
"""

from dataclasses import dataclass
from datetime import datetime

from threads.models import Thread
from tickets.models import Ticket, TicketEvent

DONE = ("resolved", "closed")
# How each status a ticket moves to is told to the client; a move to none of these is
# the desk's own business (picked up, in progress) and not shown.
TOLD = {
    Ticket.Status.WAITING_ON_CUSTOMER: "Waiting on you",
    Ticket.Status.RESOLVED: "Resolved",
    Ticket.Status.CLOSED: "Closed",
}


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    label: str
    detail: str = ""


def client_timeline(*, thread: Thread, ticket: Ticket | None) -> list[TimelineEntry]:
    """The status changes meant for the client, oldest first: one query, however many."""
    entries = [TimelineEntry(at=thread.created_at, label="Opened")]
    if ticket is None:
        return entries
    events = (
        TicketEvent.objects.filter(
            ticket=ticket, kind__in=[TicketEvent.Kind.STATUS, TicketEvent.Kind.RATED]
        )
        .only("kind", "data", "created_at")
        .order_by("created_at", "id")
    )
    for event in events:
        data = event.data if isinstance(event.data, dict) else {}
        if event.kind == TicketEvent.Kind.RATED:
            score = data.get("score")
            if isinstance(score, int):
                entries.append(TimelineEntry(at=event.created_at, label=f"You rated {score} of 5"))
            continue
        old, new = data.get("old"), data.get("new")
        if old in DONE and new not in DONE:
            entries.append(TimelineEntry(at=event.created_at, label="Reopened"))
        elif new in TOLD and new != old:
            entries.append(TimelineEntry(at=event.created_at, label=TOLD[new]))
    return entries
