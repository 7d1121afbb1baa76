"""Polling inboxes' IMAP mailboxes into the inbound pipeline."""

import logging

from inboxes.imap import MailboxError, imap_checked, imap_new_mail, imap_progress
from inboxes.models import Inbox
from threads.inbound import inbound_receive

logger = logging.getLogger(__name__)


def mailbox_poll(*, inbox: Inbox) -> int:
    """Record the inbox's new IMAP mail; returns how many; an error is kept on the inbox."""
    fetched = 0
    try:
        for uid, raw in imap_new_mail(inbox=inbox):
            inbound_receive(raw=raw, source="imap", recipient=inbox.address)
            imap_progress(inbox=inbox, uid=uid)  # after the mail is committed: never skipped
            fetched += 1
    except MailboxError as exc:
        imap_checked(inbox=inbox, error=str(exc))
        logger.info("inbox %s: IMAP poll failed: %s", inbox.pk, exc)
        raise
    imap_checked(inbox=inbox)
    return fetched


def mailboxes_poll() -> dict[int, int | str]:
    """Poll every inbox that has a mailbox; one failing leaves the others unharmed."""
    outcome: dict[int, int | str] = {}
    for inbox in Inbox.objects.exclude(imap_host="").select_related("organization"):
        try:
            outcome[inbox.pk] = mailbox_poll(inbox=inbox)
        except MailboxError as exc:
            outcome[inbox.pk] = str(exc)
    return outcome
