"""Mail from the installation's address to people, not to conversations: members'
notifications and invitations.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from threads.models import OutboundMail, Suppression
from threads.outbound.compose import new_message_id
from threads.outbound.outbox import PREFRAMED, outbox_enqueue, outbox_enqueue_many
from threads.outbound.tracking import address_suppressed
from tisket.lib.addresses import address_normalize
from tisket.lib.unsubscribe import (
    NOTIFICATIONS,
    unsubscribe_footer,
    unsubscribe_headers,
    unsubscribe_url,
)
from tisket.models import Membership
from tisket.unsubscriptions import unsubscribed_pairs


def _installation_mail(
    *,
    organization_id: int,
    to: str,
    subject: str,
    text: str,
    mail_type: str,
    category: str = "",
) -> OutboundMail:
    """An (unsaved) automatic mail from the installation's address, never to be answered.

    With a category, it is optional mail: it ends with an unsubscribe link and
    carries RFC 8058's headers; without one, it is critical and carries neither."""
    headers = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}
    if category:
        url = unsubscribe_url(organization_id=organization_id, address=to, category=category)
        headers |= unsubscribe_headers(url)
        text += unsubscribe_footer(url=url, category=category)[0]
    return OutboundMail(
        organization_id=organization_id,
        inbox=None,
        kind=OutboundMail.Kind.NOTIFICATION,
        mail_type=mail_type,
        to=[to],
        subject=subject[:998],
        text=text,
        headers=headers,
        message_id_header=new_message_id(),
    )


@dataclass(frozen=True)
class MemberMail:
    """A mail to a member about something under their bell."""

    membership: Membership
    subject: str
    text: str
    url: str = ""
    # Critical mail (an SLA breach to its assignee) is never unsubscribed from.
    critical: bool = False
    # Its frame and wording (tisket.branding.types): a notification, or a digest.
    mail_type: str = "notification"


def notification_mails(mails: Iterable[MemberMail]) -> list[OutboundMail]:
    """Queue mails to members who want them, in one insert and one hand-over to the worker.

    Sent from the installation's address (DEFAULT_FROM_EMAIL), not an inbox:
    it is our mail to our own people, never part of a conversation. The caller
    chose who wants it; inactive users and suppressed addresses get none.
    """
    wanted = [m for m in mails if m.membership.user.is_active]
    # Each mail is its organization's: held back only where that organization's mail bounced.
    suppressed = set(
        Suppression.objects.filter(
            organization_id__in={m.membership.organization_id for m in wanted},
            address__in={address_normalize(m.membership.user.email) for m in wanted},
            until__gt=timezone.now(),
        ).values_list("organization_id", "address")
    )
    unsubscribed = unsubscribed_pairs(
        pairs=[(m.membership.organization_id, m.membership.user.email) for m in wanted],
        category=NOTIFICATIONS,
    )
    site = settings.SITE_URL.rstrip("/")
    rows = []
    for mail in wanted:
        who = (mail.membership.organization_id, address_normalize(mail.membership.user.email))
        if who in suppressed:
            continue
        if not mail.critical and who in unsubscribed:
            continue
        link = f"{site}{mail.url}" if mail.url.startswith("/") else mail.url
        rows.append(
            _installation_mail(
                organization_id=mail.membership.organization_id,
                to=mail.membership.user.email,
                subject=mail.subject,
                text=f"{mail.text}\n\n{link}".strip() if link else mail.text,
                mail_type=mail.mail_type,
                category="" if mail.critical else NOTIFICATIONS,
            )
        )
    if not rows:
        return []
    created = OutboundMail.objects.bulk_create(rows)
    ids = [row.pk for row in created]
    transaction.on_commit(lambda: outbox_enqueue_many(outbound_ids=ids))
    return created


def address_mail(
    *, organization_id: int, to: str, subject: str, text: str, mail_type: str = ""
) -> OutboundMail | None:
    """Queue one mail from the installation's address to someone not yet a member (an
    invitation, a portal sign-in link); None when the organization's mail to the address
    bounced lately."""
    to = address_normalize(to)
    if address_suppressed(organization_id=organization_id, address=to):
        return None
    outbound = _installation_mail(
        organization_id=organization_id, to=to, subject=subject, text=text, mail_type=mail_type
    )
    outbound.save()
    transaction.on_commit(lambda: outbox_enqueue(outbound_id=outbound.pk))
    return outbound


def preframed_mail_queue(
    *, organization_id: int, to: str, subject: str, text: str, html: str
) -> OutboundMail:
    """Queue a mail built whole already (a test of the branding an admin is editing), sent
    as it is from the installation's address."""
    outbound = _installation_mail(
        organization_id=organization_id, to=to, subject=subject, text=text, mail_type=PREFRAMED
    )
    outbound.html = html
    outbound.save()
    transaction.on_commit(lambda: outbox_enqueue(outbound_id=outbound.pk))
    return outbound
