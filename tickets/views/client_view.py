"""View as client, the member's side: start a session from a conversation, see the page, stop."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from tickets import client_views
from tickets.client_conversation import client_page_as_seen
from tickets.client_pages import csrf_protect_no_referrer, private_page
from tickets.views.conversation.common import thread_or_404
from tisket.errors import TisketError
from tisket.models import Role
from tisket.views import org_view


@org_view(Role.AGENT)
@require_POST
def client_view_start(request: HttpRequest, thread: str) -> HttpResponse:
    found = thread_or_404(request, thread)
    try:
        view = client_views.client_view_start(
            member=request.membership, thread=found, reason=request.POST.get("reason", "")
        )
    except TisketError as error:
        messages.error(request, str(error))
        return redirect(
            "tickets:thread", org_slug=request.organization.slug, thread=found.reference
        )
    return redirect("tickets:client-view", org_slug=request.organization.slug, client_view=view.pk)


@org_view(Role.AGENT)
@require_safe
def client_view_page(request: HttpRequest, client_view: int) -> HttpResponse:
    try:
        view = client_views.client_view_open(member=request.membership, pk=client_view)
    except client_views.ClientViewGoneError as error:
        context = {"heading": "This session has ended", "text": str(error), "howto": False}
        return render(request, "client/notice.html", context, status=410)
    return private_page(client_page_as_seen(request, view=view))


@csrf_exempt
@org_view(Role.AGENT)
@require_POST
@csrf_protect_no_referrer
def client_view_act(request: HttpRequest, client_view: int) -> HttpResponse:
    """Reply or close as the client: each time with its own confirmation box ticked."""
    action = request.POST.get("action", "")
    try:
        client_views.client_view_act(
            member=request.membership,
            pk=client_view,
            action=action,
            confirmed=request.POST.get("confirm") == "on",
            body=request.POST.get("body", ""),
        )
    except client_views.ClientViewGoneError as error:
        context = {"heading": "This session has ended", "text": str(error), "howto": False}
        return render(request, "client/notice.html", context, status=410)
    except TisketError as error:
        messages.error(request, str(error))
    else:
        done = "Sent as the client." if action == "reply" else "Marked resolved for the client."
        messages.success(request, done)
    return redirect(
        "tickets:client-view", org_slug=request.organization.slug, client_view=client_view
    )


@csrf_exempt
@org_view(Role.AGENT)
@require_POST
@csrf_protect_no_referrer
def client_view_end(request: HttpRequest, client_view: int) -> HttpResponse:
    view = client_views.client_view_end(member=request.membership, pk=client_view)
    messages.success(request, "You stopped viewing as the client.")
    return redirect(
        "tickets:thread", org_slug=request.organization.slug, thread=view.thread.reference
    )
