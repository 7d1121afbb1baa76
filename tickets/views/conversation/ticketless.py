"""A conversation without a ticket (one from before every conversation had one, or one taken off
its ticket): close it without writing, open its ticket, or link it to a ticket it belongs to."""

from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from threads.models import Thread
from tickets import selectors, services
from tickets.conversations import conversation_ticket_open, queues_for_inboxes
from tickets.models import Ticket
from tickets.views.conversation.common import thread_or_404, ticket_or_404
from tisket.errors import ConflictError, TisketError
from tisket.models import Role
from tisket.views import org_view


def _back(request: HttpRequest, thread: Thread) -> HttpResponse:
    return redirect("tickets:thread", org_slug=request.organization.slug, thread=thread.reference)


@require_POST
@org_view(min_role=Role.AGENT)
def thread_status(request: HttpRequest, thread: str) -> HttpResponse:
    """Set the status of a conversation (its ticket's, when it has one), without writing."""
    found = thread_or_404(request, thread)
    ticket = selectors.ticket_for_thread(organization=request.organization, thread_id=found.pk)
    status = request.POST.get("status", "")
    allowed = Ticket.Status.values if ticket is not None else Thread.Status.values
    try:
        if status not in allowed:
            raise TisketError(f"Unknown status “{status}”.")
        services.conversation_set_status(
            thread=found, ticket=ticket, status=status, actor=request.membership
        )
    except TisketError as exc:
        flash.error(request, str(exc))
    else:
        flash.success(request, "Status changed.")
    return _back(request, found)


@require_POST
@org_view(min_role=Role.AGENT)
def thread_ticket_open(request: HttpRequest, thread: str) -> HttpResponse:
    """Open the ticket of a conversation that has none, in the queue its inbox feeds."""
    found = thread_or_404(request, thread)
    if selectors.ticket_for_thread(organization=request.organization, thread_id=found.pk):
        flash.error(request, str(ConflictError(f"{found.reference} has a ticket already.")))
        return _back(request, found)
    queue = queues_for_inboxes(organization=request.organization, inbox_ids={found.inbox_id})[
        found.inbox_id
    ]
    ticket = conversation_ticket_open(
        thread=found, queue=queue, actor=request.membership, description="", via=Ticket.Via.WEB
    )
    flash.success(request, f"Ticket {ticket.reference} opened.")
    return _back(request, found)


@require_http_methods(["GET", "POST"])
@org_view(min_role=Role.AGENT)
def thread_ticket_link(request: HttpRequest, thread: str) -> HttpResponse:
    """Link a conversation without a ticket to one of the organization's tickets. GET: the
    tickets the picker offers for what was typed (htmx); POST: the link, on the ticket's
    timeline."""
    found = thread_or_404(request, thread)
    if request.method == "GET":
        picks = selectors.tickets_to_link(
            organization=request.organization,
            viewer=request.membership,
            text=request.GET.get("ticket", "")[:200],
        )
        return render(request, "conversation/_ticket_picks.html", {"thread": found, "picks": picks})
    reference = (request.POST.get("pick") or request.POST.get("ticket", "")).strip().upper()
    try:
        if not reference:
            raise TisketError("Give a ticket reference, e.g. TKT-ACME-012, or pick one.")
        try:
            ticket = ticket_or_404(request, reference)
        except Http404:
            raise TisketError(f"There is no ticket {reference}.") from None
        if ticket.merged_into_id:
            raise TisketError(
                f"{ticket.reference} was merged into {ticket.merged_into.reference}: link that one."
            )
        services.ticket_thread_link(ticket=ticket, thread=found, actor=request.membership)
    except TisketError as exc:
        flash.error(request, str(exc))
    else:
        flash.success(request, f"Conversation linked to {ticket.reference}.")
    return _back(request, found)
