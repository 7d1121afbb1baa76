"""Telling members what needs them: a notification under the bell, and a mail if they wish."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from tickets import visibility
from tickets.models import QueueMember, TicketThread
from tickets.notification_mail import notification_mails_send
from tisket.models import Membership, Notification
from tisket.notifications.matrix import Scope
from tisket.notifications.selectors import EventSettings, Reach


@dataclass(frozen=True)
class Notice:
    recipient: Membership
    kind: str
    title: str
    body: str = ""
    url: str = ""
    topic: str = ""  # the ticket's reference: one mail per ticket
    in_app: bool = True
    email: bool = True
    critical: bool = False  # mail no one may turn off: ignores quiet hours and the digest


MENTION_RE = re.compile(r"(?<![\w.])@([\w.+-]+(?:@[\w-]+(?:\.[\w-]+)+)?)")


def ticket_url(ticket) -> str:
    """Where a notice about a ticket points, in the agent UI."""
    return reverse(
        "tickets:ticket", kwargs={"org_slug": ticket.organization.slug, "ticket": ticket.reference}
    )


def conversation_reference(ticket) -> str:
    """How a person knows a ticket: its first conversation's reference, the one its client has
    in their mail; the ticket's own when it has no conversation."""
    return conversation_references([ticket])[ticket.pk]


def conversation_references(tickets: list) -> dict[int, str]:
    """conversation_reference of many tickets, by ticket id, in one query."""
    found = {ticket.pk: ticket.reference for ticket in tickets}
    first: set[int] = set()
    links = (
        TicketThread.objects.filter(ticket_id__in=found)
        .order_by("ticket_id", "created_at", "id")
        .values_list("ticket_id", "thread__reference")
    )
    for ticket_id, reference in links:
        if ticket_id not in first:
            first.add(ticket_id)
            found[ticket_id] = reference
    return found


def member_handle(member: Membership) -> str:
    """What the note box writes after @ for a member: their name joined by dots (alex.martin),
    or their address's first part when they have no name."""
    if getattr(member.user, "handle", ""):
        return member.user.handle
    name = ".".join(member.user.full_name.lower().split())
    return name if name and MENTION_RE.fullmatch(f"@{name}") else member.user.email.split("@")[0]


def _handles(member: Membership, first_names: dict[str, int]) -> set[str]:
    email = member.user.email.lower()
    handles = {email, email.split("@")[0], member_handle(member).lower()}
    if getattr(member.user, "handle", ""):
        handles.add(member.user.handle.lower())
    first = member.user.full_name.lower().split()[:1]
    if first and first_names[first[0]] == 1:
        handles.add(first[0])  # @alex, when only one member is called Alex
    return handles


def mentioned_members(organization_id: int, text: str) -> list[Membership]:
    """Members named in a note: @handle, @alex (a first name no one else has), @alex.martin
    (the name), @agent (the address's first part) or @agent@acme.test."""
    names = {name.lower().rstrip(".") for name in MENTION_RE.findall(text)}
    if not names:
        return []
    members = list(
        Membership.objects.filter(
            organization_id=organization_id, user__is_active=True
        ).select_related("user", "organization")
    )
    first_names: dict[str, int] = {}
    for m in members:
        for first in m.user.full_name.lower().split()[:1]:
            first_names[first] = first_names.get(first, 0) + 1
    return [m for m in members if _handles(m, first_names) & names]


def audience(
    *,
    event: str,
    tickets: list,
    mentioned: dict[int, set[int]] | None = None,
    exclude: set[int] = frozenset(),
) -> dict[int, list[tuple[Membership, Reach]]]:
    """Who hears of an event on each ticket, and how: each active member whose matrix reaches
    them (mine: assigned to them or mentioned; my queues: in the ticket's queue; all), who
    may see the ticket (agent groups). Five queries for any number of tickets."""
    if not tickets:
        return {}
    mentioned = mentioned or {}
    cells = EventSettings(event=event, organization_ids={t.organization_id for t in tickets})
    members = Membership.objects.filter(
        organization_id__in={t.organization_id for t in tickets}, user__is_active=True
    ).select_related("user", "organization")
    if not cells.may_reach_beyond_mine():
        named = {t.assignee_id for t in tickets} | {pk for pks in mentioned.values() for pk in pks}
        members = members.filter(pk__in=named)
    by_organization: dict[int, list[Membership]] = {}
    for member in members:
        by_organization.setdefault(member.organization_id, []).append(member)
    queue_ids = {t.queue_id for t in tickets if t.queue_id}
    in_queue = set(
        QueueMember.objects.filter(queue_id__in=queue_ids).values_list("queue_id", "membership_id")
    )
    found: dict[int, list[tuple[Membership, Reach]]] = {}
    for ticket in tickets:
        for member in by_organization.get(ticket.organization_id, []):
            if member.pk in exclude:
                continue
            queued = (ticket.queue_id, member.pk) in in_queue
            assigned = ticket.assignee_id == member.pk
            # Agent groups: only someone who may open the ticket hears of it.
            if visibility.restricted(member) and not (queued or assigned):
                continue
            if assigned or member.pk in mentioned.get(ticket.pk, ()):
                relation = Scope.MINE
            else:
                relation = Scope.QUEUES if queued else Scope.ALL
            reach = cells.reach(member, relation)
            if reach.in_app or reach.email:
                found.setdefault(ticket.pk, []).append((member, reach))
    return found


def ticket_notify(
    *,
    event: str,
    ticket,
    kind: str,
    title: str,
    body: str = "",
    actor: Membership | None = None,
    mentioned: list[Membership] = (),
    mentioned_kind: str = "",
    mentioned_title: str = "",
) -> list[Notification]:
    """Tell everyone an event on a ticket reaches, per their matrix; the actor hears nothing
    of their own doing. The members mentioned get their own kind and title."""
    named = {m.pk for m in mentioned}
    reached = audience(
        event=event,
        tickets=[ticket],
        mentioned={ticket.pk: named},
        exclude={actor.pk} if actor is not None else set(),
    ).get(ticket.pk, [])
    url = ticket_url(ticket)
    return notify_all(
        [
            Notice(
                recipient=member,
                kind=mentioned_kind if member.pk in named and mentioned_kind else kind,
                title=mentioned_title if member.pk in named and mentioned_title else title,
                body=body,
                url=url,
                topic=ticket.reference,
                in_app=reach.in_app,
                email=reach.email,
                critical=reach.critical,
            )
            for member, reach in reached
        ]
    )


def tickets_notify(
    *, event: str, kind: str, items: list[tuple], actor: Membership | None = None
) -> list[Notification]:
    """ticket_notify for many tickets at once: `items` are (ticket, title, body)."""
    if not items:
        return []
    reached = audience(
        event=event,
        tickets=[ticket for ticket, _, _ in items],
        exclude={actor.pk} if actor is not None else set(),
    )
    urls = {ticket.pk: ticket_url(ticket) for ticket, _, _ in items if ticket.pk in reached}
    return notify_all(
        [
            Notice(
                recipient=member,
                kind=kind,
                title=title,
                body=body,
                url=urls[ticket.pk],
                topic=ticket.reference,
                in_app=reach.in_app,
                email=reach.email,
                critical=reach.critical,
            )
            for ticket, title, body in items
            for member, reach in reached.get(ticket.pk, [])
        ]
    )


def notify_all(notices: list[Notice], *, now: datetime | None = None) -> list[Notification]:
    """Write every notice under its recipient's bell in one insert; its mail waits for the
    delay (TISKET_NOTIFY_EMAIL_DELAY) or the member's digest. With no delay, what is due goes
    at once, in this transaction's outbox."""
    if not notices:
        return []
    now = now or timezone.now()
    delay = timedelta(seconds=settings.TISKET_NOTIFY_EMAIL_DELAY)
    rows = []
    for n in notices:
        status = Notification.Email.NONE
        if n.email:
            digest = n.recipient.email_digest and not n.critical
            status = Notification.Email.DIGEST if digest else Notification.Email.PENDING
        rows.append(
            Notification(
                organization_id=n.recipient.organization_id,
                recipient=n.recipient,
                kind=n.kind,
                title=n.title[:300],
                body=n.body,
                url=n.url,
                topic=n.topic[:40],
                in_app=n.in_app,
                email_status=status,
                email_due_at=now + delay if status == Notification.Email.PENDING else None,
                critical=n.critical,
                created_at=now,
            )
        )
    notifications = Notification.objects.bulk_create(rows)
    if not delay:
        due = [n.pk for n in notifications if n.email_status == Notification.Email.PENDING]
        if due:
            notification_mails_send(now=now, ids=due)
    return notifications
