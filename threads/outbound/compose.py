"""Agents' replies, new conversations and auto-acknowledgements, written to the outbox.

A reply or an acknowledgement is stored as an outbound Message and an
OutboundMail row in one transaction; the outbox delivers the row after
commit. Loop safety (RFC 3834): nothing automatic answers automatic mail, our
own addresses or members, and a sender gets one acknowledgement per inbox per
window at most; acknowledgements say Auto-Submitted: auto-replied.
"""

import logging
import re
import uuid
from datetime import timedelta
from functools import reduce
from operator import or_

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from inboxes.domains import inbox_sender
from inboxes.models import Inbox, validate_auto_ack_text
from inboxes.selectors import organization_addresses
from kb.deflection import acknowledgement_suggestions, answered_token, client_pass
from threads.client_access import client_link_appended
from threads.ingest import InboundResult
from threads.models import Message, OutboundMail, Participant, Thread
from threads.outbound.outbox import outbox_enqueue
from threads.outbound.tracking import addresses_suppressed
from threads.search import messages_search_append
from threads.selectors import message_for_idempotency_key
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
    address_is_valid,
    address_normalize,
    address_with_tag,
)
from tisket.lib.files import safe_filename, sniff_content_type
from tisket.lib.mail.parts import MailAttachment
from tisket.lib.markdown_text import markdown_html, signature_append
from tisket.lib.reply_tokens import reply_token_make
from tisket.lib.templating import template_render
from tisket.models import Membership, Role

logger = logging.getLogger(__name__)

AUTO_ACK_WINDOW = timedelta(hours=24)
SUBJECT_PREFIX_RE = re.compile(
    r"^\s*(?:\[THD-[A-Z0-9]+-\d+\]\s*|(?:re|fwd?|aw|sv|tr)\s*:\s*)+", re.I
)
DEFAULT_AUTO_ACK = (
    "Hello {{ client_name }},\n\n"
    "We received your message and will answer as soon as we can. Your reference is "
    "{{ thread.reference }}; keep it in the subject if you write again.\n\n"
    "{{ inbox.name }}"
)


IDEMPOTENCY_KEY_RE = re.compile(r"[\x21-\x7e]{1,100}")


class ReplyError(TisketError):
    pass


class ReplyAlreadySent(Exception):
    """Not an error: this submission is stored and mailed already, and nothing more is.

    The edges answer as they did the first time.
    """

    def __init__(self, message: Message) -> None:
        super().__init__(f"message #{message.pk}")
        self.message = message


def body_html(text: str) -> str:
    """An agent's Markdown as HTML, through the same allow-list as inbound mail."""
    return markdown_html(text)


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


def _recipients_limit(count: int, *, extra: int) -> None:
    """Refuse a mail to more addresses than TISKET_MAX_RECIPIENTS: the desk is no mass mailer."""
    limit = settings.TISKET_MAX_RECIPIENTS
    if count <= limit:
        return
    if extra:
        raise ReplyError(
            f"This mail would go to {count} addresses, more than the {limit} one mail may "
            "go to. Copy fewer people."
        )
    raise ReplyError(
        f"This conversation has {count} client addresses, more than the {limit} one reply may "
        "go to. Start a new conversation with the people who need the answer."
    )


def _client_recipients(thread: Thread, exclude: set[str]) -> list[str]:
    members = {
        address_normalize(email)
        for email in Membership.objects.filter(organization_id=thread.organization_id).values_list(
            "user__email", flat=True
        )
    }
    return [
        email
        for email in Participant.objects.filter(thread=thread).values_list("email", flat=True)
        if address_normalize(email) not in members and address_normalize(email) not in exclude
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
    idempotency_key: str = "",
) -> tuple[Message, OutboundMail]:
    inbox = thread.inbox
    message_id = new_message_id()
    # The inbox's address on a verified domain, if it has one; the outbox checks again.
    sender = inbox_sender(inbox)
    headers = _threading_headers(thread, sender.reply_base) | (extra_headers or {})
    # A first mail carries the reference without "Re:"; every later one is a reply.
    subject = f"[{thread.reference}] {subject}"[:998] if subject else thread_subject(thread)
    html = body_html(text)
    message = Message.objects.create(
        organization_id=thread.organization_id,
        thread=thread,
        direction=Message.Direction.OUTBOUND,
        from_email=sender.address,
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
        idempotency_key=idempotency_key,
    )
    messages_search_append([message])
    # Every mail to a client ends with a signed link to the conversation's page
    # (the mail's, not the stored message's: the page itself needs no link).
    if to:
        mail_text, mail_html = client_link_appended(
            thread=thread, email=to[0], text=text, html=html
        )
    else:
        mail_text, mail_html = text, html
    outbound = OutboundMail.objects.create(
        organization_id=thread.organization_id,
        inbox=inbox,
        thread=thread,
        message=message,
        kind=kind,
        to=to,
        cc=cc,
        subject=subject,
        text=mail_text,
        html=mail_html,
        headers=headers,
        message_id_header=message_id,
    )
    transaction.on_commit(lambda: outbox_enqueue(outbound_id=outbound.pk))
    return message, outbound


@transaction.atomic
def reply_send_skipping_ticket(
    *,
    thread: Thread,
    author: Membership,
    body: str,
    cc: list[str] = (),
    attachments: list[tuple[str, bytes]] = (),
    idempotency_key: str = "",
) -> tuple[Message, OutboundMail | None]:
    """An agent's reply (Markdown, with files): stored on the thread, mailed to its clients.

    What it does to the thread's ticket is skipped: the use case's one entry is
    tickets.services.thread_reply_send, which calls this and then does that.
    A submission sent again with its idempotency key raises ReplyAlreadySent with
    the message stored the first time, and stores and sends nothing more.
    """
    if not author.has_role(Role.AGENT):
        raise NotAllowedError("Viewers cannot reply.")
    if author.organization_id != thread.organization_id:
        raise NotAllowedError("That thread is not of your organization.")
    key = idempotency_key.strip()
    if key and not IDEMPOTENCY_KEY_RE.fullmatch(key):
        raise ReplyError("An idempotency key is 1 to 100 visible ASCII characters.")
    _raise_if_stored(thread=thread, key=key)
    body = body.strip()
    if not body:
        raise ReplyError("A reply needs some text.")
    body = signature_append(body, author.user.signature)
    own = organization_addresses(organization_id=thread.organization_id)
    extra = [address_normalize(a) for a in cc]
    bad = [a for a in extra if not address_is_valid(a)]
    if bad:
        raise ReplyError(f"Not an email address: {', '.join(bad)}.")
    participants_add(thread=thread, people=[("", a) for a in extra], exclude=own)
    to = _client_recipients(thread, exclude=own)
    if not to:
        raise ReplyError("This conversation has no client to write to.")
    _recipients_limit(len(to), extra=len(extra))
    total = sum(len(data) for _, data in attachments)
    if total > thread.inbox.max_message_bytes:
        limit = thread.inbox.max_message_bytes // (1024 * 1024)
        raise ReplyError(f"The attachments exceed this inbox's limit of {limit} MB per message.")
    try:
        with transaction.atomic():
            message, outbound = _store_outbound(
                thread=thread,
                kind=OutboundMail.Kind.REPLY,
                to=to[:1],
                cc=to[1:],
                text=body,
                author=author,
                idempotency_key=key,
            )
    except IntegrityError:
        # The same submission raced this one and committed first: the unique index
        # made this insert wait for it, and its message is there to be read now.
        _raise_if_stored(thread=thread, key=key)
        raise
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
    thread_message_added(thread=thread, reopen=False, answered=not message.automated_reason)
    return message, outbound


def _raise_if_stored(*, thread: Thread, key: str) -> None:
    stored = message_for_idempotency_key(organization=thread.organization, key=key)
    if stored is None:
        return
    if stored.thread_id != thread.pk:
        raise ConflictError("This idempotency key was used for a reply in another conversation.")
    raise ReplyAlreadySent(stored)


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
    body = signature_append(body, author.user.signature)
    recipients = [address_normalize(a) for a in [*to, *cc]]
    bad = [a for a in recipients if not address_is_valid(a)]
    if bad or not to:
        raise ReplyError(f"Not an email address: {', '.join(bad) or '(none given)'}.")
    own = organization_addresses(organization_id=inbox.organization_id)
    if own.intersection(recipients):
        raise ReplyError("A conversation is with a client, not with one of our own addresses.")
    _recipients_limit(len(set(recipients)), extra=len(set(recipients)))
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


def _auto_ack_source(inbox: Inbox) -> str:
    try:
        validate_auto_ack_text(inbox.auto_ack_text)
    except ValidationError as error:
        # Stored before texts were checked (or past the checks): the client still
        # gets a sensible receipt, and the intake never fails on an admin's text.
        logger.warning("inbox #%s: acknowledgement text unusable (%s)", inbox.pk, error.messages[0])
        return DEFAULT_AUTO_ACK
    return inbox.auto_ack_text or DEFAULT_AUTO_ACK


def _ack_suggestions(*, thread: Thread, message: Message) -> str:
    """Public articles that may answer the question, each with a signed "answered" link."""
    question = f"{thread.subject}\n{message.visible_text or message.text}"[:1000]
    try:
        articles = acknowledgement_suggestions(
            organization=thread.organization, question=question, conversation_id=thread.pk
        )
    except Exception:
        # Suggestions are a courtesy: the receipt goes out without them rather than not at all.
        logger.exception("thread #%s: no article suggestions for the acknowledgement", thread.pk)
        return ""
    if not articles:
        return ""
    site = settings.SITE_URL.rstrip("/")
    reader = client_pass(organization=thread.organization)
    lines = ["", "", "These articles may answer your question:", ""]
    for article in articles:
        token = answered_token(conversation_id=thread.pk, article_id=article.pk)
        page = reverse("kb:article", args=[thread.organization.slug, article.slug])
        answered = reverse("client:kb-answered", kwargs={"token": token})
        lines.append(f"- [{article.title}]({site}{page}?pass={reader})  ")
        lines.append(f"  [This answered my question]({site}{answered})")
    return "\n".join(lines)


def auto_ack_after_ingest(results: list[InboundResult]) -> None:
    """Acknowledge new conversations, where the inbox wants it and loop safety allows."""
    wanted = []
    for result in results:
        if not result.thread_created or result.message is None:
            continue
        message, thread = result.message, result.thread
        inbox = thread.inbox
        # The key, not the case written: one receipt per address in any case.
        sender = address_normalize(message.from_email)
        if not inbox.is_active or not inbox.auto_ack_enabled or message.is_automated or not sender:
            continue
        if message.direction != Message.Direction.INBOUND:
            continue
        wanted.append((result, sender))
    if not wanted:
        return
    members, suppressed, acknowledged = _auto_ack_refusals(wanted)
    for result, sender in wanted:
        message, thread = result.message, result.thread
        inbox = thread.inbox
        if (thread.organization_id, sender) in members:
            continue  # a member opening a conversation needs no receipt
        if (thread.organization_id, sender) in suppressed:
            continue  # it bounced or complained: no automatic mail for a while
        if (inbox.pk, sender) in acknowledged:
            continue  # one per sender per inbox per window: two desks cannot ping-pong
        acknowledged.add((inbox.pk, sender))
        text = template_render(
            _auto_ack_source(inbox),
            values={
                "client_name": message.from_name or sender,
                "thread": {"reference": thread.reference, "subject": thread.subject},
                "inbox": {"name": inbox.sender_name, "address": inbox.address},
            },
        )
        text += _ack_suggestions(thread=thread, message=message)
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


def _auto_ack_refusals(
    wanted: list[tuple[InboundResult, str]],
) -> tuple[set[tuple[int, str]], set[tuple[int, str]], set[tuple[int, str]]]:
    """What holds a batch's receipts back, in three queries for any number of senders: the
    members and the suppressed addresses (by organization), and the senders acknowledged
    within the window (by inbox)."""
    organizations = {result.thread.organization_id for result, _ in wanted}
    senders = sorted({sender for _, sender in wanted})
    # iexact is the database's case folding; Python's agrees with it on ASCII only: where
    # either side is not ASCII, each such sender is asked alone, as iexact would be.
    plain = {sender for sender in senders if sender.isascii()}
    found: set[tuple[int, str]] = set()
    if plain:
        rows = Membership.objects.filter(
            reduce(or_, [Q(user__email__iexact=sender) for sender in plain]),
            organization_id__in=organizations,
        ).values_list("organization_id", "user__email")
        found = {(organization_id, email.lower()) for organization_id, email in rows}
        if not all(email.isascii() for _, email in found):
            plain = set()
    members = set()
    for result, sender in wanted:
        key = (result.thread.organization_id, sender)
        if sender in plain:
            if (key[0], sender.lower()) in found:
                members.add(key)
        elif Membership.objects.filter(organization_id=key[0], user__email__iexact=sender):
            members.add(key)
    held = addresses_suppressed(organization_ids=organizations, addresses=set(senders))
    suppressed = {
        (result.thread.organization_id, sender)
        for result, sender in wanted
        if (result.thread.organization_id, address_normalize(sender)) in held
    }
    sent = OutboundMail.objects.filter(
        reduce(or_, [Q(to=[sender]) for sender in senders]),
        inbox_id__in={result.thread.inbox_id for result, _ in wanted},
        kind=OutboundMail.Kind.AUTO_ACK,
        created_at__gte=timezone.now() - AUTO_ACK_WINDOW,
    ).values_list("inbox_id", "to")
    acknowledged = {(inbox_id, to[0]) for inbox_id, to in sent}
    return members, suppressed, acknowledged
