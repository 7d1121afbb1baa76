"""The desk's side of clients' links: withdraw the links to a conversation sent so far."""

from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from threads.client_access import client_links_revoke
from tickets.views.conversation.common import thread_or_404
from tisket.models import Role
from tisket.views import org_view


@org_view(Role.AGENT)
@require_POST
def client_link_revoke(request: HttpRequest, thread: str) -> HttpResponse:
    found = thread_or_404(request, thread)
    client_links_revoke(thread=found, actor=request.membership)
    flash.success(
        request,
        "The links to this conversation sent to the client so far no longer open it. "
        "Our next mail to the client carries a new one.",
    )
    return redirect("tickets:thread", org_slug=request.organization.slug, thread=found.reference)
