"""The desk tells a conversation's clients where it stands: resolved, waiting on them, reopened.

One stored outbound Message says what was sent; each recipient gets a mail of
their own (an OutboundMail row each, through the outbox), since each carries
the recipient's own unsubscribe link (RFC 8058) and conversation link.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from inboxes.domains import inbox_sender
from inboxes.selectors import organization_addresses
from threads.client_access import client_link_appended
from threads.models import Message, OutboundMail, Suppression, Thread
from threads.outbound.compose import (
    _client_recipients,
    _threading_headers,
    body_html,
    new_message_id,
    thread_subject,
)
from threads.outbound.outbox import outbox_enqueue_many
from threads.search import messages_search_append
from threads.services import message_id_key, thread_message_added
from tisket.lib.addresses import address_normalize
from tisket.lib.unsubscribe import unsubscribe_footer, unsubscribe_headers, unsubscribe_url
from tisket.models import Membership
from tisket.unsubscriptions import unsubscribed_pairs


@dataclass(frozen=True)
class StatusMail:
    """What a status mail says (Markdown), and what goes to those who unsubscribed."""

    reason: str  # "resolved", "waiting", "reopened": the stored message's automated reason
    text: str
    category: str
    # In the mail only, after the text (the rating links): the stored message, which
    # members read, says what it was instead, so that no one clicks it for the client.
    mail_only: str = ""
    mail_only_stored_as: str = ""
    # Sent instead, without unsubscribe link, to a recipient who wants no more of the
    # category: the agent's own words are a reply, and replies are never held back.
    text_when_unsubscribed: str = ""


def status_recipients(*, thread: Thread, everyone: bool) -> list[str]:
    """The requester, or every client participant of the conversation."""
    own = organization_addresses(organization_id=thread.organization_id)
    clients = _client_recipients(thread, exclude=own)
    if everyone:
        return clients
    requester = address_normalize(thread.client_email or "")
    return [c for c in clients if address_normalize(c) == requester][:1] or clients[:1]


@transaction.atomic
def status_mail_send(
    *, thread: Thread, mail: StatusMail, recipients: list[str], author: Membership | None
) -> list[OutboundMail]:
    """Store the status mail on the conversation and queue one mail per recipient."""
    organization_id = thread.organization_id
    unsubscribed = {
        address
        for _, address in unsubscribed_pairs(
            pairs=[(organization_id, a) for a in recipients], category=mail.category
        )
    }
    # Bounced or complained lately: no automatic mail for a while.
    bouncing = set(
        Suppression.objects.filter(
            organization_id=organization_id,
            address__in={address_normalize(a) for a in recipients},
            until__gt=timezone.now(),
        ).values_list("address", flat=True)
    )
    plan = []
    for address in recipients:
        if address_normalize(address) in bouncing:
            continue
        if address_normalize(address) in unsubscribed:
            if mail.text_when_unsubscribed:
                plan.append((address, mail.text_when_unsubscribed, False))
        else:
            extra = f"\n\n{mail.mail_only}" if mail.mail_only else ""
            plan.append((address, mail.text + extra, True))
    if not plan:
        return []
    inbox = thread.inbox
    sender = inbox_sender(inbox)
    headers = _threading_headers(thread, sender.reply_base) | {
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
    }
    subject = thread_subject(thread)
    message_id = new_message_id()
    # What was sent: the status mail, or to the unsubscribed alone, the agent's words only.
    if any(optional for _, _, optional in plan):
        stored = mail.text
        stored += f"\n\n{mail.mail_only_stored_as}" if mail.mail_only else ""
    else:
        stored = mail.text_when_unsubscribed
    message = Message.objects.create(
        organization_id=organization_id,
        thread=thread,
        direction=Message.Direction.OUTBOUND,
        from_email=sender.address,
        from_name=inbox.sender_name,
        to=[{"name": "", "email": address} for address, _, _ in plan],
        subject=subject,
        html=body_html(stored),
        text=stored,
        visible_text=stored,
        message_id=message_id,
        in_reply_to=headers.get("In-Reply-To", ""),
        references=headers.get("References", ""),
        dedupe_key=message_id_key(message_id),
        author=author,
        automated_reason=f"status: {mail.reason}",
    )
    messages_search_append([message])
    rows = []
    for index, (address, text, optional) in enumerate(plan):
        html = body_html(text)
        text, html = client_link_appended(thread=thread, email=address, text=text, html=html)
        mail_headers = dict(headers)
        if optional:
            url = unsubscribe_url(
                organization_id=organization_id, address=address, category=mail.category
            )
            # The HTML part's footer carries the link (tisket.branding.frame).
            text += unsubscribe_footer(url=url, category=mail.category)[0]
            mail_headers |= unsubscribe_headers(url)
        rows.append(
            OutboundMail(
                organization_id=organization_id,
                inbox=inbox,
                thread=thread,
                message=message,
                kind=OutboundMail.Kind.STATUS,
                mail_type=f"status_{mail.reason}",
                to=[address],
                subject=subject,
                text=text,
                html=html,
                headers=mail_headers,
                # The first recipient's mail bears the stored message's Message-ID.
                message_id_header=message_id if index == 0 else new_message_id(),
            )
        )
    created = OutboundMail.objects.bulk_create(rows)
    ids = [row.pk for row in created]
    transaction.on_commit(lambda: outbox_enqueue_many(outbound_ids=ids))
    thread_message_added(thread=thread, reopen=False)
    return created
