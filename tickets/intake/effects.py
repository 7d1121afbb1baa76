"""What a stored mail does to tickets, in the transaction that stored it."""

from django.utils import timezone

from threads.ingest import InboundResult
from threads.models import Message
from tickets import events, notifications, sla
from tickets.conversations import NewConversation, conversations_tickets_open, queues_for_inboxes
from tickets.models import Ticket, TicketThread
from tickets.services import ticket_answered, ticket_set_status
from tisket.models import Notification
from tisket.notifications.matrix import Event


def tickets_after_ingest(results: list[InboundResult]) -> None:
    """What new mail does to tickets, in the transaction that stored the mail.

    Every new thread opens its ticket, in the queue its inbox feeds (the
    organization's default queue unless an admin chose another), an
    auto-reply's too, so that an agent can close it; a client's reply moves
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
    by_organization: dict[int, list[InboundResult]] = {}
    for result in results:
        by_organization.setdefault(result.thread.organization_id, []).append(result)
    for group in by_organization.values():
        queues = queues_for_inboxes(
            organization=group[0].thread.organization,
            inbox_ids={r.thread.inbox_id for r in group},
        )
        tickets = conversations_tickets_open(
            conversations=[
                NewConversation(
                    thread=r.thread,
                    queue=queues[r.thread.inbox_id],
                    description=r.message.visible_text,
                )
                for r in group
            ],
            actor=None,
            via=Ticket.Via.EMAIL,
        )
        opened = [
            (
                ticket,
                f"New conversation {r.thread.reference} from {r.message.from_email}",
                ticket.subject,
            )
            for r, ticket in zip(group, tickets, strict=True)
            if not r.message.is_automated
        ]
        notifications.tickets_notify(
            event=Event.NEW_CONVERSATION, kind=Notification.Kind.NEW_CONVERSATION, items=opened
        )


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
        notifications.ticket_notify(
            event=Event.CLIENT_REPLIED,
            ticket=ticket,
            kind=Notification.Kind.CLIENT_REPLIED,
            title=f"{message.from_email} replied on {result.thread.reference}",
            body=message.visible_text[:500],
        )
        if ticket.status in (Ticket.Status.WAITING_ON_CUSTOMER, Ticket.Status.RESOLVED):
            ticket_set_status(ticket=ticket, status=Ticket.Status.OPEN, actor=None)
        else:
            Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now())
        sla.sla_client_wrote(ticket, at=message.created_at)
