"""Celery tasks of tickets: mail coming in (each stored mail with its ticket), the SLA
sweep, and recomputing deadlines after a policy change. They take ids and call services."""

import time

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError

from inboxes.models import Inbox
from tickets import sla
from tickets.intake import mail_after_store, wake
from tickets.intake.mailboxes import LEASE_MARGIN, MailboxError, mailbox_poll, mailboxes_to_poll
from tickets.notification_mail import notification_digests_send, notification_mails_send
from tisket import liveness

# Above the poll's network deadline, which ends a slow mailbox first; this catches the rest.
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
    Each stored mail opens or moves its ticket and is acknowledged in the
    transaction that stores it (tickets.intake.mail_after_store). A mail's own
    trouble fails that mail alone (threads.ingest); the database going away
    fails the run, which is retried, backing off, for the mails that rode along
    with it (after eight tries, the periodic sweep).
    """
    return wake.intake_run(after_store=mail_after_store)


@shared_task
def inbound_mail_sweep() -> int:
    """Queue mail left pending; beat runs it every minute."""
    return len(wake.intake_sweep())


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


@shared_task
def sla_sweep_task() -> dict:
    """Catch up on changed policies, then warn, breach, notify and escalate; every minute."""
    started = time.monotonic()
    recomputed = sla.sla_recompute_stale()
    result = sla.sla_sweep()
    liveness.job_record(name="sla_sweep", seconds=time.monotonic() - started)
    return {"recomputed": recomputed, "warnings": result.warnings, "breaches": result.breaches}


@shared_task
def notification_mails_task() -> dict:
    """Mail members what is still unread after its delay, and the digests due; every minute."""
    started = time.monotonic()
    mails = notification_mails_send()
    digests = notification_digests_send()
    liveness.job_record(name="notification_mails", seconds=time.monotonic() - started)
    return {"mails": mails, "digests": digests}
