"""Telling members what needs them: a notification under the bell, and a mail if they wish."""

from dataclasses import dataclass

from threads.outbound import MemberMail, notification_mails
from tisket.models import Membership, Notification


@dataclass(frozen=True)
class Notice:
    recipient: Membership
    kind: str
    title: str
    body: str = ""
    url: str = ""


def notify_all(notices: list[Notice]) -> list[Notification]:
    """Write every notice under its recipient's bell and queue the mails, in two inserts."""
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
