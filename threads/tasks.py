"""Celery tasks of the outbox: they take ids and call the services.

Mail coming in is tickets' (tickets.tasks): a stored mail opens its ticket.
"""

from celery import shared_task
from django.conf import settings

from threads import outbound
from threads.portal import portal_clear

# Above the network deadline, which ends a slow conversation first; this catches the rest.
SEND_LIMIT = settings.TISKET_MAIL_SEND_DEADLINE + 30


@shared_task(acks_late=True, soft_time_limit=SEND_LIMIT, time_limit=SEND_LIMIT + 30)
def outbox_send_task(outbound_id: int) -> str | None:
    """Send one outbound mail; a row already claimed or sent is left alone."""
    sent = outbound.outbox_send(outbound_id=outbound_id)
    return sent.status if sent else None


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def outbox_send_many_task(outbound_ids: list[int]) -> int:
    """Send many outbound mails (notifications written together); each row is claimed alone."""
    sent = [outbound.outbox_send(outbound_id=pk) for pk in outbound_ids]
    return sum(1 for row in sent if row is not None and row.status == "sent")


@shared_task
def outbox_sweep_task() -> int:
    """Queue outbound mail that is due again; beat runs it every minute."""
    return len(outbound.outbox_sweep())


@shared_task
def portal_clear_task() -> int:
    """Delete the portal's spent sign-in links and sessions (beat runs it every few hours)."""
    return portal_clear()
