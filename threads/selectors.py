from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from inboxes.models import Inbox
from threads.models import (
    Attachment,
    InboundMail,
    Message,
    OutboundMail,
    Participant,
    SenderRule,
    Suppression,
    Thread,
)
from tisket.lib.addresses import address_is_valid, address_normalize
from tisket.lib.html import sanitize_html
from tisket.lib.mail.parse import parse_mail
from tisket.models import Organization


def threads_list(
    *,
    organization: Organization,
    inbox: int | None = None,
    status: str = "",
    q: str = "",
    scope: Q | None = None,
) -> QuerySet[Thread]:
    """The organization's threads; `scope` narrows them to what the viewer may see."""
    threads = Thread.objects.filter(organization=organization).select_related("inbox")
    if scope is not None:
        threads = threads.filter(scope)
    if inbox:
        threads = threads.filter(inbox_id=inbox)
    if status:
        threads = threads.filter(status__in=status.split(","))
    if q := q.strip():
        threads = threads.filter(thread_text_matches(q))
    return threads.prefetch_related(
        Prefetch("participants", queryset=Participant.objects.order_by("created_at", "id"))
    )


def thread_text_matches(text: str) -> Q:
    """A reference (THD-ACME-001) finds its conversation; an address, its client's; other
    text, the conversations whose subject or client holds it.

    Each arm is served by an index: references are unique, client addresses
    have a B-tree, and the text columns a trigram index on PostgreSQL (migration
    0008). A whole address is matched whole: its common trigrams (".com", a
    company's domain) would make the trigram index read most of its entries.
    """
    if text.upper().startswith("THD-"):
        return Q(reference=text.upper())
    if address_is_valid(address := address_normalize(text)) and "." in address.rpartition("@")[2]:
        return Q(client_email=address) | Q(subject__icontains=text)
    return (
        Q(subject__icontains=text)
        | Q(client_email__icontains=text)
        | Q(client_name__icontains=text)
    )


def _in_scope(scope: Q | None) -> Q:
    """A condition on a thread's rows (messages, attachments) from one on threads."""
    return Q() if scope is None else Q(thread__in=Thread.objects.filter(scope))


def thread_get(*, organization: Organization, reference: str, scope: Q | None = None) -> Thread:
    """One thread by reference; 404 when it is another organization's or outside `scope`."""
    try:
        return (
            Thread.objects.select_related("inbox")
            .prefetch_related("participants")
            .filter(scope if scope is not None else Q())
            .get(organization=organization, reference=reference.upper())
        )
    except Thread.DoesNotExist:
        raise Http404("No such thread.") from None


def messages_list(*, thread: Thread) -> QuerySet[Message]:
    return (
        Message.objects.filter(thread=thread)
        .select_related("author__user")
        .prefetch_related(
            Prefetch("attachments", queryset=Attachment.objects.order_by("id")),
            Prefetch("deliveries", queryset=OutboundMail.objects.order_by("id")),
        )
        .order_by("created_at", "id")
    )


def thread_question(*, thread: Thread) -> str:
    """What the client asks: the subject and their latest message's own words (KB search)."""
    latest = (
        Message.objects.filter(thread=thread, direction=Message.Direction.INBOUND)
        .order_by("-created_at", "-id")
        .values_list("visible_text", "text")
        .first()
    )
    text = (latest[0] or latest[1]) if latest else ""
    return f"{thread.subject}\n{text}"[:1000]


def attachment_get(*, organization: Organization, pk: int, scope: Q | None = None) -> Attachment:
    try:
        message_scope = (
            Q() if scope is None else Q(message__in=Message.objects.filter(_in_scope(scope)))
        )
        return (
            Attachment.objects.select_related("message__thread")
            .filter(message_scope)
            .get(organization=organization, pk=pk)
        )
    except (Attachment.DoesNotExist, ValueError, TypeError):
        raise Http404("No such attachment.") from None


def quarantine_list(*, organization: Organization) -> QuerySet[InboundMail]:
    return InboundMail.objects.filter(
        organization=organization, status=InboundMail.Status.QUARANTINED
    ).select_related("inbox", "thread")


def inbound_get(*, organization: Organization, pk: int) -> InboundMail:
    mails = InboundMail.objects.filter(organization=organization).select_related("inbox", "thread")
    try:
        return mails.get(pk=pk)
    except (InboundMail.DoesNotExist, ValueError, TypeError):
        raise Http404("No such mail.") from None


def inbound_log(
    *,
    organization: Organization,
    status: str = "",
    inbox: int | None = None,
    sender: str = "",
) -> QuerySet[InboundMail]:
    """The organization's inbound log, filtered: status (comma-separated), inbox, sender
    (part of the From address)."""
    mails = InboundMail.objects.filter(organization=organization).select_related("inbox", "thread")
    if status:
        mails = mails.filter(status__in=status.split(","))
    if inbox is not None:
        mails = mails.filter(inbox_id=inbox)
    if sender:
        mails = mails.filter(from_email__icontains=sender.strip())
    return mails.defer("raw_data", "error")


def inboxes_with_mail_stats(inboxes: QuerySet[Inbox]) -> QuerySet[Inbox]:
    """The inboxes with `processed` (mail done with, whatever became of it), the latest
    inbound failure (`last_error`, `last_error_at`) and the latest mail it failed to send
    (`last_send_error`, `last_send_error_at`), in the list's own query."""
    mail = InboundMail.objects.filter(inbox=OuterRef("pk")).order_by()
    processed = (
        mail.exclude(status=InboundMail.Status.PENDING)
        .values("inbox")
        .annotate(n=Count("id"))
        .values("n")
    )
    failed = mail.filter(status=InboundMail.Status.FAILED).order_by("-received_at", "-id")
    unsent = OutboundMail.objects.filter(
        inbox=OuterRef("pk"), status=OutboundMail.Status.FAILED
    ).order_by("-created_at", "-id")
    return inboxes.annotate(
        processed=Coalesce(Subquery(processed), 0),
        last_error=Subquery(failed.values("reason")[:1]),
        last_error_at=Subquery(failed.values("received_at")[:1]),
        last_send_error=Subquery(unsent.values("last_error")[:1]),
        last_send_error_at=Subquery(unsent.values("created_at")[:1]),
    )


def message_get(*, organization: Organization, pk: int, scope: Q | None = None) -> Message:
    try:
        return (
            Message.objects.prefetch_related("attachments")
            .filter(_in_scope(scope))
            .get(organization=organization, pk=pk)
        )
    except (Message.DoesNotExist, ValueError, TypeError):
        raise Http404("No such message.") from None


def message_for_idempotency_key(*, organization: Organization, key: str) -> Message | None:
    """The organization's message stored for this submission key, if any (never for a blank one)."""
    if not key:
        return None
    return Message.objects.filter(organization=organization, idempotency_key=key).first()


def inbound_messages_after(*, thread: Thread, message_id: int) -> QuerySet[Message]:
    """The client messages of the thread newer than the given one (by id: ids only grow)."""
    return Message.objects.filter(
        thread=thread, direction=Message.Direction.INBOUND, pk__gt=message_id
    )


def suppressions_list(*, organization: Organization) -> QuerySet[Suppression]:
    """The addresses the organization's automatic mail holds back from now, the latest first."""
    return Suppression.objects.filter(organization=organization, until__gt=timezone.now())


def suppression_get(*, organization: Organization, pk: int) -> Suppression:
    """One of the organization's suppressions in force; 404 for any other."""
    try:
        return suppressions_list(organization=organization).get(pk=pk)
    except (Suppression.DoesNotExist, ValueError, TypeError):
        raise Http404("No such suppression.") from None


def sender_rules_list(*, organization: Organization) -> QuerySet[SenderRule]:
    return (
        SenderRule.objects.filter(organization=organization)
        .select_related("created_by__user")
        .order_by("kind", "pattern")
    )


def sender_rule_get(*, organization: Organization, pk: int) -> SenderRule:
    try:
        return SenderRule.objects.get(organization=organization, pk=pk)
    except (SenderRule.DoesNotExist, ValueError, TypeError):
        raise Http404("No such rule.") from None


@dataclass
class MailReading:
    """A logged mail as a reader sees it, read from its raw bytes: sanitized, never stored."""

    from_name: str = ""
    from_email: str = ""
    to: list[tuple[str, str]] = field(default_factory=list)
    cc: list[tuple[str, str]] = field(default_factory=list)
    subject: str = ""
    date: datetime | None = None
    html: str = ""  # sanitized, as the conversation stores mail
    text: str = ""
    attachments: list[tuple[str, str, int]] = field(default_factory=list)  # name, type, size
    problem: str = ""  # why it could not be read, if it could not


def inbound_mail_read(*, inbound: InboundMail) -> MailReading:
    """Parse and sanitize a logged mail for reading (a held one, before deciding on it)."""
    try:
        parsed = parse_mail(inbound.raw_bytes())
    except Exception as exc:  # hostile bytes: say so, never break the page
        return MailReading(problem=f"This mail cannot be read ({type(exc).__name__}).")
    try:
        html = sanitize_html(parsed.html) if parsed.html else ""
    except Exception:
        html = ""  # its text is shown instead, as the conversation would
    return MailReading(
        from_name=parsed.from_name,
        from_email=parsed.from_email,
        to=parsed.to,
        cc=parsed.cc,
        subject=parsed.subject,
        date=parsed.date,
        html=html,
        text=parsed.text,
        attachments=[(a.filename, a.content_type, len(a.data)) for a in parsed.attachments],
    )
