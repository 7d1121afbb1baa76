"""Outgoing mail of conversations: agents' replies and auto-acknowledgements, via the outbox.

A reply or an acknowledgement is stored as an outbound Message and an
OutboundMail row in one transaction; outbox_send() delivers the row after
commit. Loop safety (RFC 3834): nothing automatic answers automatic mail, our
own addresses or members, and a sender gets one acknowledgement per inbox per
window at most; acknowledgements say Auto-Submitted: auto-replied.
"""

import logging
import re
import smtplib
import socket
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

import markdown
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils import timezone

from inboxes.models import Inbox
from inboxes.selectors import organization_addresses
from inboxes.transports import inbox_connection
from threads.client_access import client_link_footer
from threads.ingest import InboundResult
from threads.models import Message, OutboundMail, Participant, Suppression, Thread
from threads.services import (
    attachments_prepare,
    attachments_save,
    message_id_key,
    participants_add,
    thread_create,
    thread_message_added,
)
from tisket.errors import ConflictError, NotAllowedError, TisketError
from tisket.lib.addresses import (
    address_format,
    address_is_valid,
    address_normalize,
    address_with_tag,
)
from tisket.lib.files import safe_filename, sniff_content_type
from tisket.lib.html import sanitize_html
from tisket.lib.mail.parse import MailAttachment
from tisket.lib.reply_tokens import reply_token_make
from tisket.lib.templating import render_plain
from tisket.models import Membership, Role

logger = logging.getLogger(__name__)

Status = OutboundMail.Status
AUTO_ACK_WINDOW = timedelta(hours=24)
SEND_LIFETIME = timedelta(days=2)
STUCK_SENDING = timedelta(hours=1)
SUPPRESS_FOR = timedelta(days=60)
SUBJECT_PREFIX_RE = re.compile(
    r"^\s*(?:\[THD-[A-Z0-9]+-\d+\]\s*|(?:re|fwd?|aw|sv|tr)\s*:\s*)+", re.I
)
DEFAULT_AUTO_ACK = (
    "Hello {{ client_name }},\n\n"
    "We received your message and will answer as soon as we can. Your reference is "
    "{{ thread.reference }}; keep it in the subject if you write again.\n\n"
    "{{ inbox.name }}"
)


class ReplyError(TisketError):
    pass


def body_html(text: str) -> str:
    """An agent's Markdown as HTML, through the same allow-list as inbound mail.

    Raw HTML in the Markdown is escaped first: agents write text, not markup.
    """
    source = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return sanitize_html(markdown.markdown(source, extensions=["sane_lists", "nl2br"]))


def new_message_id() -> str:
    # Under our own domain: a mail that comes back bearing it is recognised as ours.
    return f"{uuid.uuid4().hex}@{settings.TISKET_INBOUND_DOMAIN}"


def thread_subject(thread: Thread) -> str:
    """`[THD-ACME-001] Re: <subject>`, whatever prefixes the subject had piled up."""
    bare = SUBJECT_PREFIX_RE.sub("", thread.subject).strip() or "(no subject)"
    return f"[{thread.reference}] Re: {bare}"[:998]


def _threading_headers(thread: Thread, inbox_address: str) -> dict[str, str]:
    ids = list(
        Message.objects.filter(thread=thread)
        .exclude(message_id="")
        .order_by("created_at", "id")
        .values_list("message_id", flat=True)
    )
    headers = {"Reply-To": address_with_tag(inbox_address, reply_token_make(thread.pk))}
    if ids:
        headers["In-Reply-To"] = f"<{ids[-1]}>"
        # The first and the latest: what RFC 5322 asks to keep when trimming.
        kept = ids if len(ids) <= 20 else [ids[0], *ids[-19:]]
        headers["References"] = " ".join(f"<{i}>" for i in kept)
    return headers


def _client_recipients(thread: Thread, exclude: set[str]) -> list[str]:
    members = set(
        Membership.objects.filter(organization_id=thread.organization_id).values_list(
            "user__email", flat=True
        )
    )
    return [
        email
        for email in Participant.objects.filter(thread=thread).values_list("email", flat=True)
        if email not in members and email not in exclude
    ]


def _store_outbound(
    *,
    thread: Thread,
    kind: str,
    to: list[str],
    cc: list[str],
    text: str,
    author: Membership | None,
    automated: str = "",
    extra_headers: dict[str, str] | None = None,
    subject: str = "",
) -> tuple[Message, OutboundMail]:
    inbox = thread.inbox
    message_id = new_message_id()
    headers = _threading_headers(thread, inbox.address) | (extra_headers or {})
    # A first mail carries the reference without "Re:"; every later one is a reply.
    subject = f"[{thread.reference}] {subject}"[:998] if subject else thread_subject(thread)
    html = body_html(text)
    message = Message.objects.create(
        organization_id=thread.organization_id,
        thread=thread,
        direction=Message.Direction.OUTBOUND,
        from_email=inbox.address,
        from_name=inbox.sender_name,
        to=[{"name": "", "email": e} for e in to],
        cc=[{"name": "", "email": e} for e in cc],
        subject=subject,
        html=html,
        text=text,
        visible_text=text,
        message_id=message_id,
        in_reply_to=headers.get("In-Reply-To", ""),
        references=headers.get("References", ""),
        dedupe_key=message_id_key(message_id),
        author=author,
        automated_reason=automated,
    )
    # Every mail to a client ends with a signed link to the conversation's page
    # (the mail's, not the stored message's: the page itself needs no link).
    link_text, link_html = client_link_footer(thread=thread, email=to[0]) if to else ("", "")
    outbound = OutboundMail.objects.create(
        organization_id=thread.organization_id,
        inbox=inbox,
        thread=thread,
        message=message,
        kind=kind,
        to=to,
        cc=cc,
        subject=subject,
        text=f"{text}\n\n{link_text}" if link_text else text,
        html=f"{html}\n{link_html}" if link_html else html,
        headers=headers,
        message_id_header=message_id,
    )
    transaction.on_commit(lambda: outbox_enqueue(outbound_id=outbound.pk))
    return message, outbound


@transaction.atomic
def reply_send(
    *,
    thread: Thread,
    author: Membership,
    body: str,
    cc: list[str] = (),
    attachments: list[tuple[str, bytes]] = (),
) -> tuple[Message, OutboundMail | None]:
    """An agent's reply (Markdown, with files): stored on the thread, mailed to its clients."""
    if not author.has_role(Role.AGENT):
        raise NotAllowedError("Viewers cannot reply.")
    if author.organization_id != thread.organization_id:
        raise NotAllowedError("That thread is not of your organization.")
    body = body.strip()
    if not body:
        raise ReplyError("A reply needs some text.")
    own = organization_addresses(organization_id=thread.organization_id)
    extra = [address_normalize(a) for a in cc]
    bad = [a for a in extra if not address_is_valid(a)]
    if bad:
        raise ReplyError(f"Not an email address: {', '.join(bad)}.")
    participants_add(thread=thread, people=[("", a) for a in extra], exclude=own)
    to = _client_recipients(thread, exclude=own)
    if not to:
        raise ReplyError("This conversation has no client to write to.")
    total = sum(len(data) for _, data in attachments)
    if total > thread.inbox.max_message_bytes:
        limit = thread.inbox.max_message_bytes // (1024 * 1024)
        raise ReplyError(f"The attachments exceed this inbox's limit of {limit} MB per message.")
    message, outbound = _store_outbound(
        thread=thread, kind=OutboundMail.Kind.REPLY, to=to[:1], cc=to[1:], text=body, author=author
    )
    if attachments:
        parts = [
            MailAttachment(
                filename=safe_filename(name),
                content_type=sniff_content_type(data, filename=name),
                declared_type="",
                data=data,
            )
            for name, data in attachments
        ]
        stored = attachments_prepare(
            organization_id=thread.organization_id, parts=parts, max_bytes=total
        )
        attachments_save(message=message, attachments=stored)
    thread_message_added(thread=thread, reopen=False)
    return message, outbound


@transaction.atomic
def thread_start(
    *,
    inbox: Inbox,
    author: Membership,
    to: list[str],
    subject: str,
    body: str,
    cc: list[str] = (),
) -> tuple[Thread, Message, OutboundMail]:
    """An agent writes to a client first: a new thread, its first message, and the mail."""
    if not author.has_role(Role.AGENT):
        raise NotAllowedError("Viewers cannot write to clients.")
    if author.organization_id != inbox.organization_id:
        raise NotAllowedError("That inbox is not of your organization.")
    subject, body = " ".join(subject.split())[:998], body.strip()
    if not subject or not body:
        raise ReplyError("A new conversation needs a subject and some text.")
    recipients = [address_normalize(a) for a in [*to, *cc]]
    bad = [a for a in recipients if not address_is_valid(a)]
    if bad or not to:
        raise ReplyError(f"Not an email address: {', '.join(bad) or '(none given)'}.")
    own = organization_addresses(organization_id=inbox.organization_id)
    if own.intersection(recipients):
        raise ReplyError("A conversation is with a client, not with one of our own addresses.")
    to_, cc_ = recipients[: len(to)], recipients[len(to) :]
    thread = thread_create(
        organization=inbox.organization,
        inbox=inbox,
        subject=subject,
        client_email=to_[0],
        client_name="",
    )
    participants_add(thread=thread, people=[("", a) for a in recipients], exclude=own)
    message, outbound = _store_outbound(
        thread=thread,
        kind=OutboundMail.Kind.REPLY,
        to=to_,
        cc=cc_,
        text=body,
        author=author,
        subject=subject,
    )
    return thread, message, outbound


def auto_ack_after_ingest(results: list[InboundResult]) -> None:
    """Acknowledge new conversations, where the inbox wants it and loop safety allows."""
    for result in results:
        if not result.thread_created or result.message is None:
            continue
        message, thread = result.message, result.thread
        inbox = thread.inbox
        sender = message.from_email
        if not inbox.auto_ack_enabled or message.is_automated or not sender:
            continue
        if message.direction != Message.Direction.INBOUND:
            continue
        if Membership.objects.filter(organization_id=thread.organization_id, user__email=sender):
            continue  # a member opening a conversation needs no receipt
        if address_suppressed(sender):
            continue  # it bounced or complained: no automatic mail for a while
        since = timezone.now() - AUTO_ACK_WINDOW
        if OutboundMail.objects.filter(
            inbox=inbox, kind=OutboundMail.Kind.AUTO_ACK, to=[sender], created_at__gte=since
        ).exists():
            continue  # one per sender per inbox per window: two desks cannot ping-pong
        text = render_plain(
            inbox.auto_ack_text or DEFAULT_AUTO_ACK,
            {
                "client_name": message.from_name or sender,
                "thread": {"reference": thread.reference, "subject": thread.subject},
                "inbox": {"name": inbox.sender_name, "address": inbox.address},
            },
        )
        _store_outbound(
            thread=thread,
            kind=OutboundMail.Kind.AUTO_ACK,
            to=[sender],
            cc=[],
            text=text,
            author=None,
            automated="auto-acknowledgement",
            extra_headers={"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"},
        )
        thread_message_added(thread=thread, reopen=False)


# --- Sending ----------------------------------------------------------------------


def _installation_mail(*, organization_id: int, to: str, subject: str, text: str) -> OutboundMail:
    """An (unsaved) automatic mail from the installation's address, never to be answered."""
    return OutboundMail(
        organization_id=organization_id,
        inbox=None,
        kind=OutboundMail.Kind.NOTIFICATION,
        to=[to],
        subject=subject[:998],
        text=text,
        headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
        message_id_header=new_message_id(),
    )


@dataclass(frozen=True)
class MemberMail:
    """A mail to a member about something under their bell."""

    membership: Membership
    subject: str
    text: str
    url: str = ""


def notification_mails(mails: Iterable[MemberMail]) -> list[OutboundMail]:
    """Queue mails to members who want them, in one insert and one hand-over to the worker.

    Sent from the installation's address (DEFAULT_FROM_EMAIL), not an inbox:
    it is our mail to our own people, never part of a conversation. Members
    who turned mail off, inactive users and suppressed addresses get none.
    """
    wanted = [m for m in mails if m.membership.email_notifications and m.membership.user.is_active]
    suppressed = set(
        Suppression.objects.filter(
            address__in={m.membership.user.email for m in wanted}, until__gt=timezone.now()
        ).values_list("address", flat=True)
    )
    site = settings.SITE_URL.rstrip("/")
    rows = []
    for mail in wanted:
        if mail.membership.user.email in suppressed:
            continue
        link = f"{site}{mail.url}" if mail.url.startswith("/") else mail.url
        rows.append(
            _installation_mail(
                organization_id=mail.membership.organization_id,
                to=mail.membership.user.email,
                subject=mail.subject,
                text=f"{mail.text}\n\n{link}".strip() if link else mail.text,
            )
        )
    if not rows:
        return []
    created = OutboundMail.objects.bulk_create(rows)
    ids = [row.pk for row in created]
    transaction.on_commit(lambda: outbox_enqueue_many(outbound_ids=ids))
    return created


def address_mail(*, organization_id: int, to: str, subject: str, text: str) -> OutboundMail | None:
    """Queue one mail from the installation's address to someone not yet a member (an
    invitation); None when the address is suppressed for bouncing."""
    to = address_normalize(to)
    if address_suppressed(to):
        return None
    outbound = _installation_mail(
        organization_id=organization_id, to=to, subject=subject, text=text
    )
    outbound.save()
    transaction.on_commit(lambda: outbox_enqueue(outbound_id=outbound.pk))
    return outbound


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


def _build(outbound: OutboundMail) -> EmailMultiAlternatives:
    inbox = outbound.inbox
    headers = {"Message-ID": f"<{outbound.message_id_header}>", **outbound.headers}
    reply_to = headers.pop("Reply-To", None)
    mail = EmailMultiAlternatives(
        subject=outbound.subject,
        body=outbound.text,
        from_email=(
            address_format(inbox.sender_name, inbox.address)
            if inbox is not None
            else settings.DEFAULT_FROM_EMAIL
        ),
        to=outbound.to,
        cc=outbound.cc,
        reply_to=[reply_to] if reply_to else None,
        headers=headers,
    )
    if outbound.html:
        mail.attach_alternative(outbound.html, "text/html")
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
            .select_related("inbox__organization")
            .filter(pk=outbound_id, status=Status.PENDING, next_attempt_at__lte=timezone.now())
            .first()
        )
        if outbound is None:
            return None
        outbound.status = Status.SENDING
        outbound.attempts += 1
        outbound.next_attempt_at = timezone.now()
        outbound.save(update_fields=["status", "attempts", "next_attempt_at"])
    try:
        mail = _build(outbound)
        mail.connection = (
            inbox_connection(outbound.inbox) if outbound.inbox is not None else get_connection()
        )
        mail.send(fail_silently=False)
    except Exception as error:
        now = timezone.now()
        outbound.last_error = f"{type(error).__name__}: {error}"[:2000]
        too_old = now - outbound.created_at > SEND_LIFETIME
        if _is_temporary(error) and not too_old:
            outbound.status = Status.PENDING
            backoff = min(timedelta(seconds=30) * 2 ** (outbound.attempts - 1), timedelta(hours=1))
            outbound.next_attempt_at = now + backoff
        else:
            outbound.status = Status.FAILED
        outbound.save(update_fields=["status", "last_error", "next_attempt_at"])
        logger.warning("outbound #%s %s: %s", outbound.pk, outbound.status, outbound.last_error)
        return outbound
    outbound.status = Status.SENT
    outbound.sent_at = timezone.now()
    outbound.last_error = ""
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
            link_text, link_html = client_link_footer(thread=message.thread, email=row.to[0])
            row.text = f"{message.text}\n\n{link_text}"
            row.html = f"{message.html}\n{link_html}"
        row.status = Status.PENDING
        row.attempts = 0
        row.next_attempt_at = row.created_at = now
        row.sent_at = row.delivery_at = None
        row.last_error = row.esp_message_id = ""
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


def delivery_recorded(
    *, esp_message_id: str, event: str, recipient: str, detail: str, hard: bool
) -> OutboundMail | None:
    """An ESP's word on a mail we sent; a hard bounce or a complaint suppresses the address."""
    # One conditional UPDATE: a mail sent again meanwhile no longer carries this
    # id, and an event about its first attempt must not land on the new one.
    outbound = None
    if esp_message_id:  # never every mail without one
        rows = OutboundMail.objects.filter(esp_message_id=esp_message_id)
        now = timezone.now()
        rows.update(delivery_event=event[:20], delivery_detail=detail[:2000], delivery_at=now)
        outbound = rows.first()
    address = address_normalize(recipient)
    if hard and address_is_valid(address):
        Suppression.objects.update_or_create(
            address=address,
            defaults={"reason": f"{event}: {detail}"[:200], "until": timezone.now() + SUPPRESS_FOR},
        )
    return outbound


def address_suppressed(address: str) -> bool:
    return Suppression.objects.filter(address=address, until__gt=timezone.now()).exists()
