"""Polling inboxes' IMAP mailboxes into the inbound pipeline."""

import logging

from django.conf import settings

from inboxes.imap import (
    MailboxError,
    imap_checked,
    imap_lease_release,
    imap_lease_take,
    imap_new_mail,
    imap_progress,
)
from inboxes.models import Inbox
from tickets.intake import mail_receive
from tisket.lib import netguard

logger = logging.getLogger(__name__)
# The lease outlives the poll's deadline a little: a poll is over before another may start.
LEASE_MARGIN = 30


class MailboxBusy(MailboxError):
    """Another poll of this mailbox is running."""


def mailbox_poll(*, inbox: Inbox) -> int:
    """Record the inbox's new IMAP mail; returns how many; an error is kept on the inbox.

    One poll per mailbox at a time (a lease in the inbox's row), and each under a
    total deadline: a mailbox that drips its answers holds one worker for that
    long at most, and never two.
    """
    deadline = settings.TISKET_MAIL_POLL_DEADLINE
    if not imap_lease_take(inbox=inbox, seconds=deadline + LEASE_MARGIN):
        raise MailboxBusy("A poll of this mailbox is already running; try again in a minute.")
    fetched = 0
    try:
        with netguard.deadline(deadline) as limit:
            for uid, raw in imap_new_mail(inbox=inbox, limit=limit):
                mail_receive(raw=raw, source="imap", recipient=inbox.address)
                imap_progress(inbox=inbox, uid=uid)  # after the mail is committed: never skipped
                fetched += 1
    except MailboxError as exc:
        imap_checked(inbox=inbox, error=str(exc))
        logger.info("inbox %s: IMAP poll failed after %s mail(s): %s", inbox.pk, fetched, exc)
        raise
    finally:
        imap_lease_release(inbox=inbox)
    imap_checked(inbox=inbox)
    return fetched


def mailboxes_to_poll() -> list[int]:
    """The inboxes that have a mailbox to poll."""
    return list(Inbox.objects.exclude(imap_host="").order_by("pk").values_list("pk", flat=True))


def mailboxes_poll() -> dict[int, int | str]:
    """Poll every inbox that has a mailbox, one after another; one failing leaves the others."""
    outcome: dict[int, int | str] = {}
    for inbox in Inbox.objects.exclude(imap_host="").select_related("organization"):
        try:
            outcome[inbox.pk] = mailbox_poll(inbox=inbox)
        except MailboxError as exc:
            outcome[inbox.pk] = str(exc)
    return outcome
