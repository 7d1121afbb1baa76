"""The inbound pipeline: every path (webhooks, raw endpoint, IMAP, import) ends here.

At the edge, inbound_receive() records the raw mail once and answers at once.
The worker's inbound_process() then routes, deduplicates, matches a thread,
checks the sender, flags automatic mail and stores the message, all in one
transaction. Two error classes, as in Zulip's gateway: the sender's (rejected or
quarantined with a reason, logged at info) and ours (failed, raw mail kept for
a retry, logged as an error without addresses).
"""

import hashlib
import logging
import re
import traceback
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from inboxes.models import Inbox, InboxAddress
from inboxes.selectors import organization_addresses
from threads.models import Attachment, InboundMail, Message, Participant, Thread
from threads.services import (
    attachments_discard,
    attachments_prepare,
    attachments_save,
    message_id_key,
    participants_add,
    thread_create,
    thread_message_added,
)
from tisket.errors import TisketError
from tisket.lib.addresses import address_normalize, address_split_tag
from tisket.lib.html import sanitize_html
from tisket.lib.mail.auto import automated_reason
from tisket.lib.mail.parse import ParsedMail, parse_mail
from tisket.lib.mail.quotes import visible_html_text, visible_text
from tisket.lib.reply_tokens import reply_token_read
from tisket.models import Membership, Organization

logger = logging.getLogger(__name__)

Status = InboundMail.Status
SUBJECT_REF_RE = re.compile(r"\[THD-([A-Z0-9]{2,10})-(\d{1,12})\]")
PENDING_GRACE = timedelta(seconds=60)


class InboundStateError(TisketError):
    status_code = 409


@dataclass
class InboundResult:
    inbound: InboundMail
    thread: Thread | None = None
    message: Message | None = None
    thread_created: bool = False


# --- The edge -------------------------------------------------------------------


def inbound_receive(
    *, raw: bytes, source: str, recipient: str = "", stripped_text: str = "", enqueue: bool = True
) -> tuple[InboundMail, bool]:
    """Record a received mail once (same bytes, same recipient) and queue it; cheap and idempotent.

    enqueue=False is for callers that process the mail themselves right away.
    """
    digest = hashlib.sha256(raw).hexdigest()
    recipient = address_normalize(recipient)[:998]
    existing = InboundMail.objects.filter(raw_sha256=digest, envelope_recipient=recipient).first()
    if existing:
        return existing, False
    inbound = InboundMail(
        source=source[:40],
        raw_sha256=digest,
        envelope_recipient=recipient,
        raw_size=len(raw),
        esp_stripped_text=stripped_text[:100_000],
    )
    if len(raw) <= settings.TISKET_INBOUND_INLINE_MAX_BYTES:
        inbound.raw_data = raw
    else:
        inbound.raw_file.save("mail.eml", ContentFile(raw), save=False)
    try:
        with transaction.atomic():
            inbound.save()
            if enqueue:
                transaction.on_commit(lambda: inbound_enqueue(inbound_id=inbound.pk))
    except IntegrityError:
        # A concurrent delivery of the same mail won the race.
        if inbound.raw_file:
            inbound.raw_file.delete(save=False)
        return InboundMail.objects.get(raw_sha256=digest, envelope_recipient=recipient), False
    return inbound, True


def inbound_enqueue(*, inbound_id: int) -> None:
    """Hand a recorded mail to the worker; if the broker is down, the sweep will."""
    from threads.tasks import inbound_mail_process

    try:
        inbound_mail_process.delay(inbound_id)
    except Exception as exc:  # the row is committed; the periodic sweep picks it up
        logger.warning("inbound #%s not queued (%s); the sweep will retry", inbound_id, exc)


def inbound_sweep() -> list[int]:
    """Re-queue mail left pending: the broker was down, or a worker died mid-way.

    A worker holds its mail's row lock for the whole of its one transaction;
    if it dies, the transaction rolls back and the mail is simply pending again.
    """
    now = timezone.now()
    ids = list(
        InboundMail.objects.filter(status=Status.PENDING, received_at__lt=now - PENDING_GRACE)
        .order_by("received_at")
        .values_list("pk", flat=True)[:1000]
    )
    for inbound_id in ids:
        inbound_enqueue(inbound_id=inbound_id)
    return ids


# --- The worker -----------------------------------------------------------------


def inbound_process(*, inbound_id: int) -> InboundResult | None:
    """Process a pending mail; None when another worker has it or it is done already."""
    return _run(inbound_id, from_status=Status.PENDING, trust_sender=False, actor=None)


def inbound_retry(*, inbound: InboundMail) -> InboundResult:
    """Process a failed mail again."""
    result = _run(inbound.pk, from_status=Status.FAILED, trust_sender=False, actor=None)
    if result is None:
        inbound.refresh_from_db(fields=["status"])
        raise InboundStateError(f"Only failed mail can be retried; this one is {inbound.status}.")
    return result


def quarantine_release(*, inbound: InboundMail, actor: Membership | None) -> InboundResult:
    """Let a held mail into its thread; its sender becomes a participant."""
    result = _run(inbound.pk, from_status=Status.QUARANTINED, trust_sender=True, actor=actor)
    if result is None:
        inbound.refresh_from_db(fields=["status"])
        raise InboundStateError(f"This mail is {inbound.status}, not quarantined.")
    return result


def quarantine_discard(*, inbound: InboundMail, actor: Membership | None) -> InboundMail:
    """Drop a held mail for good (the log keeps it)."""
    done = InboundMail.objects.filter(pk=inbound.pk, status=Status.QUARANTINED).update(
        status=Status.DISCARDED, decided_by=actor, processed_at=timezone.now()
    )
    inbound.refresh_from_db()
    if not done:
        raise InboundStateError(f"This mail is {inbound.status}, not quarantined.")
    return inbound


@dataclass
class _Prepared:
    """Everything about a mail that needs no lock: parsed, routed, sanitized, files written."""

    parsed: ParsedMail
    inbox: Inbox | None = None
    tags: list[str] = field(default_factory=list)
    dedupe_key: str = ""
    own_addresses: set[str] = field(default_factory=set)
    automated: str = ""
    html: str = ""
    visible: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    attachments_used: bool = False

    def discard_files(self) -> None:
        if not self.attachments_used:
            attachments_discard(attachments=self.attachments)


def _run(
    inbound_id: int, *, from_status: str, trust_sender: bool, actor: Membership | None
) -> InboundResult | None:
    inbound = InboundMail.objects.filter(pk=inbound_id, status=from_status).first()
    if inbound is None:
        return None
    prepared = None
    try:
        # The slow part (parsing, sanitizing, writing attachments) runs before
        # the transaction, so that the locks it takes are held for a few writes.
        prepared = _prepare(inbound)
        with transaction.atomic():
            _commit_without_waiting_for_disk()
            locked = (
                InboundMail.objects.select_for_update(skip_locked=True)
                .filter(pk=inbound_id, status=from_status)
                .only("id", "status", "attempts", "envelope_recipient", "thread")
                .first()
            )
            result = None
            if locked is not None:
                result = _store(locked, prepared, trust_sender=trust_sender, actor=actor)
        prepared.discard_files()
        return result
    except Exception as exc:
        # Our fault, not the sender's: keep the raw mail for a retry, say why, move on.
        if prepared is not None:
            prepared.discard_files()
        logger.exception("inbound #%s failed: %s", inbound_id, type(exc).__name__)
        InboundMail.objects.filter(pk=inbound_id, status=from_status).update(
            status=Status.FAILED,
            reason=f"{type(exc).__name__}: {exc}"[:1000],
            error="".join(traceback.format_exception(exc))[-10_000:],
            attempts=F("attempts") + 1,
            processed_at=timezone.now(),
        )
        inbound.refresh_from_db()
        return InboundResult(inbound=inbound)


def _commit_without_waiting_for_disk() -> None:
    # Safe here: the raw mail was committed durably at the edge. If the machine
    # crashes before this transaction reaches the disk, the mail is simply
    # pending again and the sweep processes it again. Anything that acts on the
    # outside world commits synchronously later, which flushes this one first.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _prepare(inbound: InboundMail) -> _Prepared:
    parsed = parse_mail(inbound.raw_bytes())
    prepared = _Prepared(parsed=parsed)
    route = route_mail(parsed, envelope_recipient=inbound.envelope_recipient)
    if route is None:
        return prepared
    prepared.inbox, prepared.tags = route
    organization_id = prepared.inbox.organization_id
    prepared.dedupe_key = (
        message_id_key(parsed.message_id) if parsed.message_id else parsed.content_key
    )
    if Message.objects.filter(
        organization_id=organization_id, dedupe_key=prepared.dedupe_key
    ).exists():
        return prepared  # a duplicate: nothing more to prepare
    prepared.own_addresses = organization_addresses(organization_id=organization_id)
    prepared.automated = automated_reason(
        parsed.message,
        from_email=parsed.from_email,
        own_addresses=prepared.own_addresses,
        own_domain=settings.TISKET_INBOUND_DOMAIN,
    )
    prepared.html = sanitize_html(parsed.html) if parsed.html else ""
    if inbound.esp_stripped_text.strip():
        prepared.visible = inbound.esp_stripped_text.strip()
    elif parsed.text:
        prepared.visible = visible_text(parsed.text)
    elif parsed.html:
        prepared.visible = visible_html_text(parsed.html)
    prepared.attachments = attachments_prepare(
        organization_id=organization_id,
        parts=parsed.attachments,
        max_bytes=prepared.inbox.max_message_bytes,
    )
    return prepared


def _finish(inbound: InboundMail, status: str, reason: str = "", **fields) -> InboundMail:
    fields.update(status=status, reason=reason, error="", processed_at=timezone.now())
    fields["attempts"] = inbound.attempts + 1
    for name, value in fields.items():
        setattr(inbound, name, value)
    inbound.save(update_fields=list(fields))
    if status in (Status.REJECTED, Status.QUARANTINED):
        logger.info("inbound #%s %s: %s", inbound.pk, status, reason)
    return inbound


def _store(
    inbound: InboundMail, prepared: _Prepared, *, trust_sender: bool, actor: Membership | None
) -> InboundResult:
    parsed = prepared.parsed
    summary = {
        "decided_by": actor,
        "from_email": parsed.from_email,
        "subject": parsed.subject,
        "message_id_header": parsed.message_id[:998],
    }
    if prepared.inbox is None:
        tried = ", ".join(recipient_candidates(parsed, inbound.envelope_recipient)) or "none"
        reason = f"No inbox has any of the recipient addresses ({tried})."
        return InboundResult(_finish(inbound, Status.REJECTED, reason, **summary))
    inbox = prepared.inbox
    organization = inbox.organization
    summary.update(organization=organization, inbox=inbox)

    thread = inbound.thread if trust_sender else match_thread(organization, parsed, prepared.tags)
    if thread is not None and thread.status == Thread.Status.CLOSED:
        thread = None  # a closed conversation stays closed: its follow-up starts a new one
    sender = parsed.from_email
    member = _member(organization, sender) if sender else None
    if not trust_sender:
        problem = _sender_problem(parsed, thread, member)
        if problem:
            summary["thread"] = thread
            return InboundResult(_finish(inbound, Status.QUARANTINED, problem, **summary))

    thread_created = thread is None
    # A member writing into an existing thread from their own mail client is the
    # desk answering: outbound, already delivered by their client.
    outbound = member is not None and not thread_created
    try:
        # The unique (organization, dedupe_key) is the authority on duplicates:
        # if another worker stored this mail first, the new thread goes too.
        with transaction.atomic():
            if thread_created:
                thread = thread_create(
                    organization=organization,
                    inbox=inbox,
                    subject=parsed.subject,
                    client_email=sender,
                    client_name=parsed.from_name,
                )
            message = Message.objects.create(
                organization=organization,
                thread=thread,
                direction=Message.Direction.OUTBOUND if outbound else Message.Direction.INBOUND,
                from_email=sender,
                from_name=parsed.from_name,
                to=[{"name": n, "email": e} for n, e in parsed.to],
                cc=[{"name": n, "email": e} for n, e in parsed.cc],
                subject=parsed.subject,
                html=prepared.html,
                text=parsed.text,
                visible_text=prepared.visible,
                message_id=parsed.message_id[:998],
                in_reply_to=" ".join(f"<{i}>" for i in parsed.in_reply_to)[:998],
                references=" ".join(f"<{i}>" for i in parsed.references),
                dedupe_key=prepared.dedupe_key,
                author=member if outbound else None,
                automated_reason=prepared.automated[:200],
                sent_at=parsed.date,
            )
    except IntegrityError:
        # The same mail, delivered twice at once, was stored by the other worker.
        duplicate = Message.objects.select_related("thread").get(
            organization=organization, dedupe_key=prepared.dedupe_key
        )
        return _duplicate(inbound, duplicate, summary)
    attachments_save(message=message, attachments=prepared.attachments)
    prepared.attachments_used = True
    participants_add(
        thread=thread,
        people=[(parsed.from_name, sender), *parsed.to, *parsed.cc],
        exclude=prepared.own_addresses,
    )
    thread_message_added(
        thread=thread, reopen=not outbound and not prepared.automated, created=thread_created
    )
    summary.update(thread=thread, message=message)
    reason = f"Automatic mail: {prepared.automated}." if prepared.automated else ""
    return InboundResult(
        _finish(inbound, Status.ACCEPTED, reason, **summary),
        thread=thread,
        message=message,
        thread_created=thread_created,
    )


def _duplicate(inbound: InboundMail, duplicate: Message, summary: dict) -> InboundResult:
    summary.update(thread=duplicate.thread, message=duplicate)
    reason = f"Already stored in {duplicate.thread.reference} (message #{duplicate.pk})."
    return InboundResult(_finish(inbound, Status.DUPLICATE, reason, **summary))


def _member(organization: Organization, email: str) -> Membership | None:
    return (
        Membership.objects.select_related("user")
        .filter(organization=organization, user__email=email, user__is_active=True)
        .first()
    )


def _sender_problem(parsed: ParsedMail, thread: Thread | None, member: Membership | None) -> str:
    """Why the sender may not write here, or ''."""
    if not parsed.from_email:
        return f"No trustworthy sender: {parsed.from_problem}."
    if thread is None or member is not None:
        return ""
    if Participant.objects.filter(thread=thread, email=parsed.from_email).exists():
        return ""
    return (
        f"{parsed.from_email} is neither a participant of {thread.reference} "
        "nor a member of the organization."
    )


# --- Routing and threading --------------------------------------------------------


def recipient_candidates(parsed: ParsedMail, envelope_recipient: str) -> list[str]:
    """Recipient addresses in routing order: envelope, To, Cc, Delivered-To, X-Original-To."""
    ordered = [envelope_recipient] if envelope_recipient else []
    ordered += [email for _, email in parsed.to] + [email for _, email in parsed.cc]
    ordered += parsed.delivered_to
    seen: dict[str, None] = {}
    for address in ordered:
        seen.setdefault(address_normalize(address), None)
    return [a for a in seen if a]


def route_mail(parsed: ParsedMail, *, envelope_recipient: str) -> tuple[Inbox, list[str]] | None:
    """The inbox a mail is for, and the plus-tags of the addresses that name its organization.

    The first known address (envelope first) picks the organization; within it,
    the first of its inboxes named in To/Cc wins, so two deliveries of one mail
    to two inboxes agree on where it belongs.
    """
    candidates = recipient_candidates(parsed, envelope_recipient)
    bases = [address_split_tag(a) for a in candidates]
    plain = {base for base, _ in bases}
    inboxes: dict[str, Inbox] = {
        inbox.address: inbox
        for inbox in Inbox.objects.select_related("organization").filter(address__in=plain)
    }
    for extra in InboxAddress.objects.select_related("inbox__organization").filter(
        address__in=plain
    ):
        inboxes.setdefault(extra.address, extra.inbox)
    first = next((inboxes[base] for base, _ in bases if base in inboxes), None)
    if first is None:
        return None
    organization_id = first.organization_id
    header_order = [address_split_tag(e)[0] for _, e in [*parsed.to, *parsed.cc]]
    chosen = next(
        (
            inboxes[a]
            for a in header_order
            if a in inboxes and inboxes[a].organization_id == organization_id
        ),
        first,
    )
    tags = [
        tag
        for base, tag in bases
        if tag and base in inboxes and inboxes[base].organization_id == organization_id
    ]
    return chosen, tags


def match_thread(organization: Organization, parsed: ParsedMail, tags: list[str]) -> Thread | None:
    """The thread a mail answers, always within the receiving organization, or None."""
    threads = Thread.objects.filter(organization=organization)
    for tag in tags:
        thread_id = reply_token_read(tag)
        if thread_id is not None:
            thread = threads.filter(pk=thread_id).first()
            if thread:
                return thread
    references = parsed.thread_message_ids
    if references:
        keys = [message_id_key(ref) for ref in references]
        found = dict(
            Message.objects.filter(organization=organization, dedupe_key__in=keys).values_list(
                "dedupe_key", "thread_id"
            )
        )
        for key in keys:
            if key in found:
                return threads.get(pk=found[key])
    for code, number in SUBJECT_REF_RE.findall(parsed.subject.upper()):
        if code == organization.code:
            thread = threads.filter(number=int(number)).first()
            if thread:
                return thread
    return None
