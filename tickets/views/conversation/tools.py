"""The ticket tools of the side panel: merge, link a conversation, group under an incident and
out of it, override the SLA deadline. Each view parses, looks up, calls one service, goes back."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from threads.models import Thread
from tickets import services, workflows
from tickets.models import Ticket
from tickets.sla.override import ticket_sla_override
from tickets.views.conversation.common import thread_or_404, ticket_links, ticket_or_404
from tisket.errors import ConflictError, TisketError
from tisket.models import Role
from tisket.views import org_view


def _page(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    """Back to the ticket's conversation (or the ticket alone), where the change shows."""
    slug = request.organization.slug
    links = ticket_links(ticket)
    if links:
        url = reverse(
            "tickets:thread", kwargs={"org_slug": slug, "thread": links[0].thread.reference}
        )
    else:
        url = reverse("tickets:ticket", kwargs={"org_slug": slug, "ticket": ticket.reference})
    return redirect(url)


def _named_ticket(request: HttpRequest, reference: str) -> Ticket:
    """A ticket the form names: a clear form error (not a 404 page) when it is not there."""
    reference = reference.strip().upper()
    if not reference:
        raise TisketError("Give a ticket reference, e.g. TKT-ACME-012.")
    try:
        return ticket_or_404(request, reference)
    except Http404:
        raise TisketError(f"There is no ticket {reference}.") from None


def _named_thread(request: HttpRequest, reference: str) -> Thread:
    reference = reference.strip().upper()
    if not reference:
        raise TisketError("Give a conversation reference, e.g. THD-ACME-012.")
    try:
        return thread_or_404(request, reference)
    except Http404:
        raise TisketError(f"There is no conversation {reference}.") from None


def _done(request: HttpRequest, ticket: Ticket, action, success: str) -> HttpResponse:
    try:
        shown = action() or ticket
    except TisketError as exc:
        flash.error(request, str(exc))
        return _page(request, ticket)
    flash.success(request, success)
    return _page(request, shown)


@require_POST
@org_view(min_role=Role.AGENT)
def ticket_merge(request: HttpRequest, ticket: str) -> HttpResponse:
    """Merge this ticket (and its conversations) into another; this one closes."""
    found = ticket_or_404(request, ticket)

    def merge():
        target = _named_ticket(request, request.POST.get("into", ""))
        return workflows.ticket_merge(source=found, target=target, actor=request.membership)

    return _done(request, found, merge, f"{found.reference} was merged.")


@require_POST
@org_view(min_role=Role.AGENT)
def ticket_thread_link(request: HttpRequest, ticket: str) -> HttpResponse:
    """Link another conversation to this ticket."""
    found = ticket_or_404(request, ticket)

    def link():
        thread = _named_thread(request, request.POST.get("thread", ""))
        try:
            services.ticket_thread_link(ticket=found, thread=thread, actor=request.membership)
        except ConflictError as exc:
            raise ConflictError(
                f"{exc} To bring it here, merge that ticket into {found.reference}."
            ) from exc

    return _done(request, found, link, "Conversation linked.")


@require_POST
@org_view(min_role=Role.AGENT)
def ticket_incident_join(request: HttpRequest, ticket: str) -> HttpResponse:
    """Group this ticket under an incident: it follows the incident's clock and resolution."""
    found = ticket_or_404(request, ticket)

    def join():
        incident = _named_ticket(request, request.POST.get("incident", ""))
        workflows.incident_link(parent=incident, child=found, actor=request.membership)

    return _done(request, found, join, f"{found.reference} is part of the incident now.")


@require_POST
@org_view(min_role=Role.AGENT)
def ticket_incident_leave(request: HttpRequest, ticket: str) -> HttpResponse:
    """Take this ticket out of its incident: its own clock runs again."""
    found = ticket_or_404(request, ticket)

    def leave():
        if found.parent_id is None:
            raise TisketError(f"{found.reference} is part of no incident.")
        workflows.incident_unlink(parent=found.parent, child=found, actor=request.membership)

    return _done(request, found, leave, f"{found.reference} left its incident.")


def _deadline(value: str, zone: str) -> datetime | None:
    """The form's date and time, in the organization's time zone."""
    if not value.strip():
        return None
    parsed = parse_datetime(value.strip())
    if parsed is None:
        raise TisketError("Give the new deadline as a date and time.")
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, ZoneInfo(zone))
    return parsed


@require_POST
@org_view(min_role=Role.AGENT)
def ticket_sla_override_view(request: HttpRequest, ticket: str) -> HttpResponse:
    """A supervisor's new deadline, with the reason; "clear" returns to the policy's."""
    # A ticket the member may not see is not there (404), whatever their role.
    found = ticket_or_404(request, ticket)
    if not request.membership.has_role(Role.SUPERVISOR):
        raise PermissionDenied("Only supervisors and above override an SLA deadline.")

    def override():
        due_at = (
            None
            if "clear" in request.POST
            else _deadline(request.POST.get("due_at", ""), request.organization.timezone)
        )
        if due_at is None and "clear" not in request.POST:
            raise TisketError("Give the new deadline.")
        ticket_sla_override(
            ticket=found,
            due_at=due_at,
            reason=request.POST.get("reason", ""),
            actor=request.membership,
        )

    return _done(request, found, override, "SLA deadline changed.")
