"""What a stored mail does to tickets, in the transaction that stored it."""

from django.utils import timezone

from threads.ingest import InboundResult
from threads.models import Message
from tickets import events, notifications, sla
from tickets.models import Queue, Ticket, TicketThread
from tickets.services import ticket_answered, ticket_create, ticket_set_status, ticket_thread_link
from tisket.models import Notification


def tickets_after_ingest(results: list[InboundResult]) -> None:
    """What new mail does to tickets, in the transaction that stored the mail.

    A new thread opens a ticket when its inbox is in a queue (the inbox's
    default queue), unless automatic mail started it; a client's reply moves
    a waiting or resolved ticket back to open; a member's reply from their own
    mail client is a first response.
    """
    accepted = [r for r in results if r.message is not None and r.inbound.status == "accepted"]
    new_threads = [r for r in accepted if r.thread_created]
    if new_threads:
        _tickets_open_for_threads(new_threads)
    replies = [r for r in accepted if not r.thread_created]
    if replies:
        _tickets_follow_replies(replies)


def _tickets_open_for_threads(results: list[InboundResult]) -> None:
    inbox_ids = {r.thread.inbox_id for r in results}
    queues = {}
    for queue in Queue.objects.filter(inboxes__in=inbox_ids).prefetch_related("inboxes"):
        for inbox in queue.inboxes.all():
            queues.setdefault(inbox.pk, queue)
    for result in results:
        queue = queues.get(result.thread.inbox_id)
        if queue is None:
            continue  # an inbox in no queue keeps its mail as threads only
        if result.message.is_automated:
            continue  # a bounce or an auto-reply is no work for an agent
        thread, message = result.thread, result.message
        ticket = ticket_create(
            organization=thread.organization,
            subject=thread.subject or "(no subject)",
            actor=None,
            description=message.visible_text,
            queue=queue,
            customer_email=thread.client_email,
            created_via=Ticket.Via.EMAIL,
        )
        ticket_thread_link(ticket=ticket, thread=thread, actor=None)


def _tickets_follow_replies(results: list[InboundResult]) -> None:
    links = {
        link.thread_id: link.ticket
        for link in TicketThread.objects.select_related("ticket").filter(
            thread_id__in={r.thread.pk for r in results}
        )
    }
    for result in results:
        ticket, message = links.get(result.thread.pk), result.message
        if ticket is None:
            continue
        if message.direction == Message.Direction.OUTBOUND:
            # A member answering from their own mail client: the same as from the page.
            ticket_answered(ticket=ticket, message=message, actor=message.author)
            continue
        if message.is_automated:
            continue
        events.ticket_client_replied_event(ticket=ticket, message=message)
        if ticket.assignee_id is not None:
            notifications.notify_all(
                [
                    notifications.Notice(
                        recipient=ticket.assignee,
                        kind=Notification.Kind.CLIENT_REPLIED,
                        title=f"{message.from_email} replied on {ticket.reference}",
                        body=message.visible_text[:500],
                        url=notifications.ticket_url(ticket),
                    )
                ]
            )
        if ticket.status in (Ticket.Status.WAITING_ON_CUSTOMER, Ticket.Status.RESOLVED):
            ticket_set_status(ticket=ticket, status=Ticket.Status.OPEN, actor=None)
        else:
            Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now())
        sla.sla_client_wrote(ticket, at=message.created_at)
