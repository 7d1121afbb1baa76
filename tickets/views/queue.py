"""The agent's queue: filters, saved views, keyset pages, bulk actions, live "new activity"."""

from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_POST

from inboxes.models import Inbox
from threads.models import Thread
from tickets import selectors, services, sla
from tickets.categories import categories_list
from tickets.models import Queue, SavedView, Ticket
from tickets.selectors import QUEUE_PAGE, UNRESOLVED, QueueFilters
from tisket.errors import TisketError
from tisket.lib.params import id_param
from tisket.models import Membership, Role
from tisket.selectors import members_list
from tisket.templatetags.tisket_ui import SLA_LABELS, ago, due_in
from tisket.views import org_view

STATUS_PRESETS = {
    "unresolved": tuple(UNRESOLVED),
    "all": (),
    **{status.value: (status.value,) for status in Ticket.Status},
}
FILTER_KEYS = (
    "inbox", "queue", "status", "priority", "assignee", "sla", "tag", "category", "q", "delivery",
)  # fmt: skip


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
    errors: list[str] = []
    filters = _filters(params, request.organization, errors)
    cursor = Cursor.parse(params.get("after", "")) if params.get("after") else None
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
        rows = selectors.queue_page(threads, QUEUE_PAGE + 1)
    except TisketError as error:
        errors.append(str(error))
        rows = []
    more = len(rows) > QUEUE_PAGE
    rows = rows[:QUEUE_PAGE]
    context = {
        "nav": "queue",
        "rows": rows,
        "rows_html": rows_html(
            [_row(thread, request.organization, now) for thread in rows],
            can_work=request.membership.has_role(Role.AGENT),
            now=now,
            organization=request.organization,
        ),
        "filters": filters,
        "status": params.get("status", "unresolved") or "unresolved",
        "params": params,
        "query": _query(params),
        "next_query": _query(params, after=str(Cursor(rows[-1].updated_at, rows[-1].pk)))
        if more
        else "",
        "first_page": cursor is None,
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
    }
    template = "tickets/queue_rows.html" if request.htmx and cursor else "tickets/queue.html"
    return render(request, template, context)


@dataclass
class Row:
    """What a queue row shows, worked out once in Python: the template only prints it."""

    thread: Thread
    ticket: Ticket | None
    url: str
    status: str
    status_label: str
    assignee: str
    sla_state: str | None
    sla_text: str
    sla_title: str
    tags: list[str]


def _row(thread: Thread, organization, now: datetime) -> Row:
    ticket = _ticket_of(thread)
    state = sla.sla_state(ticket, now) if ticket else None
    due = ticket.sla_due_at if ticket else None
    sla_text = ""
    if state:
        sla_text = SLA_LABELS[state]
        if due is not None and state != "paused":
            sla_text += f" · {due_in(due, now)}"
    if ticket is not None:
        status, label = ticket.status, ticket.get_status_display()
        user = ticket.assignee.user if ticket.assignee else None
        assignee = (user.full_name or user.email) if user else ""
    else:
        status, label, assignee = thread.status, thread.get_status_display(), ""
    return Row(
        thread=thread,
        ticket=ticket,
        url=reverse(
            "tickets:thread", kwargs={"org_slug": organization.slug, "thread": thread.reference}
        ),
        status=status,
        status_label=label,
        assignee=assignee,
        sla_state=state,
        sla_text=sla_text,
        sla_title=f"Next deadline {_local(due, organization):%a %d %b %H:%M}" if due else "",
        tags=[tag.name for tag in ticket.tags.all()] if ticket else [],
    )


ROW = (
    '<tr class="row{breached}" data-href="{url}">{pick}'
    '<td class="conv"><span class="dot" data-color="{color}" title="Inbox {inbox}"></span>'
    '<a class="subject" href="{url}">{subject}</a>'
    '<div class="refs muted small">{refs}{tags}</div></td>'
    '<td class="client"><span class="name">{client}</span>{client_email}</td>'
    '<td><span class="status s-{status}">{status_label}</span></td>'
    "<td>{priority}</td>"
    '<td class="assignee">{assignee}</td>'
    "<td>{sla}</td>"
    '<td class="right nowrap muted" title="{updated}">{ago}</td></tr>'
)


def rows_html(rows: list[Row], *, can_work: bool, now: datetime, organization) -> SafeString:
    """The queue's rows, drawn in Python: the one hot loop of the page (50 rows a request),
    where the template engine's per-variable cost dominated the page's time."""
    out = []
    for row in rows:
        thread, ticket = row.thread, row.ticket
        # One reference per conversation: the thread's, the one its client knows.
        refs = thread.reference
        if ticket is not None and ticket.queue is not None:
            refs += f" · {ticket.queue.name}"
        count = thread.message_count
        refs += f" · {count} message{'s' if count != 1 else ''}"
        failed = (
            mark_safe(' <span class="badge danger">Delivery failed</span>')
            if getattr(thread, "delivery_failed", False)
            else ""
        )
        out.append(
            format_html(
                ROW,
                breached=" is-breached" if row.sla_state == "breached" else "",
                url=row.url,
                pick=format_html(
                    '<td class="pick"><input type="checkbox" name="thread" value="{}" '
                    'aria-label="Select {}"></td>',
                    thread.reference,
                    thread.reference,
                )
                if can_work
                else "",
                color=thread.inbox.color,
                inbox=thread.inbox.name,
                subject=thread.subject or "(no subject)",
                refs=refs,
                tags=format_html(
                    "{}{}",
                    failed,
                    format_html_join("", ' <span class="tag">{}</span>', ((t,) for t in row.tags)),
                ),
                client=thread.client_name or thread.client_email,
                client_email=format_html('<div class="muted small">{}</div>', thread.client_email)
                if thread.client_name
                else "",
                status=row.status,
                status_label=row.status_label,
                priority=format_html(
                    '<span class="prio p-{}">{}</span>',
                    ticket.priority,
                    ticket.get_priority_display(),
                )
                if ticket is not None
                else "",
                assignee=row.assignee
                or (mark_safe('<span class="muted">Unassigned</span>') if ticket else ""),
                sla=format_html(
                    '<span class="sla sla-{}" title="{}">{}</span>',
                    row.sla_state,
                    row.sla_title,
                    row.sla_text,
                )
                if row.sla_state
                else "",
                updated=f"{_local(thread.updated_at, organization):%a %d %b %Y %H:%M}",
                ago=ago(thread.updated_at, now),
            )
        )
    return mark_safe("\n".join(out))  # noqa: S308  each piece built by format_html


def _local(moment: datetime, organization) -> datetime:
    return timezone.localtime(moment, ZoneInfo(organization.timezone))


def _ticket_of(thread: Thread) -> Ticket | None:
    try:
        return thread.ticket_link.ticket
    except Thread.ticket_link.RelatedObjectDoesNotExist:
        return None


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
                ticket = _ticket_of(thread)
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
