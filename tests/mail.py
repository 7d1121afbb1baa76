"""Build real RFC 822 mails for tests, and deliver them through the real pipeline."""

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from django.utils import timezone

from threads.inbound import InboundResult, inbound_process, inbound_receive

CORPUS = Path(__file__).resolve().parent / "corpus"


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
) -> bytes:
    """A mail as a client's mail program would send it."""
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
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def deliver(raw: bytes, *, recipient: str = "", source: str = "test") -> InboundResult:
    """Record a mail at the edge and process it, as the worker would."""
    mail, _ = inbound_receive(raw=raw, source=source, recipient=recipient, enqueue=False)
    result = inbound_process(inbound_id=mail.pk)
    if result is None:  # already processed before
        mail.refresh_from_db()
        return InboundResult(inbound=mail, thread=mail.thread, message=mail.message)
    return result
