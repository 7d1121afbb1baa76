"""Queue and macro settings: the tickets app's services, as its REST API calls them."""

from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from interface.settings_pages.common import admin_view, done, page, refused
from interface.settings_pages.forms import MacroForm, QueueForm, form_error
from tickets import macros, selectors
from tickets import queues as queue_services
from tickets.models import Macro, Queue, Ticket
from tisket.errors import TisketError

OPEN = [
    Ticket.Status.NEW,
    Ticket.Status.OPEN,
    Ticket.Status.IN_PROGRESS,
    Ticket.Status.WAITING_ON_CUSTOMER,
]

# --- Queues ------------------------------------------------------------------------------


@admin_view
def queues(request: HttpRequest) -> HttpResponse:
    rows = selectors.queues_list(organization=request.organization).annotate(
        open_tickets=Count("tickets", filter=Q(tickets__status__in=OPEN))
    )
    return page(request, "settings/queues.html", {"queues": rows}, section="settings:queues")


def _queue_save(request: HttpRequest, form: QueueForm, queue: Queue | None) -> Queue | None:
    data = dict(form.cleaned_data)
    try:
        with transaction.atomic():
            if queue is None:
                return queue_services.queue_create(
                    organization=request.organization, actor=request.membership, **data
                )
            queue_services.queue_set_members(queue=queue, members=data.pop("members"))
            queue_services.queue_set_inboxes(queue=queue, inboxes=data.pop("inboxes"))
            return queue_services.queue_update(queue=queue, **data)
    except TisketError as error:
        form_error(form, error)
        return None


def _queue_page(request: HttpRequest, form: QueueForm, queue: Queue | None) -> HttpResponse:
    context = {"form": form, "queue": queue}
    return page(request, "settings/queue_form.html", context, section="settings:queues")


@admin_view
def queue_new(request: HttpRequest) -> HttpResponse:
    form = QueueForm(request.POST or None, organization=request.organization)
    if request.method == "POST" and form.is_valid():
        queue = _queue_save(request, form, None)
        if queue is not None:
            return done(request, f"Queue {queue.name} created.", "settings:queues")
    return _queue_page(request, form, None)


@admin_view
def queue_edit(request: HttpRequest, queue: int) -> HttpResponse:
    found = selectors.queue_get(organization=request.organization, pk=queue)
    form = QueueForm(request.POST or None, organization=request.organization, queue=found)
    if request.method == "POST" and form.is_valid() and _queue_save(request, form, found):
        return done(request, f"Queue {found.name} saved.", "settings:queues")
    return _queue_page(request, form, found)


@admin_view
@require_POST
def queue_delete(request: HttpRequest, queue: int) -> HttpResponse:
    found = selectors.queue_get(organization=request.organization, pk=queue)
    try:
        queue_services.queue_delete(queue=found)
    except TisketError as error:
        return refused(request, error, "settings:queues")
    return done(
        request, f"Queue {found.name} deleted; its tickets have no queue now.", "settings:queues"
    )


# --- Macros ------------------------------------------------------------------------------


def _macro_get(request: HttpRequest, pk: int) -> Macro:
    try:
        return Macro.objects.get(organization=request.organization, pk=pk)
    except Macro.DoesNotExist:
        raise Http404("No such macro.") from None


@admin_view
def macro_list(request: HttpRequest) -> HttpResponse:
    organization = request.organization
    rows = list(Macro.objects.filter(organization=organization))
    # The names of the queues the actions point to, looked up once for the whole list.
    queue_names = dict(Queue.objects.filter(organization=organization).values_list("pk", "name"))
    for row in rows:
        row.queue_name = queue_names.get((row.actions or {}).get("queue"), "")
    return page(request, "settings/macros.html", {"macros": rows}, section="settings:macros")


def _macro_page(request: HttpRequest, form: MacroForm, macro: Macro | None) -> HttpResponse:
    return page(
        request,
        "settings/macro_form.html",
        {"form": form, "macro": macro},
        section="settings:macros",
    )


def _macro_save(request: HttpRequest, form: MacroForm, macro: Macro | None) -> Macro | None:
    try:
        return macros.macro_save(
            organization=request.organization,
            actor=request.membership,
            name=form.cleaned_data["name"],
            body=form.cleaned_data["body"],
            actions=form.actions(),
            macro=macro,
        )
    except TisketError as error:
        form_error(form, error)
        return None


@admin_view
def macro_new(request: HttpRequest) -> HttpResponse:
    form = MacroForm(request.POST or None, organization=request.organization)
    if request.method == "POST" and form.is_valid():
        macro = _macro_save(request, form, None)
        if macro is not None:
            return done(request, f"Macro {macro.name} created.", "settings:macros")
    return _macro_page(request, form, None)


@admin_view
def macro_edit(request: HttpRequest, macro: int) -> HttpResponse:
    found = _macro_get(request, macro)
    form = MacroForm(request.POST or None, organization=request.organization, macro=found)
    if request.method == "POST" and form.is_valid() and _macro_save(request, form, found):
        return done(request, f"Macro {found.name} saved.", "settings:macros")
    return _macro_page(request, form, found)


@admin_view
@require_POST
def macro_delete(request: HttpRequest, macro: int) -> HttpResponse:
    found = _macro_get(request, macro)
    found.delete()
    return done(request, f"Macro {found.name} deleted.", "settings:macros")
