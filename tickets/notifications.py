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


def mentioned_members(organization_id: int, text: str) -> list[Membership]:
    """Members named in a note as @handle, @alex (the address's first part) or @alex@acme.test."""
    names = {name.lower().rstrip(".") for name in MENTION_RE.findall(text)}
    if not names:
        return []
    members = Membership.objects.filter(
        organization_id=organization_id, user__is_active=True
    ).select_related("user", "organization")
    return [
        m
        for m in members
        if m.user.email.lower() in names
        or m.user.email.lower().split("@")[0] in names
        or (m.user.handle and m.user.handle in names)
    ]


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
        MemberMail(membership=n.recipient, subject=n.title, text=n.body or n.title, url=n.url)
        for n in notices
    )
    return notifications
