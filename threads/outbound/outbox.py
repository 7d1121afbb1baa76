"""The outbox: sending each row once, retrying what may be retried, and sending again
what an agent asks for.

The sender claims a row by moving it to `sending` in a committed transaction
before it talks to the transport, so a row the transport may have accepted is
never sent again, whatever crashes afterwards.
"""

import logging
import smtplib
import socket
from datetime import timedelta
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils import timezone

from inboxes.domains import Sender, inbox_sender
from inboxes.transports import inbox_connection, send_failure
from threads.client_access import client_link_appended
from threads.models import Message, OutboundMail
from threads.outbound.brand import organization_brand
from tisket.branding.frame import mail_framed
from tisket.branding.models import MailBranding
from tisket.errors import ConflictError
from tisket.lib import netguard
from tisket.lib.addresses import address_format, address_split_tag, address_with_tag
from tisket.lib.mail.dkim_keys import dkim_signature
from tisket.models import Membership

logger = logging.getLogger(__name__)

Status = OutboundMail.Status
SEND_LIFETIME = timedelta(days=2)
STUCK_SENDING = timedelta(hours=1)


def outbox_enqueue_many(*, outbound_ids: list[int]) -> None:
    """Hand many committed rows to the worker as one task; if the broker is down, the sweep will."""
    from threads.tasks import outbox_send_many_task

    try:
        outbox_send_many_task.delay(outbound_ids)
    except Exception as exc:
        logger.warning("%d outbound mails not queued (%s); the sweep will", len(outbound_ids), exc)


def outbox_enqueue(*, outbound_id: int) -> None:
    """Hand a committed row to the worker; if the broker is down, the sweep will."""
    from threads.tasks import outbox_send_task

    try:
        outbox_send_task.delay(outbound_id)
    except Exception as exc:
        logger.warning("outbound #%s not queued (%s); the sweep will send it", outbound_id, exc)


def outbox_sweep() -> list[int]:
    """Queue rows that are due; give up on rows stuck mid-send (their outcome is unknown)."""
    now = timezone.now()
    OutboundMail.objects.filter(
        status=Status.SENDING, next_attempt_at__lt=now - STUCK_SENDING
    ).update(
        status=Status.FAILED,
        last_error="The sender stopped mid-send; the mail may or may not have left. Not retried.",
    )
    ids = list(
        OutboundMail.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:500]
    )
    for outbound_id in ids:
        outbox_enqueue(outbound_id=outbound_id)
    return ids


class _SignedMessage:
    """A MIME message with fixed bytes, a DKIM-Signature on top: what the SMTP backend sends."""

    def __init__(self, message, raw: bytes) -> None:
        self._message, self._raw = message, raw

    def as_bytes(self, *args, **kwargs) -> bytes:
        return self._raw

    def __getattr__(self, name: str):
        return getattr(self._message, name)


class SignedMail(EmailMultiAlternatives):
    """A mail signed with its domain's DKIM key as the SMTP backend serializes it."""

    sender: Sender | None = None

    def message(self, *args, **kwargs):
        message = super().message(*args, **kwargs)
        sender = self.sender
        if sender is None or not sender.dkim_private:
            return message
        raw = message.as_bytes(linesep="\r\n")
        signature = dkim_signature(
            raw,
            domain=sender.dkim_domain,
            selector=sender.dkim_selector,
            private_pem=sender.dkim_private,
        )
        return _SignedMessage(message, signature + raw)


KIND_MAIL_TYPES = {
    OutboundMail.Kind.AUTO_ACK: "acknowledgement",
    OutboundMail.Kind.REPLY: "reply",
    OutboundMail.Kind.NOTIFICATION: "notification",
    OutboundMail.Kind.STATUS: "status",
}
# Built whole already (a test of the branding an admin is editing): sent as it is.
PREFRAMED = "test"


def _framed(outbound: OutboundMail, headers: dict[str, str]) -> tuple[str, str]:
    """The one place that frames mail: the organization's brand around the row's content."""
    if outbound.mail_type == PREFRAMED:
        return outbound.text, outbound.html
    unsubscribe = headers.get("List-Unsubscribe", "").strip()
    return mail_framed(
        brand=organization_brand(organization=outbound.organization),
        kind=outbound.mail_type or KIND_MAIL_TYPES.get(outbound.kind, ""),
        subject=outbound.subject,
        text=outbound.text,
        html=outbound.html,
        recipient=outbound.to[0] if outbound.to else "",
        unsubscribe_url=unsubscribe[1:-1] if unsubscribe.startswith("<") else unsubscribe,
    )


def _installation_from(outbound: OutboundMail) -> str:
    """The installation's address, named after the organization's sender name when it has one."""
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    name = (
        MailBranding.objects.filter(organization_id=outbound.organization_id)
        .values_list("sender_name", flat=True)
        .first()
    )
    return address_format(name, address) if name and address else settings.DEFAULT_FROM_EMAIL


def _build(outbound: OutboundMail) -> EmailMultiAlternatives:
    inbox = outbound.inbox
    headers = {"Message-ID": f"<{outbound.message_id_header}>", **outbound.headers}
    reply_to = headers.pop("Reply-To", None)
    # Who it is from is decided now: a domain that stopped verifying since the mail was
    # written gives way to the provisioned address, its reply address included.
    sender = inbox_sender(inbox) if inbox is not None else None
    if sender is not None and reply_to:
        tag = address_split_tag(reply_to)[1]
        reply_to = address_with_tag(sender.reply_base, tag) if tag else sender.reply_base
    mail = SignedMail(
        subject=outbound.subject,
        body=outbound.text,
        from_email=(
            address_format(inbox.sender_name, sender.address)
            if sender is not None
            else _installation_from(outbound)
        ),
        to=outbound.to,
        cc=outbound.cc,
        reply_to=[reply_to] if reply_to else None,
        headers=headers,
    )
    # Signed here only when the inbox sends over SMTP: an ESP's API signs with its own key.
    if inbox is not None and inbox.transport != inbox.Transport.ESP:
        mail.sender = sender
    mail.body, html = _framed(outbound, headers)
    mail.attach_alternative(html, "text/html")
    if outbound.message is not None:
        for attachment in outbound.message.attachments.exclude(file=""):
            with attachment.file.open("rb") as handle:
                mail.attach(attachment.filename, handle.read(), attachment.content_type)
    return mail


def _is_temporary(error: Exception) -> bool:
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in error.recipients.values())
    status = getattr(getattr(error, "response", None), "status_code", None)
    if status is not None:  # an ESP's HTTP answer (Anymail)
        return status == 429 or status >= 500
    return isinstance(
        error, smtplib.SMTPServerDisconnected | ConnectionError | socket.timeout | OSError
    )


def outbox_send(*, outbound_id: int) -> OutboundMail | None:
    """Send one due row, once: claimed in its own commit before the transport is called."""
    with transaction.atomic():
        outbound = (
            OutboundMail.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("inbox__organization", "organization")
            .filter(pk=outbound_id, status=Status.PENDING, next_attempt_at__lte=timezone.now())
            .first()
        )
        if outbound is None:
            return None
        outbound.status = Status.SENDING
        outbound.attempts += 1
        outbound.next_attempt_at = timezone.now()
        outbound.save(update_fields=["status", "attempts", "next_attempt_at"])
    limit = netguard.Deadline(settings.TISKET_MAIL_SEND_DEADLINE)
    try:
        mail = _build(outbound)
        mail.connection = (
            inbox_connection(outbound.inbox, limit=limit)
            if outbound.inbox is not None
            else get_connection()
        )
        mail.send(fail_silently=False)
    except Exception as error:
        now = timezone.now()
        # The tenant sees the class of the failure; the whole of it is for the installation.
        outbound.last_error = send_failure(error, expired=limit.expired)
        outbound.error_detail = f"{type(error).__name__}: {error}"[:2000]
        too_old = now - outbound.created_at > SEND_LIFETIME
        if _is_temporary(error) and not too_old:
            outbound.status = Status.PENDING
            backoff = min(timedelta(seconds=30) * 2 ** (outbound.attempts - 1), timedelta(hours=1))
            outbound.next_attempt_at = now + backoff
        else:
            outbound.status = Status.FAILED
        outbound.save(update_fields=["status", "last_error", "error_detail", "next_attempt_at"])
        logger.warning("outbound #%s %s: %s", outbound.pk, outbound.status, outbound.error_detail)
        return outbound
    finally:
        limit.cancel()
    outbound.status = Status.SENT
    outbound.sent_at = timezone.now()
    outbound.last_error = outbound.error_detail = ""
    outbound.delivery_event = outbound.delivery_detail = ""  # this attempt's word is to come
    outbound.delivery_at = None
    # An ESP (through Anymail) names the message; its tracking events use that name.
    esp_ids = getattr(getattr(mail, "anymail_status", None), "message_id", None)
    if isinstance(esp_ids, set):
        esp_ids = sorted(str(i) for i in esp_ids if i is not None)[0] if esp_ids else None
    outbound.esp_message_id = str(esp_ids)[:200] if esp_ids is not None else ""
    outbound.save(
        update_fields=[
            "status",
            "sent_at",
            "last_error",
            "error_detail",
            "esp_message_id",
            "delivery_event",
            "delivery_detail",
            "delivery_at",
        ]
    )
    return outbound


BOUNCE_EVENTS = ("bounced", "rejected", "failed")


def outbox_send_again(*, outbound: OutboundMail, actor: Membership | None) -> OutboundMail:
    """Queue again a mail that failed to leave or bounced; whoever asks has decided to.

    The same row and the same Message-ID: should the first attempt have reached
    its recipient after all (it failed once the server may have taken it), their
    mail program shows the mail once. The attempts and the send lifetime start
    anew, a reply's link to the conversation is made afresh, and the earlier
    outcome is kept. A mail pending, sending or delivered is refused: it may
    leave yet, or has left.
    """
    with transaction.atomic():
        row = OutboundMail.objects.select_for_update().get(pk=outbound.pk)
        bounced = row.status == Status.SENT and row.delivery_event in BOUNCE_EVENTS
        if row.status != Status.FAILED and not bounced:
            raise ConflictError(
                f"This mail is {row.get_status_display().lower()}: only a mail that "
                "failed or bounced can be sent again."
            )
        now = timezone.now()
        row.earlier_attempts = [
            *row.earlier_attempts,
            {
                "status": row.status,
                "attempts": row.attempts,
                "last_error": row.last_error,
                "sent_at": row.sent_at.isoformat() if row.sent_at else None,
                "esp_message_id": row.esp_message_id,
                "delivery_event": row.delivery_event,
                "delivery_detail": row.delivery_detail,
                "queued_at": row.created_at.isoformat(),
                "sent_again_at": now.isoformat(),
                "sent_again_by": getattr(actor, "pk", None),
            },
        ]
        if row.kind == OutboundMail.Kind.REPLY and row.message_id and row.to:
            # A fresh link: the first one may have expired, or been withdrawn since.
            message = Message.objects.select_related("thread").get(pk=row.message_id)
            row.text, row.html = client_link_appended(
                thread=message.thread, email=row.to[0], text=message.text, html=message.html
            )
        row.status = Status.PENDING
        row.attempts = 0
        row.next_attempt_at = row.created_at = now
        row.sent_at = row.delivery_at = None
        row.last_error = row.error_detail = row.esp_message_id = ""
        row.delivery_event = row.delivery_detail = ""
        row.save()
        transaction.on_commit(lambda: outbox_enqueue(outbound_id=row.pk))
    logger.info("outbound #%s queued again by member #%s", row.pk, getattr(actor, "pk", None))
    return row


def message_send_again(*, message: Message, actor: Membership | None) -> OutboundMail:
    """Queue again the mail of an agent's message to the client (outbox_send_again)."""
    outbound = (
        OutboundMail.objects.filter(message=message, kind=OutboundMail.Kind.REPLY)
        .order_by("-created_at", "-id")
        .first()
    )
    if outbound is None:
        raise ConflictError("Only a mail written to a client can be sent again.")
    return outbox_send_again(outbound=outbound, actor=actor)
