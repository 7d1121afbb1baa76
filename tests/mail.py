"""Build real RFC 822 mails for tests, and deliver them through the real pipeline."""

import base64
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from django.utils import timezone

from threads.inbound import InboundResult, inbound_record
from tickets.intake import mail_process

CORPUS = Path(__file__).resolve().parent / "corpus"
LARGE = 1024 * 1024  # bytes of an attachment encoded apart
TRUSTED_RECEIVER = "mx.tisket.test"  # in TISKET_TRUSTED_AUTHSERV_IDS of the test settings


def make_mail(
    *,
    sender: str = "Jane Client <jane@client.test>",
    to: str = "support.acme@in.tisket.test",
    cc: str = "",
    subject: str = "Cannot log in",
    body: str = "Hello, I cannot log in since this morning.",
    html: str = "",
    message_id: str | None = None,
    in_reply_to: str = "",
    references: str = "",
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, str, bytes]] = (),
    authenticated: bool = False,
) -> bytes:
    """A mail as a client's mail program would send it.

    authenticated: as the tests' trusted receiver hands it on, with its
    Authentication-Results (dmarc=pass for the From domain) on top.
    """
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg["Date"] = format_datetime(timezone.now())
    if message_id != "":
        msg["Message-ID"] = message_id or make_msgid(domain="client.test")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    if html:
        msg.add_alternative(html, subtype="html")
    # A large attachment's base64 is written by C, not line by line by the email package
    # (seconds for 35 MB): a short stand-in is encoded, then replaced by the same lines.
    large = {}
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split("/")
        if len(data) > LARGE:
            stand_in = f"<attachment {len(large)} {uuid.uuid4().hex}>".encode()
            large[base64.b64encode(stand_in)] = base64.encodebytes(data).rstrip(b"\n")
            data = stand_in
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    raw = msg.as_bytes()
    for stand_in, lines in large.items():
        raw = raw.replace(stand_in, lines, 1)
    if authenticated:
        domain = msg["From"].addresses[0].domain
        raw = header_prepended(
            raw,
            "Authentication-Results",
            f"{TRUSTED_RECEIVER}; dmarc=pass (p=none dis=none) header.from={domain}",
        )
    return raw


def header_prepended(raw: bytes, name: str, value: str) -> bytes:
    """The mail with a header added on top, as a receiving server adds its own."""
    return f"{name}: {value}\n".encode() + raw


def deliver(raw: bytes, *, recipient: str = "", source: str = "test") -> InboundResult:
    """Record a mail at the edge and process it, as the worker would."""
    mail, _ = inbound_record(raw=raw, source=source, recipient=recipient)
    result = mail_process(inbound_id=mail.pk)
    if result is None:  # already processed before
        mail.refresh_from_db()
        return InboundResult(inbound=mail, thread=mail.thread, message=mail.message)
    return result


def deliver_without_ticket(raw: bytes, **kwargs) -> InboundResult:
    """Deliver a mail and take its new thread's ticket away: a conversation from before every
    conversation had one, for tests that link threads to tickets by hand."""
    from tickets.models import Ticket

    result = deliver(raw, **kwargs)
    Ticket.objects.filter(thread_links__thread=result.thread).delete()
    result.thread._state.fields_cache.pop("ticket_link", None)
    return result
