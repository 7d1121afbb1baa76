"""A ticket from scratch: work that came by phone, in person, or from the team itself, with no
mail to start from. A client's address, if given, is whom its SLA tier is looked up by."""

from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from tickets import services
from tickets.categories import categories_list
from tickets.conversations import queue_default
from tickets.models import Queue, Ticket
from tickets.views.conversation.common import assignees_list
from tisket.errors import TisketError
from tisket.lib.addresses import address_is_valid, address_normalize
from tisket.lib.params import id_param
from tisket.models import Role
from tisket.views import org_view

FIELDS = ("subject", "description", "priority", "queue", "assignee", "category", "client")


@org_view(min_role=Role.AGENT)
def ticket_new(request: HttpRequest) -> HttpResponse:
    """The form, and the ticket it opens (in the default queue unless another is chosen)."""
    organization = request.organization
    queues = list(Queue.objects.filter(organization=organization).order_by("name"))
    assignees = assignees_list(request)
    default = queue_default(organization=organization)
    form = dict.fromkeys(FIELDS, "") | {
        "priority": Ticket.Priority.NORMAL,
        "queue": str(default.pk),
        "assignee": str(request.membership.pk),
    }
    error = ""
    if request.method == "POST":
        form = {name: request.POST.get(name, "").strip() for name in FIELDS}
        try:
            ticket = services.ticket_create(
                organization=organization,
                subject=form["subject"],
                description=form["description"],
                actor=request.membership,
                **_choices(form, queues=queues, assignees=assignees),
            )
        except TisketError as exc:
            error = str(exc)
        else:
            flash.success(request, f"Ticket {ticket.reference} opened.")
            return redirect("tickets:ticket", org_slug=organization.slug, ticket=ticket.reference)
    elif request.method != "GET":
        return HttpResponse(status=405)
    context = {
        "nav": "new",
        "form": form,
        "error": error,
        "queues": queues,
        "assignees": assignees,
        "priorities": Ticket.Priority.choices,
        "categories": list(categories_list(organization=organization)),
    }
    return render(request, "conversation/ticket_new.html", context, status=400 if error else 200)


def _choices(form: dict, *, queues: list[Queue], assignees: list) -> dict:
    """The form's choices as the service takes them; a value off the lists is a clear error."""
    if form["priority"] not in Ticket.Priority.values:
        raise TisketError("Choose a priority.")
    queue = next((q for q in queues if str(q.pk) == form["queue"]), None)
    if form["queue"] and queue is None:
        raise TisketError("No such queue.")
    assignee = next((m for m in assignees if str(m.pk) == form["assignee"]), None)
    if form["assignee"] and (id_param(form["assignee"]) is None or assignee is None):
        raise TisketError("No such member.")
    client = address_normalize(form["client"]) if form["client"] else ""
    if client and not address_is_valid(client):
        raise TisketError(f"Not an email address: {form['client']}.")
    return {
        "priority": form["priority"],
        "queue": queue,
        "assignee": assignee,
        "category": form["category"],
        "customer_email": client,
    }
