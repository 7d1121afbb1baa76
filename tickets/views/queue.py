"""The agent's queue: filters, saved views, keyset pages, bulk actions, live "new activity"."""

from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from inboxes.models import Inbox
from threads.models import Thread
from tickets import search, selectors, services
from tickets.categories import categories_list
from tickets.models import Queue, SavedView, Ticket
from tickets.selectors import QUEUE_PAGE, UNRESOLVED, QueueFilters
from tickets.views.queue_rows import row_make, rows_html, ticket_of
from tisket.errors import TisketError
from tisket.lib.params import id_param
from tisket.models import Membership, Role
from tisket.selectors import members_list
from tisket.views import org_view

STATUS_PRESETS = {
    "unresolved": tuple(UNRESOLVED),
    "all": (),
    **{status.value: (status.value,) for status in Ticket.Status},
}
FILTER_KEYS = (
    "inbox",
    "queue",
    "status",
    "priority",
    "assignee",
    "sla",
    "tag",
    "category",
    "q",
    "delivery",
    "sort",
)
# The views every member has, as query strings; their counts are drawn next to them.
BUILT_IN_VIEWS = {
    "unresolved": "status=unresolved",
    "mine": "assignee=me",
    "unassigned": "assignee=none",
    "at_risk": "sla=at_risk",
    "breached": "sla=breached",
    "waiting": "status=waiting_on_customer",
    "failed": "delivery=failed&status=all",
}
COUNT_CAP = 100  # a count past this shows as "99+": counting further is work nobody reads
COLUMNS = [
    ("subject", "Conversation"),
    ("client", "Client"),
    ("status", "Status"),
    ("priority", "Priority"),
    ("assignee", "Assignee"),
    ("sla", "SLA"),
    ("-updated", "Activity"),
]


@dataclass(frozen=True)
class Cursor:
    updated_at: datetime
    pk: int

    def __str__(self) -> str:
        return f"{self.updated_at.isoformat()}~{self.pk}"

    @classmethod
    def parse(cls, value: str) -> "Cursor | None":
        stamp, _, pk = value.rpartition("~")
        moment = parse_datetime(stamp) if stamp else None
        if moment is None or id_param(pk) is None:
            return None
        return cls(moment, int(pk))


def _filters(params: QueryDict, organization, errors: list[str]) -> QueueFilters:
    """Read the filters, dropping (and reporting) any value that makes no sense."""
    filters = QueueFilters()

    def number(name: str) -> int | None:
        value = params.get(name, "")
        if value and id_param(value) is None:
            errors.append(f"Ignored {name}={value!r}: not a number.")
            return None
        return int(value) if value else None

    status = params.get("status", "unresolved") or "unresolved"
    if status not in STATUS_PRESETS:
        errors.append(f"Ignored status={status!r}.")
        status = "unresolved"
    priorities = tuple(p for p in params.getlist("priority") if p)
    unknown = [p for p in priorities if p not in Ticket.Priority.values]
    if unknown:
        errors.append(f"Ignored priority {', '.join(unknown)}.")
        priorities = tuple(p for p in priorities if p in Ticket.Priority.values)
    assignee = params.get("assignee", "")
    if assignee and assignee not in ("me", "none") and id_param(assignee) is None:
        errors.append(f"Ignored assignee={assignee!r}.")
        assignee = ""
    sla_state = params.get("sla", "")
    if sla_state and sla_state not in selectors.SLA_STATES:
        errors.append(f"Ignored sla={sla_state!r}: use on_track, at_risk, breached or paused.")
        sla_state = ""
    sort = params.get("sort", "")
    if sort and sort.removeprefix("-") not in selectors.SORTS:
        errors.append(f"Ignored sort={sort!r}: use one of {', '.join(selectors.SORTS)}.")
        sort = ""
    if not sort and assignee == "me":
        sort = "sla"  # my work: the nearest deadline first
    return replace(
        filters,
        inbox=number("inbox"),
        queue=number("queue"),
        statuses=STATUS_PRESETS[status],
        priorities=priorities,
        assignee=assignee,
        sla=sla_state,
        tag=params.get("tag", "").strip()[:50],
        category=params.get("category", "").strip()[:100],
        delivery="failed" if params.get("delivery") == "failed" else "",
        q=params.get("q", "").strip()[:200],
        sort=sort,
    )


def _query(params: QueryDict, **changes) -> str:
    """The filter part of a query string, with some values changed."""
    pairs = [(k, v) for k, v in params.lists() if k in FILTER_KEYS]
    flat = [(k, item) for k, values in pairs for item in values if item]
    for key, value in changes.items():
        flat = [(k, v) for k, v in flat if k != key]
        if value:
            flat.append((key, value))
    return urlencode(flat)


def _views(membership: Membership):
    return SavedView.objects.filter(
        Q(owner=membership) | Q(organization_id=membership.organization_id, shared=True)
    ).select_related("owner__user")


@org_view()
def queue(request: HttpRequest) -> HttpResponse:
    params = request.GET
    view_id = params.get("view", "")
    if id_param(view_id) is not None and not any(k in params for k in FILTER_KEYS):
        saved = _views(request.membership).filter(pk=int(view_id)).first()
        if saved is not None:
            params = QueryDict(saved.query + f"&view={saved.pk}")
    if params.get("counts"):
        return _counts(request)
    errors: list[str] = []
    filters = _filters(params, request.organization, errors)
    cursor = Cursor.parse(params.get("after", "")) if params.get("after") else None
    # A chosen sort pages by position; the default (latest activity) by keyset.
    offset = int(params["offset"]) if id_param(params.get("offset", "")) else 0
    offset = min(offset, QUEUE_PAGE * 20) if filters.sort else 0
    now = timezone.now()
    try:
        threads = selectors.queue_threads(
            organization=request.organization,
            me=request.membership,
            filters=filters,
            after=(cursor.updated_at, cursor.pk) if cursor else None,
            now=now,
        )
        if params.get("since"):
            return _new_activity(request, threads, params)
        page = threads[offset:] if offset else threads
        rows = selectors.queue_page(page, QUEUE_PAGE + 1, me=request.membership)
    except TisketError as error:
        errors.append(str(error))
        rows = []
    more = len(rows) > QUEUE_PAGE
    rows = rows[:QUEUE_PAGE]
    if not more:
        next_query = ""
    elif filters.sort:
        next_query = _query(params, offset=str(offset + QUEUE_PAGE))
    else:
        next_query = _query(params, after=str(Cursor(rows[-1].updated_at, rows[-1].pk)))
    context = {
        "nav": "queue",
        "rows": rows,
        "rows_html": rows_html(
            [row_make(thread, request.organization, now) for thread in rows],
            can_work=request.membership.has_role(Role.AGENT),
            now=now,
            organization=request.organization,
        ),
        "filters": filters,
        "status": params.get("status", "unresolved") or "unresolved",
        "params": params,
        "query": _query(params),
        "next_query": next_query,
        "columns": _columns(params, filters.sort),
        "first_page": cursor is None and not offset,
        "since": now.isoformat(),
        "errors": errors,
        "now": now,
        "inboxes": Inbox.objects.filter(organization=request.organization).only("id", "name"),
        "queues": Queue.objects.filter(organization=request.organization).only("id", "name"),
        "categories": categories_list(organization=request.organization).values_list(
            "name", flat=True
        ),
        "assignees": [
            (str(m.pk), m.user.full_name or m.user.email)
            for m in members_list(organization=request.organization)
            if m.has_role(Role.AGENT)
        ],
        "statuses": Ticket.Status.choices,
        "priorities": Ticket.Priority.choices,
        "views": _views(request.membership),
        "active_view": params.get("view", ""),
        "can_work": request.membership.has_role(Role.AGENT),
        "search_help": search.HELP,
    }
    paging = request.htmx and (cursor or offset)
    template = "tickets/queue_rows.html" if paging else "tickets/queue.html"
    return render(request, template, context)


def _columns(params: QueryDict, sort: str) -> list[tuple[str, str, str]]:
    """(label, link, aria-sort) of each column's header: a click sorts, a second turns it."""
    current = sort or "-updated"
    out = []
    for key, label in COLUMNS:
        if current.removeprefix("-") == key.removeprefix("-"):
            state = "descending" if current.startswith("-") else "ascending"
            wanted = current.removeprefix("-") if current.startswith("-") else f"-{current}"
        else:
            state, wanted = "none", key
        out.append((label, "?" + _query(params, sort=wanted), state))
    return out


def _counts(request: HttpRequest) -> HttpResponse:
    """How many conversations each view holds (up to COUNT_CAP), in one query for them all."""
    views = list(_views(request.membership))
    wanted = {key: QueryDict(query) for key, query in BUILT_IN_VIEWS.items()}
    wanted |= {f"view-{view.pk}": QueryDict(view.query) for view in views}
    now = timezone.now()
    counted: dict[str, QuerySet] = {}
    for key, params in wanted.items():
        filters = replace(_filters(params, request.organization, []), sort="")
        try:
            threads = selectors.queue_threads(
                organization=request.organization,
                me=request.membership,
                filters=filters,
                now=now,
            )
        except TisketError:
            continue  # a saved view whose search no longer reads: no count
        counted[key] = threads.order_by().values("pk")[:COUNT_CAP]
    counts = selectors.counts_capped(counted)
    shown = {key: f"{COUNT_CAP - 1}+" if n >= COUNT_CAP else str(n) for key, n in counts.items()}
    return render(request, "tickets/queue_counts.html", {"counts": shown})


def _new_activity(request: HttpRequest, threads, params: QueryDict) -> HttpResponse:
    """How many matching conversations moved since the page was drawn (the poll's answer)."""
    since = parse_datetime(params.get("since", ""))
    count = threads.filter(updated_at__gt=since)[:100].count() if since else 0
    return render(
        request,
        "tickets/queue_new_activity.html",
        {"count": count, "query": _query(params)},
    )


@require_POST
@org_view(Role.AGENT)
def queue_bulk(request: HttpRequest) -> HttpResponse:
    """Assign, set the status or the priority of the selected conversations' tickets."""
    references = request.POST.getlist("thread")[: QUEUE_PAGE * 4]
    action = request.POST.get("action", "")
    value = request.POST.get(action, "")
    back = request.POST.get("back", "")
    threads = list(
        Thread.objects.filter(
            organization=request.organization, reference__in=references
        ).select_related("ticket_link__ticket")
    )
    done, skipped = 0, 0
    try:
        with transaction.atomic():
            for thread in threads:
                ticket = ticket_of(thread)
                if ticket is None:
                    skipped += 1
                    continue
                _apply(request, ticket, action, value)
                done += 1
    except (TisketError, ValueError, Membership.DoesNotExist) as error:
        messages.error(request, f"Nothing changed: {error}")
    else:
        if done:
            messages.success(request, f"Updated {done} ticket{'s' if done != 1 else ''}.")
        if skipped:
            messages.info(request, f"{skipped} conversation(s) without a ticket were left alone.")
        if not threads:
            messages.error(request, "Select at least one conversation.")
    url = reverse("tickets:queue", kwargs={"org_slug": request.organization.slug})
    return redirect(f"{url}?{back}" if back else url)


def _apply(request: HttpRequest, ticket: Ticket, action: str, value: str) -> None:
    actor = request.membership
    if action == "assignee":
        assignee = None
        if value == "me":
            assignee = actor
        elif value:
            assignee = members_list(organization=request.organization).get(pk=int(value))
        services.ticket_assign(ticket=ticket, assignee=assignee, actor=actor)
    elif action == "status":
        services.ticket_set_status(ticket=ticket, status=Ticket.Status(value), actor=actor)
    elif action == "priority":
        services.ticket_update(ticket=ticket, actor=actor, priority=Ticket.Priority(value))
    else:
        raise TisketError("Choose what to change.")


@require_POST
@org_view(Role.VIEWER)
def saved_view_save(request: HttpRequest) -> HttpResponse:
    """Save the current filters under a name (shared views need a supervisor)."""
    name = request.POST.get("name", "").strip()[:60]
    query = _query(QueryDict(request.POST.get("query", "")))
    shared = request.POST.get("shared") == "on"
    home = reverse("tickets:queue", kwargs={"org_slug": request.organization.slug})
    if not name:
        messages.error(request, "Give the view a name.")
        return redirect(f"{home}?{query}")
    if shared and not request.membership.has_role(Role.SUPERVISOR):
        messages.error(request, "Only supervisors and admins share views.")
        return redirect(f"{home}?{query}")
    view, _ = SavedView.objects.update_or_create(
        owner=request.membership,
        name=name,
        defaults={"organization": request.organization, "query": query, "shared": shared},
    )
    messages.success(request, f"Saved the view “{name}”.")
    return redirect(f"{home}?view={view.pk}")


@require_POST
@org_view(Role.VIEWER)
def saved_view_delete(request: HttpRequest, view: int) -> HttpResponse:
    saved = get_object_or_404(SavedView, pk=view, organization=request.organization)
    if saved.owner_id != request.membership.pk and not request.membership.has_role(Role.ADMIN):
        messages.error(request, "Only its owner or an admin deletes a view.")
    else:
        saved.delete()
        messages.success(request, f"Deleted the view “{saved.name}”.")
    return redirect("tickets:queue", org_slug=request.organization.slug)
