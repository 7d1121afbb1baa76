"""Clients' signed links to their conversation: make, read, revoke; and a reply sent from the page.

A link names a thread and one of its participants' addresses. It is signed
(TimestampSigner, a salt of its own), expires after TISKET_CLIENT_LINK_DAYS,
and carries the thread's client_link_version: bumping the version revokes
every link of the thread at once. A reply written on the page is mailed into
the same inbound pipeline as any other mail, so that deduplication, threading,
tickets and SLA treat it exactly like an answer by mail.
"""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from inboxes.models import Inbox
from threads.company import company_sees
from threads.inbound import inbound_record
from threads.models import Attachment, InboundMail, Message, Participant, Thread
from tisket.errors import NotAllowedError, TisketError
from tisket.lib.addresses import address_format, address_normalize, address_with_tag
from tisket.lib.reply_tokens import reply_token_make
from tisket.models import Membership, Role

SALT = "tisket.client-link"
MAX_TOKEN_LENGTH = 600
MAX_REPLY_CHARS = 50_000
SOURCE = "client-page"
NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
# In the Message-ID of what a client wrote on their page (see _message_id): their Markdown.
WRITTEN_HERE = ".client-page@web."


class ClientLinkError(TisketError):
    """The link is not one of ours, or names nothing any more."""

    status_code = 404


class ClientLinkGoneError(ClientLinkError):
    """A link that was valid once: it expired, or the desk revoked it."""

    status_code = 410


class ClientReplyError(TisketError):
    pass


@dataclass(frozen=True)
class ClientAccess:
    """What a valid link opens: the thread, as the participant it was sent to.

    `colleague`: not a participant, a colleague of the client who sees the conversation
    as their company's (threads.company); they read it, and decide nothing on it.
    """

    thread: Thread
    email: str
    name: str
    colleague: bool = False


def client_link_lifetime() -> timedelta:
    return timedelta(days=settings.TISKET_CLIENT_LINK_DAYS)


def client_link_token(*, thread: Thread, email: str) -> str:
    """A signed token naming the thread, the client's address and the thread's link version."""
    value = [thread.pk, thread.client_link_version, address_normalize(email)]
    return signing.TimestampSigner(salt=SALT).sign_object(value, compress=True)


def client_link_url(*, thread: Thread, email: str) -> str:
    """The absolute address of the client's page of the thread."""
    path = reverse("client:thread", kwargs={"token": client_link_token(thread=thread, email=email)})
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def client_link_footer(*, thread: Thread, email: str) -> tuple[str, str]:
    """The line that outbound mail ends with, as text and as HTML."""
    url = client_link_url(thread=thread, email=email)
    text = f"View this conversation online: {url}"
    html = format_html('<p>View this conversation online: <a href="{0}">{0}</a></p>', url)
    return text, str(html)


def client_link_appended(*, thread: Thread, email: str, text: str, html: str) -> tuple[str, str]:
    """A mail's text and HTML, each ending with the client's link to the conversation."""
    link_text, link_html = client_link_footer(thread=thread, email=email)
    return f"{text}\n\n{link_text}", f"{html}\n{link_html}"


def client_link_read(*, token: str) -> ClientAccess:
    """What a token opens; ClientLinkError (bad) or ClientLinkGoneError (expired, revoked)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise ClientLinkError("This link is not valid.")
    signer = signing.TimestampSigner(salt=SALT)
    try:
        value = signer.unsign_object(token, max_age=client_link_lifetime())
    except signing.SignatureExpired:
        raise ClientLinkGoneError("This link has expired.") from None
    except (signing.BadSignature, ValueError, UnicodeError):
        raise ClientLinkError("This link is not valid.") from None
    try:
        thread_id, version, email = value
        thread_id, version, email = int(thread_id), int(version), str(email)
    except (TypeError, ValueError):
        raise ClientLinkError("This link is not valid.") from None
    thread = (
        Thread.objects.select_related("inbox__organization", "organization")
        .filter(pk=thread_id)
        .first()
    )
    if thread is None:
        raise ClientLinkError("This link is not valid.")
    if thread.client_link_version != version:
        raise ClientLinkGoneError("This link was withdrawn.")
    participant = Participant.objects.filter(thread=thread, email__iexact=email).first()
    if participant is None:
        raise ClientLinkGoneError("This link was withdrawn.")
    is_client = address_normalize(email) == address_normalize(thread.client_email)
    name = participant.name or (thread.client_name if is_client else "")
    return ClientAccess(thread=thread, email=email, name=name)


# A file of the conversation, downloaded from the client's page: a link of its own, short-lived,
# bound to the conversation's link version and the participant, as the page is.
FILE_SALT = "tisket.client-file"
FILE_LINK_LIFETIME = timedelta(hours=4)


def client_file_token(*, access: ClientAccess, attachment_id: int) -> str:
    """A signed token for one attachment of the thread, as seen by this participant."""
    thread = access.thread
    value = [attachment_id, thread.pk, thread.client_link_version, access.email]
    return signing.TimestampSigner(salt=FILE_SALT).sign_object(value, compress=True)


def client_file_read(*, token: str) -> Attachment:
    """The attachment a file token opens, if the client may still see it; else ClientLinkError."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise ClientLinkError("This link is not valid.")
    try:
        value = signing.TimestampSigner(salt=FILE_SALT).unsign_object(
            token, max_age=FILE_LINK_LIFETIME
        )
        attachment_id, thread_id, version, email = value
        attachment_id, thread_id, version = int(attachment_id), int(thread_id), int(version)
    except signing.SignatureExpired:
        raise ClientLinkGoneError("This link has expired; open the conversation again.") from None
    except (signing.BadSignature, TypeError, ValueError, UnicodeError):
        raise ClientLinkError("This link is not valid.") from None
    attachment = (
        Attachment.objects.select_related("message__thread__organization")
        .filter(pk=attachment_id, message__thread_id=thread_id)
        .first()
    )
    if attachment is None or not client_sees(attachment.message):
        raise ClientLinkError("This link is not valid.")
    thread = attachment.message.thread
    still = Participant.objects.filter(
        thread=thread, email__iexact=str(email)
    ).exists() or company_sees(
        organization=thread.organization, email=str(email), client_email=thread.client_email
    )
    if thread.client_link_version != version or not still:
        raise ClientLinkGoneError("This link was withdrawn.")
    return attachment


def client_sees(message: Message) -> bool:
    """Whether a client's page shows the message: all but inbound automatic mail (noise)."""
    return message.direction == Message.Direction.OUTBOUND or not message.automated_reason


def client_links_revoke(*, thread: Thread, actor: Membership) -> Thread:
    """Withdraw every link to the thread sent so far; the next mail carries a new one."""
    if not actor.has_role(Role.AGENT):
        raise NotAllowedError("Viewers cannot withdraw client links.")
    if actor.organization_id != thread.organization_id:
        raise NotAllowedError("That thread is not of your organization.")
    Thread.objects.filter(pk=thread.pk).update(client_link_version=F("client_link_version") + 1)
    thread.refresh_from_db(fields=["client_link_version"])
    return thread


# A client's files: as many as a mail program would reasonably attach. Their total size is
# the inbox's max_message_bytes, the limit mail has; their type is sniffed by the pipeline.
MAX_CLIENT_FILES = 10


def _message_id(key: str, body: str, nonce: str, files: list[tuple[str, bytes]]) -> str:
    # Stable for one submission of the form (its nonce), its text and files: a double
    # click or a re-sent POST is the same mail, which the pipeline stores once.
    # Not under the inbound domain: mail bearing our own Message-ID is taken
    # for a loop and flagged as automatic.
    digest = hashlib.sha256(f"{key}\n{nonce}\n{body}".encode())
    for name, data in files:
        digest.update(f"\n{name}\n".encode() + hashlib.sha256(data).digest())
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"{digest.hexdigest()[:40]}{WRITTEN_HERE}{host}"


def client_page_written(message: Message) -> bool:
    """Whether the client wrote the message on their page or the portal, in Markdown.

    A mail could claim such a Message-ID; it gains nothing: the text is rendered through
    the same sanitizing renderer as the desk's.
    """
    return message.direction == Message.Direction.INBOUND and WRITTEN_HERE in message.message_id


def client_form_nonce() -> str:
    """A new nonce for a client's form: when it was shown (hex seconds), then random."""
    return f"{int(timezone.now().timestamp()):x}-{secrets.token_urlsafe(12)}"


def _form_time(nonce: str) -> datetime | None:
    # A mail's Date is its sender's word anyway. Taking it from the form's nonce
    # makes a form posted twice, seconds apart, the very same mail, which the
    # pipeline stores once (its content key covers the Date). A nonce that says
    # no time of the last day gives no Date, for the same reason.
    now = timezone.now()
    try:
        shown = datetime.fromtimestamp(int(nonce.partition("-")[0], 16), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return shown if now - timedelta(days=1) <= shown <= now else None


def _client_mail(
    *,
    name: str,
    email: str,
    to: str,
    subject: str,
    body: str,
    message_id: str,
    files,
    nonce: str,
) -> EmailMessage:
    mail = EmailMessage()
    try:
        mail["From"] = address_format(name, email)
    except (ValueError, IndexError):
        mail["From"] = email
    mail["To"] = to
    mail["Subject"] = subject
    shown = _form_time(nonce)
    if shown is not None:
        mail["Date"] = format_datetime(shown)
    mail["Message-ID"] = f"<{message_id}>"
    from threads.outbound import body_html  # outbound links to these pages

    # The client writes Markdown, as agents do: the desk sees it rendered, as the preview did.
    mail.set_content(body)
    mail.add_alternative(body_html(body), subtype="html")
    for filename, data in files:
        # Typed application/octet-stream whatever the browser said: the pipeline
        # sniffs the bytes and names the file safely, as for any mail.
        mail.add_attachment(
            data, maintype="application", subtype="octet-stream", filename=filename or "file"
        )
    return mail


def client_reply_mail(
    *, access: ClientAccess, body: str, nonce: str, files: list[tuple[str, bytes]] = ()
) -> tuple[bytes, str]:
    """The RFC 822 mail the client's page sends for them, and its envelope recipient."""
    from threads.outbound import thread_subject  # outbound links to these pages

    thread = access.thread
    recipient = address_with_tag(thread.inbox.address, reply_token_make(thread.pk))
    ids = list(
        Message.objects.filter(thread=thread)
        .exclude(message_id="")
        .order_by("created_at", "id")
        .values_list("message_id", flat=True)
    )
    mail = _client_mail(
        name=access.name,
        email=access.email,
        to=recipient,
        subject=thread_subject(thread),
        body=body,
        message_id=_message_id(f"{thread.pk}\n{access.email}", body, nonce, list(files)),
        files=files,
        nonce=nonce,
    )
    if ids:
        mail["In-Reply-To"] = f"<{ids[-1]}>"
        kept = ids if len(ids) <= 20 else [ids[0], *ids[-19:]]
        mail["References"] = " ".join(f"<{i}>" for i in kept)
    return mail.as_bytes(), recipient


def _clean_body(body: str) -> str:
    body = body.replace("\r\n", "\n").strip()
    if not body:
        raise ClientReplyError("Write a message first.")
    if len(body) > MAX_REPLY_CHARS:
        raise ClientReplyError(f"A message can be {MAX_REPLY_CHARS:,} characters at most.")
    return body


def _check_files(files: list[tuple[str, bytes]], *, max_bytes: int) -> None:
    """The files a client attaches: refused at once, with the reason, past mail's limits."""
    if len(files) > MAX_CLIENT_FILES:
        raise ClientReplyError(f"Attach {MAX_CLIENT_FILES} files at most.")
    if any(not data for _, data in files):
        raise ClientReplyError("One of the files is empty.")
    if sum(len(data) for _, data in files) > max_bytes:
        limit = max_bytes // (1024 * 1024)
        raise ClientReplyError(f"The files are more than {limit} MB together; send fewer.")


def _nonce(nonce: str, body: str) -> str:
    if NONCE_RE.fullmatch(nonce or ""):
        return nonce
    return hashlib.sha256(f"{timezone.now().isoformat()}{body}".encode()).hexdigest()[:32]


def client_reply_record(
    *, access: ClientAccess, body: str, nonce: str = "", files: list[tuple[str, bytes]] = ()
) -> InboundMail:
    """Record the client's reply as a mail for the inbound pipeline, as if they had mailed it.

    The same body, files and nonce make the same Message-ID: a form posted twice is one mail.
    """
    body = _clean_body(body)
    if access.thread.status == Thread.Status.CLOSED:
        raise ClientReplyError(
            "This conversation is closed. Write to us by mail to start a new one."
        )
    files = list(files)
    _check_files(files, max_bytes=access.thread.inbox.max_message_bytes)
    raw, recipient = client_reply_mail(
        access=access, body=body, nonce=_nonce(nonce, body), files=files
    )
    row, _ = inbound_record(raw=raw, source=SOURCE, recipient=recipient)
    return row


def client_request_record(
    *,
    inbox: Inbox,
    email: str,
    name: str = "",
    subject: str,
    body: str,
    nonce: str = "",
    files: list[tuple[str, bytes]] = (),
) -> InboundMail:
    """Record a new request from the portal's form as a mail to the inbox, as if mailed."""
    subject = " ".join(subject.split())[:200]
    if not subject:
        raise ClientReplyError("Give your request a subject.")
    body = _clean_body(body)
    files = list(files)
    _check_files(files, max_bytes=inbox.max_message_bytes)
    nonce = _nonce(nonce, body)
    mail = _client_mail(
        name=name,
        email=email,
        to=inbox.address,
        subject=subject,
        body=body,
        message_id=_message_id(f"{inbox.pk}\n{email}\n{subject}", body, nonce, files),
        files=files,
        nonce=nonce,
    )
    row, _ = inbound_record(raw=mail.as_bytes(), source=SOURCE, recipient=inbox.address)
    return row
