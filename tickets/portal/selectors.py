"""What the client portal reads: a client's conversations, with status, activity and unread."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.functions import Coalesce

from inboxes.models import Inbox
from threads.models import ClientSession, Message, Thread
from threads.portal import portal_threads
from tickets.client_conversation import STATUS_LABELS, conversation_state
from tisket.models import Organization


@dataclass(frozen=True)
class PortalRow:
    """One of a client's conversations in their list."""

    reference: str
    subject: str
    state: str
    state_label: str
    last_activity: datetime
    unread: bool


def portal_conversations(*, session: ClientSession) -> QuerySet[Thread]:
    """The client's conversations, latest activity first, each with its ticket and unread flag.

    Unread: a reply of the desk (not an automatic mail) that no client has opened yet.
    """
    unread = Message.objects.filter(
        thread=OuterRef("pk"),
        direction=Message.Direction.OUTBOUND,
        automated_reason="",
        client_read_at__isnull=True,
    )
    return (
        portal_threads(session=session)
        .select_related("ticket_link__ticket")
        .only(
            "reference",
            "subject",
            "status",
            "updated_at",
            "last_message_at",
            "ticket_link__ticket__status",
        )
        .annotate(unread=Exists(unread), last_activity=Coalesce("last_message_at", "updated_at"))
        .order_by("-last_activity", "-id")
    )


def portal_rows(threads) -> list[PortalRow]:
    rows = []
    for thread in threads:
        link = getattr(thread, "ticket_link", None)
        state = conversation_state(thread, link.ticket if link is not None else None)
        rows.append(
            PortalRow(
                reference=thread.reference,
                subject=thread.subject,
                state=state,
                state_label=STATUS_LABELS.get(state, state),
                last_activity=thread.last_activity,
                unread=thread.unread,
            )
        )
    return rows


@dataclass(frozen=True)
class PortalInbox:
    """An inbox a client may write to from the portal, named for the client."""

    inbox: Inbox
    label: str

    @property
    def pk(self) -> int:
        return self.inbox.pk


def portal_inboxes(*, organization: Organization) -> list[PortalInbox]:
    """The active inboxes the portal's new requests may go to; the first is the default
    (the organization's default inbox, else the oldest)."""
    inboxes = list(
        Inbox.objects.filter(organization=organization, is_active=True)
        .select_related("organization")
        .order_by("-is_default", "id")
    )
    labels = [inbox.display_name or inbox.name.replace("-", " ").capitalize() for inbox in inboxes]
    # Inboxes that show one display name are told apart by their own names.
    return [
        PortalInbox(
            inbox=inbox,
            label=label if labels.count(label) == 1 else inbox.name.replace("-", " ").capitalize(),
        )
        for inbox, label in zip(inboxes, labels, strict=True)
    ]
