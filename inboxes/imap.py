"""An inbox's own IMAP mailbox: new mail by UID, read with BODY.PEEK, in a read-only folder.

Nothing depends on the \\Seen flag: a mail someone else read in the meantime
is still new to us. Progress (UIDVALIDITY and the last UID) is saved after
each mail, so a poll that breaks off resumes where it stopped.
"""

import contextlib
import imaplib
import socket
import ssl
from collections.abc import Iterator

from django.utils import timezone

from inboxes.models import Inbox
from tisket.lib.secrets_box import secret_open, secret_seal

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


def _connect(inbox: Inbox) -> imaplib.IMAP4:
    where = f"{inbox.imap_host}:{inbox.imap_port}"
    try:
        if inbox.imap_security == Security.SSL:
            client = imaplib.IMAP4_SSL(
                inbox.imap_host, inbox.imap_port, ssl_context=ssl.create_default_context(),
                timeout=TIMEOUT,
            )  # fmt: skip
        else:
            client = imaplib.IMAP4(inbox.imap_host, inbox.imap_port, timeout=TIMEOUT)
            if inbox.imap_security == Security.STARTTLS:
                client.starttls(ssl_context=ssl.create_default_context())
    except socket.gaierror:
        raise MailboxError(f"DNS: the host name {inbox.imap_host} does not resolve.") from None
    except ConnectionRefusedError:
        raise MailboxError(f"Refused: nothing accepts connections on {where}.") from None
    except TimeoutError:
        raise MailboxError(f"Timeout: {where} did not answer.") from None
    except (ssl.SSLError, imaplib.IMAP4.error) as exc:
        raise MailboxError(f"TLS: {where} refused the secure connection ({exc}).") from None
    except OSError as exc:
        raise MailboxError(f"{type(exc).__name__}: {exc}") from None
    try:
        client.login(inbox.imap_username, secret_open(inbox.imap_password_sealed))
    except imaplib.IMAP4.error:
        client.shutdown()
        raise MailboxError(f"Authentication: {where} refused the user name or password.") from None
    return client


def _select(client: imaplib.IMAP4, inbox: Inbox) -> int:
    status, _ = client.select(f'"{inbox.imap_folder}"', readonly=True)
    if status != "OK":
        raise MailboxError(f"Folder: there is no folder '{inbox.imap_folder}'.")
    return int(client.response("UIDVALIDITY")[1][0])


def imap_test(*, inbox: Inbox) -> tuple[bool, str]:
    """Connect, log in and open the folder as polling would: (ok, what happened)."""
    if not inbox.imap_host:
        return False, "This inbox has no IMAP mailbox."
    try:
        client = _connect(inbox)
        try:
            _select(client, inbox)
            count = len(client.uid("SEARCH", None, "ALL")[1][0].split())
        finally:
            client.logout()
    except MailboxError as exc:
        return False, str(exc)
    return True, f"Connected; the folder {inbox.imap_folder} holds {count} mail(s)."


def imap_new_mail(*, inbox: Inbox) -> Iterator[tuple[int, bytes]]:
    """(uid, raw bytes) of each mail not fetched yet, oldest first; raises MailboxError.

    The caller stores each mail, then calls imap_progress(inbox, uid) to move on.
    """
    client = _connect(inbox)
    try:
        uidvalidity = _select(client, inbox)
        if uidvalidity != inbox.imap_uidvalidity:
            # The server renumbered the folder: read it all again; deduplication
            # keeps what we already have from being stored twice.
            inbox.imap_uidvalidity, inbox.imap_last_uid = uidvalidity, 0
            inbox.save(update_fields=["imap_uidvalidity", "imap_last_uid"])
        status, data = client.uid("SEARCH", None, f"UID {inbox.imap_last_uid + 1}:*")
        # "n:*" always names the newest mail, even one below n: filter.
        uids = sorted(int(u) for u in (data[0] or b"").split() if int(u) > inbox.imap_last_uid)
        for uid in uids:
            status, parts = client.uid("FETCH", str(uid), "(BODY.PEEK[])")
            raw = next((p[1] for p in parts if isinstance(p, tuple)), None)
            if status == "OK" and raw is not None:
                yield uid, raw
    except (imaplib.IMAP4.error, OSError) as exc:
        raise MailboxError(f"{type(exc).__name__}: {exc}") from None
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):  # the work is done or lost
            client.logout()


def imap_progress(*, inbox: Inbox, uid: int) -> None:
    inbox.imap_last_uid = uid
    inbox.save(update_fields=["imap_last_uid"])


def imap_checked(*, inbox: Inbox, error: str = "") -> None:
    inbox.imap_last_checked_at = timezone.now()
    inbox.imap_last_error = error
    inbox.save(update_fields=["imap_last_checked_at", "imap_last_error"])
