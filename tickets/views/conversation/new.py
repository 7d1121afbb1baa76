"""A new conversation: an agent writes to a client first."""

from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from inboxes.selectors import inbox_default, inboxes_list
from tickets.conversations import conversation_start
from tickets.views.conversation.common import (
    addresses_parse,
)
from tisket.errors import TisketError
from tisket.models import Role
from tisket.views import org_view

# --- A new conversation -------------------------------------------------------------------------


@org_view(min_role=Role.AGENT)
def thread_new(request: HttpRequest) -> HttpResponse:
    """An agent writes to a client first, from one of the organization's inboxes."""
    inboxes = list(
        inboxes_list(organization=request.organization)
        .filter(is_active=True)
        .order_by("created_at", "id")
    )
    default = inbox_default(organization=request.organization)
    form = {"inbox": str(default.pk) if default else "", "to": "", "cc": "", "subject": ""}
    error = ""
    if request.method == "POST":
        form = {name: request.POST.get(name, "") for name in ("inbox", "to", "cc", "subject")}
        form["body"] = request.POST.get("body", "")
        inbox = next((i for i in inboxes if str(i.pk) == form["inbox"]), None)
        try:
            if inbox is None:
                raise TisketError("Choose the inbox to send from.")
            thread, _, _, _ = conversation_start(
                inbox=inbox,
                author=request.membership,
                to=addresses_parse(form["to"]),
                cc=addresses_parse(form["cc"]),
                subject=form["subject"],
                body=form["body"],
            )
        except TisketError as exc:
            error = str(exc)
        else:
            flash.success(
                request, f"Conversation {thread.reference} started; the mail is on its way."
            )
            return redirect(
                "tickets:thread", org_slug=request.organization.slug, thread=thread.reference
            )
    elif request.method != "GET":
        return HttpResponse(status=405)
    context = {"nav": "new", "inboxes": inboxes, "form": form, "error": error}
    return render(request, "conversation/new.html", context, status=400 if error else 200)
