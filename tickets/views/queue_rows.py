"""A queue row, worked out in Python and drawn with format_html: the page's one hot loop."""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from threads.models import Thread
from tickets import sla
from tickets.models import Ticket
from tisket.templatetags.tisket_ui import SLA_LABELS, ago, due_in


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


def row_make(thread: Thread, organization, now: datetime) -> Row:
    ticket = ticket_of(thread)
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
    '<tr class="row{breached}{unread}" data-href="{url}">{pick}'
    '<td class="conv"><span class="dot" data-color="{color}" title="Inbox {inbox}"></span>'
    '{unread_mark}<a class="subject" href="{url}">{subject}</a>'
    '<div class="refs muted small">{refs}{tags}</div></td>'
    '<td class="client"><span class="name">{client}</span>{client_email}</td>'
    '<td class="state"><span class="status s-{status}">{status_label}</span></td>'
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
        if thread.client_replied_last and row.status not in ("resolved", "closed"):
            failed = format_html(
                '{} <span class="badge replied" title="{}">Client replied</span>',
                failed,
                "The client wrote last",
            )
        unread = getattr(thread, "unread", False)
        out.append(
            format_html(
                ROW,
                breached=" is-breached" if row.sla_state == "breached" else "",
                unread=" is-unread" if unread else "",
                unread_mark=mark_safe('<span class="unread-mark">Unread </span>') if unread else "",
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


def ticket_of(thread: Thread) -> Ticket | None:
    try:
        return thread.ticket_link.ticket
    except Thread.ticket_link.RelatedObjectDoesNotExist:
        return None
