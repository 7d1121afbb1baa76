"""Every conversation has its ticket: the default queue, the queue of an inbox, and the ticket a
new conversation opens, whether a client's mail or an agent's first message started it."""

from collections import Counter
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from inboxes.models import Inbox
from threads import outbound
from threads.models import Message, OutboundMail, Thread
from tickets import events, sla
from tickets.models import Queue, Ticket, TicketThread
from tickets.services import (
    THREAD_STATUS_OF,
    assignable_check,
    assigned_notify,
    same_organization_check,
    ticket_answered,
    ticket_new,
    ticket_subject_check,
    tickets_assign_round_robin,
)
from tisket.errors import ConflictError, TisketError
from tisket.models import Membership, Organization
from tisket.services import sequence_next

DEFAULT_QUEUE_NAME = "General"
NO_SUBJECT = "(no subject)"


def queue_default(*, organization: Organization) -> Queue:
    """The organization's default queue, made on first need (an organization always has one)."""
    queue = Queue.objects.filter(organization=organization, is_default=True).first()
    if queue is not None:
        return queue
    name = DEFAULT_QUEUE_NAME
    taken = set(Queue.objects.filter(organization=organization).values_list("name", flat=True))
    number = 2
    while name in taken:
        name, number = f"{DEFAULT_QUEUE_NAME} {number}", number + 1
    try:
        with transaction.atomic():
            return Queue.objects.create(organization=organization, name=name, is_default=True)
    except IntegrityError:
        # Another transaction made it first: the partial unique constraint allows one.
        return Queue.objects.get(organization=organization, is_default=True)


def queues_for_inboxes(*, organization: Organization, inbox_ids: set[int]) -> dict[int, Queue]:
    """The queue each inbox feeds: the one an admin chose for it, else the default queue."""
    queues: dict[int, Queue] = {}
    for queue in Queue.objects.filter(
        organization=organization, inboxes__in=inbox_ids
    ).prefetch_related("inboxes"):
        for inbox in queue.inboxes.all():
            queues.setdefault(inbox.pk, queue)
    missing = inbox_ids - set(queues)
    if missing:
        default = queue_default(organization=organization)
        queues.update(dict.fromkeys(missing, default))
    return queues


def conversation_ticket_open(
    *,
    thread: Thread,
    queue: Queue,
    actor: Membership | None,
    description: str,
    via: str,
    assignee: Membership | None = None,
) -> Ticket:
    """Open the ticket of a new conversation in its queue and link the two; without an
    assignee, the queue's round-robin chooses one if it has it."""
    conversation = NewConversation(
        thread=thread, queue=queue, description=description, assignee=assignee
    )
    return conversations_tickets_open(conversations=[conversation], actor=actor, via=via)[0]


@dataclass(frozen=True)
class NewConversation:
    """A conversation whose ticket opens: in this queue, described so, given to the assignee
    (else to the queue's round-robin, if it has it)."""

    thread: Thread
    queue: Queue
    description: str
    assignee: Membership | None = None


@transaction.atomic
def conversations_tickets_open(
    *, conversations: list[NewConversation], actor: Membership | None, via: str
) -> list[Ticket]:
    """conversation_ticket_open for many conversations (a batch of new mail) in a number of
    queries that does not grow with the batch: the same tickets, clocks, links, events and
    notices as one after the other, in the order given."""
    organizations = _organizations(conversations)
    for new in conversations:
        organization = organizations[new.thread.organization_id]
        ticket_subject_check(new.thread.subject or NO_SUBJECT)
        same_organization_check(organization, new.queue)
        assignable_check(organization, new.assignee)
    taken = TicketThread.objects.filter(thread__in=[new.thread for new in conversations])
    for link in taken.select_related("ticket", "thread")[:1]:
        raise ConflictError(f"{link.thread.reference} already belongs to {link.ticket.reference}.")
    # Each organization's numbers in one block, its counter's row locked until the commit;
    # organizations in id order, so that two batches never wait on each other in a circle.
    counts = Counter(new.thread.organization_id for new in conversations)
    numbers = {
        organization_id: sequence_next(
            organization_id=organization_id, name="ticket", count=counts[organization_id]
        )
        - counts[organization_id]
        for organization_id in sorted(counts)
    }
    now = timezone.now()
    tickets = []
    for new in conversations:
        numbers[new.thread.organization_id] += 1
        tickets.append(
            ticket_new(
                organization=organizations[new.thread.organization_id],
                number=numbers[new.thread.organization_id],
                subject=new.thread.subject or NO_SUBJECT,
                description=new.description,
                queue=new.queue,
                assignee=new.assignee,
                customer_email=new.thread.client_email,
                created_via=via,
                now=now,
            )
        )
    sla.sla_clocks_start(tickets)
    Ticket.objects.bulk_create(tickets)
    given = [ticket for ticket in tickets if ticket.assignee is not None]
    # Told before the conversation is linked, as a ticket given on creation always was.
    assigned_notify(tickets=given, actor=actor)
    TicketThread.objects.bulk_create(
        [
            TicketThread(ticket=ticket, thread=new.thread, created_at=now)
            for new, ticket in zip(conversations, tickets, strict=True)
        ]
    )
    for status in {THREAD_STATUS_OF[ticket.status] for ticket in tickets}:
        threads = [
            new.thread.pk
            for new, ticket in zip(conversations, tickets, strict=True)
            if THREAD_STATUS_OF[ticket.status] == status
        ]
        Thread.objects.filter(pk__in=threads).exclude(status=status).update(status=status)
    rows = []
    for new, ticket in zip(conversations, tickets, strict=True):
        rows.append(events.ticket_created_row(ticket=ticket, actor=actor))
        if ticket.assignee is not None:
            rows.append(
                events.ticket_assigned_row(
                    ticket=ticket, actor=actor, assignee=ticket.assignee, automatic=False
                )
            )
        rows.append(events.ticket_linked_row(ticket=ticket, actor=actor, thread=new.thread))
    events.events_insert(rows)
    turns = [ticket for ticket in tickets if ticket.assignee is None and ticket.queue.auto_assign]
    tickets_assign_round_robin(tickets=turns, actor=actor)
    return tickets


def _organizations(conversations: list[NewConversation]) -> dict[int, Organization]:
    """The conversations' organizations, by id: those their threads hold, the rest read once."""
    found = {
        new.thread.organization_id: new.thread.organization
        for new in conversations
        if Thread.organization.is_cached(new.thread)
    }
    missing = {new.thread.organization_id for new in conversations} - set(found)
    if missing:
        found.update(Organization.objects.in_bulk(missing))
    return found


@transaction.atomic
def conversation_start(
    *,
    inbox: Inbox,
    author: Membership,
    to: list[str],
    subject: str,
    body: str,
    cc: list[str] = (),
    via: str = Ticket.Via.WEB,
) -> tuple[Thread, Ticket, Message, OutboundMail]:
    """An agent writes to a client first: the thread, its first mail, and its ticket."""
    if not inbox.is_active:
        raise TisketError(
            f"The inbox {inbox.address} is inactive: start the conversation from another."
        )
    thread, message, mail = outbound.thread_start(
        inbox=inbox, author=author, to=to, cc=list(cc), subject=subject, body=body
    )
    queue = queues_for_inboxes(organization=inbox.organization, inbox_ids={inbox.pk})[inbox.pk]
    # Who wrote first has it in hand.
    ticket = conversation_ticket_open(
        thread=thread, queue=queue, actor=author, description="", via=via, assignee=author
    )
    ticket_answered(ticket=ticket, message=message, actor=author)
    return thread, ticket, message, mail
