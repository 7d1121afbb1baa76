"""An inbox's own IMAP mailbox: new mail by UID, read with BODY.PEEK, in a read-only folder.

Nothing depends on the \\Seen flag: a mail someone else read in the meantime
is still new to us. Progress (UIDVALIDITY and the last UID) is saved after
each mail, so a poll that breaks off resumes where it stopped.
"""

import contextlib
import imaplib
import logging
import re
import socket
import ssl
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from inboxes.models import Inbox
from tisket.lib import netguard
from tisket.lib.secrets_box import secret_open, secret_seal

logger = logging.getLogger(__name__)

Security = Inbox.Security
TIMEOUT = 20


class MailboxError(Exception):
    """The mailbox could not be read; the message says why in an admin's words."""


def inbox_imap_set(
    *,
    inbox: Inbox,
    host: str,
    port: int = 993,
    security: str = Security.SSL,
    username: str = "",
    password: str | None = None,
    folder: str = "INBOX",
) -> Inbox:
    """Point the inbox at an IMAP mailbox (host '' turns polling off); None keeps the password."""
    changed_box = (host, port, username, folder) != (
        inbox.imap_host,
        inbox.imap_port,
        inbox.imap_username,
        inbox.imap_folder,
    )
    inbox.imap_host, inbox.imap_port = host.strip(), port
    inbox.imap_security, inbox.imap_username = Security(security), username
    inbox.imap_folder = folder or "INBOX"
    fields = ["imap_host", "imap_port", "imap_security", "imap_username", "imap_folder"]
    if password is not None:
        inbox.imap_password_sealed = secret_seal(password)
        fields.append("imap_password_sealed")
    if changed_box:  # another mailbox: its UIDs mean nothing to the old one's
        inbox.imap_uidvalidity, inbox.imap_last_uid = None, 0
        fields += ["imap_uidvalidity", "imap_last_uid"]
    inbox.save(update_fields=fields)
    return inbox


class _Guarded:
    """imaplib's socket, connected to a checked address of the host, watched by a deadline."""

    limit: netguard.Deadline

    def read(self, size: int) -> bytes:
        # A literal's length is the server's word: imaplib would allocate all of it at once.
        if size > settings.TISKET_INBOUND_MAX_REQUEST_BYTES:
            raise imaplib.IMAP4.error(f"the server announced {size} bytes at once")
        return super().read(size)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        sock = netguard.connect(
            self.host,
            self.port,
            allowed=settings.TISKET_ALLOWED_MAIL_HOSTS,
            limit=self.limit,
            timeout=min(timeout or TIMEOUT, TIMEOUT),
        )
        sock.settimeout(timeout)
        if isinstance(self, imaplib.IMAP4_SSL):
            return self.ssl_context.wrap_socket(sock, server_hostname=self.host)
        return sock


def _client_class(security: str, limit: netguard.Deadline) -> type[imaplib.IMAP4]:
    base = imaplib.IMAP4_SSL if security == Security.SSL else imaplib.IMAP4
    return type("GuardedIMAP", (_Guarded, base), {"limit": limit})


def _connect(inbox: Inbox, limit: netguard.Deadline) -> imaplib.IMAP4:
    timeout = min(TIMEOUT, settings.TISKET_MAIL_IO_TIMEOUT)
    try:
        client_class = _client_class(inbox.imap_security, limit)
        if inbox.imap_security == Security.SSL:
            client = client_class(
                inbox.imap_host, inbox.imap_port, ssl_context=ssl.create_default_context(),
                timeout=timeout,
            )  # fmt: skip
        else:
            client = client_class(inbox.imap_host, inbox.imap_port, timeout=timeout)
            if inbox.imap_security == Security.STARTTLS:
                try:
                    client.starttls(ssl_context=ssl.create_default_context())
                except imaplib.IMAP4.error:
                    client.shutdown()
                    raise MailboxError(
                        "TLS: the server does not offer a secure connection (STARTTLS)."
                    ) from None
    except (imaplib.IMAP4.error, OSError, netguard.HostRefused) as exc:
        raise _failure(exc, limit) from None
    try:
        client.login(inbox.imap_username, secret_open(inbox.imap_password_sealed))
    except imaplib.IMAP4.error:
        client.shutdown()
        raise MailboxError(
            "Authentication: the server refused the user name or password."
        ) from None
    except OSError as exc:
        raise _failure(exc, limit) from None
    return client


def _failure(error: BaseException, limit: netguard.Deadline) -> MailboxError:
    """The class of the failure, never the server's words (a tenant's server may be anyone's)."""
    logger.info("IMAP failure: %r", error)
    if isinstance(error, imaplib.IMAP4.abort | imaplib.IMAP4.error) and not limit.expired:
        if isinstance(error, imaplib.IMAP4.abort):
            return MailboxError("Connection: the server closed the connection.")
        return MailboxError("Protocol: the server refused a command of the mailbox.")
    return MailboxError(netguard.failure_class(error, expired=limit.expired))


def _select(client: imaplib.IMAP4, inbox: Inbox) -> int:
    status, _ = client.select(f'"{inbox.imap_folder}"', readonly=True)
    if status != "OK":
        raise MailboxError(f"Folder: there is no folder '{inbox.imap_folder}'.")
    try:
        return int(client.response("UIDVALIDITY")[1][0])
    except (TypeError, ValueError, IndexError):
        raise MailboxError("Protocol: the server gave the folder no UIDVALIDITY.") from None


def _numbers(data: list) -> list[int]:
    """The numbers of a SEARCH answer; a server's garbage is a MailboxError."""
    try:
        return [int(n) for n in (data[0] or b"").split()]
    except (TypeError, ValueError, IndexError):
        raise MailboxError("Protocol: the server's SEARCH answer is not a list of UIDs.") from None


def imap_test(*, inbox: Inbox) -> tuple[bool, str]:
    """Connect, log in and open the folder as polling would: (ok, what happened)."""
    if not inbox.imap_host:
        return False, "This inbox has no IMAP mailbox."
    with netguard.deadline(settings.TISKET_MAIL_TEST_DEADLINE) as limit:
        try:
            client = _connect(inbox, limit)
            try:
                _select(client, inbox)
                count = len(_numbers(client.uid("SEARCH", None, "ALL")[1]))
            finally:
                with contextlib.suppress(imaplib.IMAP4.error, OSError):
                    client.logout()
        except MailboxError as exc:
            return False, str(exc)
        except (imaplib.IMAP4.error, OSError) as exc:
            return False, str(_failure(exc, limit))
    return True, f"Connected; the folder {inbox.imap_folder} holds {count} mail(s)."


def imap_new_mail(*, inbox: Inbox, limit: netguard.Deadline) -> Iterator[tuple[int, bytes]]:
    """(uid, raw bytes) of each mail not fetched yet, oldest first; raises MailboxError.

    The caller stores each mail, then calls imap_progress(inbox, uid) to move on.
    Everything happens before the deadline; what is left waits for the next poll.
    """
    client = _connect(inbox, limit)
    try:
        uidvalidity = _select(client, inbox)
        if uidvalidity != inbox.imap_uidvalidity:
            # The server renumbered the folder: read it all again; deduplication
            # keeps what we already have from being stored twice.
            inbox.imap_uidvalidity, inbox.imap_last_uid = uidvalidity, 0
            inbox.save(update_fields=["imap_uidvalidity", "imap_last_uid"])
        status, data = client.uid("SEARCH", None, f"UID {inbox.imap_last_uid + 1}:*")
        # "n:*" always names the newest mail, even one below n: filter.
        uids = sorted(u for u in _numbers(data) if u > inbox.imap_last_uid)
        for uid in uids:
            if _size(client, uid) > settings.TISKET_INBOUND_MAX_REQUEST_BYTES:
                # Larger than any edge takes: left in the mailbox, for its owner to see.
                logger.warning("inbox %s: IMAP UID %s is too large; left in place", inbox.pk, uid)
                continue
            status, parts = client.uid("FETCH", str(uid), "(BODY.PEEK[])")
            raw = next((p[1] for p in parts if isinstance(p, tuple)), None)
            if status == "OK" and raw is not None:
                yield uid, raw
    except (imaplib.IMAP4.error, OSError) as exc:
        raise _failure(exc, limit) from None
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):  # the work is done or lost
            client.logout()


def _size(client: imaplib.IMAP4, uid: int) -> int:
    """The mail's RFC822.SIZE as the server states it (0 when it does not say)."""
    status, parts = client.uid("FETCH", str(uid), "(RFC822.SIZE)")
    text = b" ".join(p if isinstance(p, bytes) else p[0] for p in parts if p)
    found = re.search(rb"RFC822\.SIZE (\d{1,12})", text)
    return int(found.group(1)) if status == "OK" and found else 0


def imap_progress(*, inbox: Inbox, uid: int) -> None:
    inbox.imap_last_uid = uid
    inbox.save(update_fields=["imap_last_uid"])


def imap_lease_take(*, inbox: Inbox, seconds: float) -> bool:
    """Claim the mailbox for one poll (a conditional UPDATE); False if a poll holds it."""
    now = timezone.now()
    return bool(
        Inbox.objects.filter(pk=inbox.pk)
        .filter(Q(imap_poll_lease_until__isnull=True) | Q(imap_poll_lease_until__lt=now))
        .update(imap_poll_lease_until=now + timedelta(seconds=seconds))
    )


def imap_lease_release(*, inbox: Inbox) -> None:
    Inbox.objects.filter(pk=inbox.pk).update(imap_poll_lease_until=None)


def imap_checked(*, inbox: Inbox, error: str = "") -> None:
    inbox.imap_last_checked_at = timezone.now()
    inbox.imap_last_error = error
    inbox.save(update_fields=["imap_last_checked_at", "imap_last_error"])
