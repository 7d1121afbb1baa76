"""Celery tasks of the inbound pipeline: they take ids and call the services."""

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError

from inboxes.models import Inbox
from threads import inbound, outbound
from threads.mailboxes import LEASE_MARGIN, MailboxError, mailbox_poll, mailboxes_to_poll

# Above the network deadlines, which end a slow conversation first; these catch the rest.
SEND_LIMIT = settings.TISKET_MAIL_SEND_DEADLINE + 30
POLL_LIMIT = settings.TISKET_MAIL_POLL_DEADLINE + LEASE_MARGIN


@shared_task(
    acks_late=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=8,
    # Our own work on our own database: a long backlog is taken in one run.
    soft_time_limit=900,
    time_limit=960,
)
def inbound_mail_process(inbound_id: int | None = None) -> int:
    """Process pending mail in batches until none is left (the queued one among them).

    Every recorded mail queues this task; the first to run takes the whole
    backlog in batches, and the others find little or nothing left. Safe to
    run twice, and on several workers at once: each batch locks its mails.
    A mail's own trouble fails that mail alone (threads.ingest); the database
    going away fails the run, which is retried, backing off, for the mails
    that rode along with it (after eight tries, the periodic sweep).
    """
    return inbound.inbound_process_queued()


@shared_task
def inbound_mail_sweep() -> int:
    """Queue mail left pending; beat runs it every minute."""
    return len(inbound.inbound_sweep())


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
def mailboxes_poll_task() -> int:
    """Queue a poll of each inbox's IMAP mailbox; beat runs it every minute."""
    inboxes = mailboxes_to_poll()
    for inbox_id in inboxes:
        mailbox_poll_task.delay(inbox_id)
    return len(inboxes)


@shared_task(soft_time_limit=POLL_LIMIT, time_limit=POLL_LIMIT + 30)
def mailbox_poll_task(inbox_id: int) -> int | None:
    """Poll one inbox's mailbox; a poll already running for it is left to finish."""
    inbox = Inbox.objects.filter(pk=inbox_id).exclude(imap_host="").first()
    if inbox is None:
        return None
    try:
        return mailbox_poll(inbox=inbox)
    except MailboxError:
        return None  # kept on the inbox for its admins; the next minute tries again
