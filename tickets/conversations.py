"""Every conversation has its ticket: the default queue, the queue of an inbox, and the ticket a
new conversation opens, whether a client's mail or an agent's first message started it."""

from django.db import IntegrityError, transaction

from inboxes.models import Inbox
from threads import outbound
from threads.models import Message, OutboundMail, Thread
from tickets.models import Queue, Ticket
from tickets.services import (
    ticket_answered,
    ticket_assign_round_robin,
    ticket_create,
    ticket_thread_link,
)
from tisket.errors import TisketError
from tisket.models import Membership, Organization

DEFAULT_QUEUE_NAME = "General"


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
    ticket = ticket_create(
        organization=thread.organization,
        subject=thread.subject or "(no subject)",
        actor=actor,
        description=description,
        queue=queue,
        customer_email=thread.client_email,
        created_via=via,
        assignee=assignee,
        round_robin=False,
    )
    ticket_thread_link(ticket=ticket, thread=thread, actor=actor)
    if assignee is None and queue.auto_assign:
        ticket_assign_round_robin(ticket=ticket, actor=actor)
    return ticket


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
