"""Telling members what needs them: a notification under the bell, and a mail if they wish."""

import re
from dataclasses import dataclass

from django.urls import reverse

from threads.outbound import MemberMail, notification_mails
from tisket.models import Membership, Notification


@dataclass(frozen=True)
class Notice:
    recipient: Membership
    kind: str
    title: str
    body: str = ""
    url: str = ""
    critical: bool = False  # mailed even to a member who unsubscribed from notifications


MENTION_RE = re.compile(r"(?<![\w.])@([\w.+-]+(?:@[\w-]+(?:\.[\w-]+)+)?)")


def ticket_url(ticket) -> str:
    """Where a notice about a ticket points, in the agent UI."""
    return reverse(
        "tickets:ticket", kwargs={"org_slug": ticket.organization.slug, "ticket": ticket.reference}
    )


def conversation_reference(ticket) -> str:
    """How a person knows a ticket: its first conversation's reference, the one its client has
    in their mail; the ticket's own when it has no conversation."""
    link = ticket.thread_links.select_related("thread").order_by("created_at", "id").first()
    return link.thread.reference if link is not None else ticket.reference


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


def notify_all(notices: list[Notice]) -> list[Notification]:
    """Write every notice under its recipient's bell and queue the mails, in two inserts."""
    if not notices:
        return []
    notifications = Notification.objects.bulk_create(
        [
            Notification(
                organization_id=n.recipient.organization_id,
                recipient=n.recipient,
                kind=n.kind,
                title=n.title[:300],
                body=n.body,
                url=n.url,
            )
            for n in notices
        ]
    )
    notification_mails(
        MemberMail(
            membership=n.recipient,
            subject=n.title,
            text=n.body or n.title,
            url=n.url,
            critical=n.critical,
        )
        for n in notices
    )
    return notifications
