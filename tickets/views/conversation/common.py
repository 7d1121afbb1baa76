"""What every part of the conversation pages shares: its constants and look-ups."""

import re

from django.http import HttpRequest

from sla.models import Metric
from threads import selectors as thread_selectors
from threads.models import Thread
from tickets import selectors, visibility
from tickets.models import Ticket, TicketThread
from tisket.lib.addresses import address_normalize
from tisket.lib.html import REMOTE_IMAGE_PREFIX
from tisket.models import Membership, Role

# What "Send and set status" offers, in the order an agent reaches for them.
TICKET_NEXT_STATUSES = [
    Ticket.Status.WAITING_ON_CUSTOMER,
    Ticket.Status.RESOLVED,
    Ticket.Status.IN_PROGRESS,
    Ticket.Status.OPEN,
    Ticket.Status.CLOSED,
]
THREAD_NEXT_STATUSES = [
    Thread.Status.RESOLVED,
    Thread.Status.IN_PROGRESS,
    Thread.Status.OPEN,
    Thread.Status.CLOSED,
]
SLA_METRIC_LABELS = dict(Metric.choices)
ADDRESS_SPLIT = re.compile(r"[\s,;]+")
# A blocked remote image keeps its place as a light grey box; the CSP allows data: images.
BLOCKED_IMAGE = (
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='16' height='16'%3E"
    "%3Crect width='16' height='16' fill='%23eef0f4'/%3E%3C/svg%3E"
)
REMOTE_SRC = re.compile(r'src="' + re.escape(REMOTE_IMAGE_PREFIX) + r'[^"]*"')
CID_SRC = re.compile(r'src="cid:([^"]*)"', re.IGNORECASE)
INLINE_IMAGE_TYPES = {"image/png", "image/gif", "image/jpeg", "image/webp", "image/bmp"}
INLINE_IMAGE_MAX_BYTES = 5 * 1024 * 1024
INLINE_IMAGES_MAX_BYTES = 15 * 1024 * 1024  # per message body
BLOCK_TAG = re.compile(r"<(?:p|div|li|tr|h[1-6]|blockquote|pre)\b", re.IGNORECASE)
LINE_BREAK = re.compile(r"<(?:p|div|li|tr|h[1-6]|blockquote|pre|br)\b[^>]*>", re.IGNORECASE)
ANY_TAG = re.compile(r"<[^>]*>")
IMAGE_HEIGHT = re.compile(r'<img\b(?:[^>]*?\bheight="(\d{1,4})")?', re.IGNORECASE)


# --- Look-ups -----------------------------------------------------------------------------------


def thread_or_404(request: HttpRequest, reference: str) -> Thread:
    return thread_selectors.thread_get(
        organization=request.organization,
        reference=reference,
        scope=visibility.thread_scope(request.membership),
    )


def ticket_or_404(request: HttpRequest, reference: str) -> Ticket:
    ticket = selectors.ticket_get(
        organization=request.organization, reference=reference, viewer=request.membership
    )
    ticket.organization = request.organization
    return ticket


def assignees_list(request: HttpRequest) -> list[Membership]:
    members = Membership.objects.filter(
        organization=request.organization,
        role__in=[Role.AGENT, Role.SUPERVISOR, Role.ADMIN, Role.OWNER],
        user__is_active=True,
    ).select_related("user")
    return sorted(members, key=lambda m: m.user.get_full_name().lower())


def ticket_links(ticket: Ticket) -> list[TicketThread]:
    """The ticket's conversations, first linked first."""
    return list(ticket.thread_links.select_related("thread").order_by("created_at", "id"))


def client_recipients(request: HttpRequest, thread: Thread) -> list[str]:
    """Who a reply goes to: the thread's participants but the organization's own people."""
    members = {
        address_normalize(email)
        for email in Membership.objects.filter(organization=request.organization).values_list(
            "user__email", flat=True
        )
    }
    return [p.email for p in thread.participants.all() if address_normalize(p.email) not in members]


def addresses_parse(value: str) -> list[str]:
    return [address_normalize(a) for a in ADDRESS_SPLIT.split(value or "") if a.strip()]


def live_version(*, thread: Thread, ticket_status: str, last_event_id: int | None) -> str:
    """What an open page compares to know whether anything changed: a client's or agent's
    message (count and time), a status, any ticket event (notes, assignment, fields)."""
    return (
        f'"{thread.message_count}.{thread.status}.{thread.updated_at.timestamp():.6f}'
        f'.{ticket_status}.{last_event_id or 0}"'
    )
