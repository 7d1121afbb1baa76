"""Mailing members what is still unread under their bell: after the delay, one mail per
conversation, never in their quiet hours (but what no one may turn off), and once a day for
those who take a digest, the conversations most at risk of missing their SLA first.

Beat runs notification_mails_task every minute (the embedded worker on its schedule too).
Each notification is claimed by its `email_status` under a row lock, so two sweeps never
mail it twice and a sweep that dies mails nothing it did not mark.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from threads.outbound import MemberMail, notification_mails
from tickets.models import Ticket
from tisket.models import Membership, Notification
from tisket.notifications.matrix import quiet_now
from tisket.notifications.selectors import member_local_now

BATCH = 1000  # due notifications a sweep looks at; the rest wait a minute
DIGEST_LIMIT = 200  # notifications in one digest; the rest say "and N more"


@dataclass
class Topic:
    """The unread notifications of one member about one conversation, for one mail."""

    member: Membership
    reference: str
    items: list[Notification] = field(default_factory=list)
    ticket: Ticket | None = None


def _mail(
    template: str, member: Membership, context: dict, *, critical: bool = False
) -> MemberMail:
    slug = member.organization.slug
    context = {
        "member": member,
        "organization": member.organization,
        "site_url": settings.SITE_URL.rstrip("/"),
        "preferences_url": reverse("accounts:notifications", kwargs={"org_slug": slug}),
        "list_url": reverse("org:notifications", kwargs={"org_slug": slug}),
        **context,
    }
    subject = " ".join(render_to_string(f"tickets/emails/{template}_subject.txt", context).split())
    text = render_to_string(f"tickets/emails/{template}_body.txt", context)
    return MemberMail(
        membership=member,
        subject=subject,
        text=text.strip(),
        critical=critical,
        mail_type="digest" if template == "digest" else "notification",
    )


def in_quiet_hours(member: Membership, now: datetime) -> bool:
    local = member_local_now(membership=member, now=now)
    return quiet_now(member.quiet_hours_start, member.quiet_hours_end, local.time())


@transaction.atomic
def notification_mails_send(*, now: datetime | None = None, ids: list[int] | None = None) -> int:
    """Mail each member's conversations that have an unread notification past its delay, one
    mail per conversation with all its unread ones (due or not); returns how many mails."""
    now = now or timezone.now()
    due = Notification.objects.filter(
        email_status=Notification.Email.PENDING, email_due_at__lte=now, read_at__isnull=True
    )
    if ids is not None:
        due = due.filter(pk__in=ids)
    # A backlog goes a batch a minute, the longest waiting first.
    due_topics = set(due.order_by("email_due_at").values_list("recipient_id", "topic")[:BATCH])
    if not due_topics:
        return 0
    rows = (
        Notification.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(
            email_status=Notification.Email.PENDING,
            read_at__isnull=True,
            recipient_id__in={recipient for recipient, _ in due_topics},
        )
        .select_related("recipient__user", "recipient__organization")
        .order_by("created_at", "id")
    )
    topics: dict[tuple[int, str], Topic] = {}
    for row in rows:
        key = (row.recipient_id, row.topic)
        if key in due_topics:
            topics.setdefault(key, Topic(member=row.recipient, reference=row.topic)).items.append(
                row
            )
    mails, sent = [], []
    for topic in topics.values():
        if in_quiet_hours(topic.member, now):
            # Quiet hours hold everything but what no one may turn off; the rest goes after.
            topic.items = [item for item in topic.items if item.critical]
        if not topic.items:
            continue
        sent += [item.pk for item in topic.items]
        mails.append(
            _mail(
                "notification",
                topic.member,
                {"topic": topic, "items": topic.items},
                # One critical item (a breach of their own) takes the mail past an unsubscribe.
                critical=any(item.critical for item in topic.items),
            )
        )
    Notification.objects.filter(pk__in=sent).update(email_status=Notification.Email.SENT)
    notification_mails(mails)
    return len(mails)


def _risk(ticket: Ticket | None, now: datetime) -> tuple:
    """Sort key of a digest's conversations: breached, at risk, by the nearest deadline,
    then those without a running SLA."""
    if ticket is None or ticket.sla_due_at is None or ticket.sla_paused_at is not None:
        return (3, datetime.max.replace(tzinfo=now.tzinfo))
    if ticket.sla_due_at <= now:
        return (0, ticket.sla_due_at)
    if ticket.sla_warn_at is not None and ticket.sla_warn_at <= now:
        return (1, ticket.sla_due_at)
    return (2, ticket.sla_due_at)


def sla_state(ticket: Ticket | None, now: datetime) -> str:
    return {0: "breached", 1: "at risk", 2: "on track", 3: ""}[_risk(ticket, now)[0]]


def notification_digests_send(*, now: datetime | None = None) -> int:
    """Send each digest member whose local digest time has come today their unread
    notifications in one mail; returns how many digests went."""
    now = now or timezone.now()
    members = (
        Membership.objects.filter(
            email_digest=True,
            user__is_active=True,
            notifications__email_status=Notification.Email.DIGEST,
        )
        .select_related("user", "organization")
        .distinct()
    )
    sent = 0
    for member in members:
        local = member_local_now(membership=member, now=now)
        if local.time() < member.digest_time or member.digest_sent_on == local.date():
            continue
        sent += _digest_send(member=member, today=local.date(), now=now)
    return sent


@transaction.atomic
def _digest_send(*, member: Membership, today, now: datetime) -> int:
    # The claim: one digest per member and local day, whoever runs the sweep.
    claimed = (
        Membership.objects.filter(pk=member.pk)
        .filter(Q(digest_sent_on__isnull=True) | Q(digest_sent_on__lt=today))
        .update(digest_sent_on=today)
    )
    if not claimed:
        return 0
    rows = list(
        Notification.objects.select_for_update(skip_locked=True)
        .filter(recipient=member, email_status=Notification.Email.DIGEST, read_at__isnull=True)
        .order_by("created_at", "id")
    )
    if not rows:
        return 0
    Notification.objects.filter(pk__in=[r.pk for r in rows]).update(
        email_status=Notification.Email.SENT
    )
    tickets = Ticket.objects.filter(
        organization_id=member.organization_id, reference__in={r.topic for r in rows if r.topic}
    ).in_bulk(field_name="reference")
    topics: dict[str, Topic] = {}
    for row in rows[:DIGEST_LIMIT]:
        topic = topics.setdefault(
            row.topic, Topic(member=member, reference=row.topic, ticket=tickets.get(row.topic))
        )
        topic.items.append(row)
    ordered = sorted(topics.values(), key=lambda t: (_risk(t.ticket, now), t.reference))
    for topic in ordered:
        topic.sla = sla_state(topic.ticket, now)
    context = {"topics": ordered, "count": len(rows), "more": max(0, len(rows) - DIGEST_LIMIT)}
    notification_mails([_mail("digest", member, context)])
    return 1
