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
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from threads.inbound import inbound_record
from threads.models import InboundMail, Message, Participant, Thread
from tisket.errors import NotAllowedError, TisketError
from tisket.lib.addresses import address_format, address_normalize, address_with_tag
from tisket.lib.reply_tokens import reply_token_make
from tisket.models import Membership, Role

SALT = "tisket.client-link"
MAX_TOKEN_LENGTH = 600
MAX_REPLY_CHARS = 50_000
SOURCE = "client-page"
NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


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
    """What a valid link opens: the thread, as the participant it was sent to."""

    thread: Thread
    email: str
    name: str


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
    participant = Participant.objects.filter(thread=thread, email=email).first()
    if participant is None:
        raise ClientLinkGoneError("This link was withdrawn.")
    name = participant.name or (thread.client_name if email == thread.client_email else "")
    return ClientAccess(thread=thread, email=email, name=name)


def client_links_revoke(*, thread: Thread, actor: Membership) -> Thread:
    """Withdraw every link to the thread sent so far; the next mail carries a new one."""
    if not actor.has_role(Role.AGENT):
        raise NotAllowedError("Viewers cannot withdraw client links.")
    if actor.organization_id != thread.organization_id:
        raise NotAllowedError("That thread is not of your organization.")
    Thread.objects.filter(pk=thread.pk).update(client_link_version=F("client_link_version") + 1)
    thread.refresh_from_db(fields=["client_link_version"])
    return thread


def _message_id(access: ClientAccess, body: str, nonce: str) -> str:
    # Stable for one submission of the form (its nonce) and its text: a double
    # click or a re-sent POST is the same mail, which the pipeline stores once.
    # Not under the inbound domain: mail bearing our own Message-ID is taken
    # for a loop and flagged as automatic.
    digest = hashlib.sha256(
        f"{access.thread.pk}\n{access.email}\n{nonce}\n{body}".encode()
    ).hexdigest()[:40]
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"{digest}.client-page@web.{host}"


def client_reply_mail(*, access: ClientAccess, body: str, nonce: str) -> tuple[bytes, str]:
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
    mail = EmailMessage()
    try:
        mail["From"] = address_format(access.name, access.email)
    except (ValueError, IndexError):
        mail["From"] = access.email
    mail["To"] = recipient
    mail["Subject"] = thread_subject(thread)
    mail["Date"] = format_datetime(timezone.now())
    mail["Message-ID"] = f"<{_message_id(access, body, nonce)}>"
    if ids:
        mail["In-Reply-To"] = f"<{ids[-1]}>"
        kept = ids if len(ids) <= 20 else [ids[0], *ids[-19:]]
        mail["References"] = " ".join(f"<{i}>" for i in kept)
    mail.set_content(body)
    return mail.as_bytes(), recipient


def client_reply_record(*, access: ClientAccess, body: str, nonce: str = "") -> InboundMail:
    """Record the client's reply as a mail for the inbound pipeline, as if they had mailed it.

    The same body and nonce make the same bytes: a form posted twice is one mail.
    """
    body = body.replace("\r\n", "\n").strip()
    if not body:
        raise ClientReplyError("Write a message first.")
    if len(body) > MAX_REPLY_CHARS:
        raise ClientReplyError(f"A message can be {MAX_REPLY_CHARS:,} characters at most.")
    if access.thread.status == Thread.Status.CLOSED:
        raise ClientReplyError(
            "This conversation is closed. Write to us by mail to start a new one."
        )
    if not NONCE_RE.fullmatch(nonce or ""):
        nonce = hashlib.sha256(f"{timezone.now().isoformat()}{body}".encode()).hexdigest()[:32]
    raw, recipient = client_reply_mail(access=access, body=body, nonce=nonce)
    row, _ = inbound_record(raw=raw, source=SOURCE, recipient=recipient)
    return row
