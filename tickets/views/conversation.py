"""The conversation page: a thread's messages, its ticket's notes and timeline, the side panel,
the reply box, presence of other agents; message bodies, attachments, new conversations.

Email HTML is never part of our pages: each body is its own document, served
with a strict Content-Security-Policy into an iframe sandboxed without
scripts or same-origin rights, so that even a mail that got past the
sanitizer can neither run code nor reach the agent's session.
"""

import base64
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import unquote

from django.conf import settings
from django.contrib import messages as flash
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import escape
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from inboxes.selectors import inboxes_list
from sla.models import METRICS
from threads import selectors as thread_selectors
from threads.downloads import attachment_response
from threads.models import Attachment, Message, Participant, Thread
from threads.outbound import thread_start
from threads.presence import presence_others, presence_touch
from threads.services import thread_set_status
from tickets import macros, selectors, services, sla, workflows
from tickets.models import Macro, Queue, Ticket, TicketEvent, TicketThread
from tisket.errors import TisketError
from tisket.lib.addresses import address_normalize
from tisket.lib.html import REMOTE_IMAGE_PREFIX, restore_remote_images
from tisket.models import Membership, Role
from tisket.views import org_view

# What "Send and set status" offers, in the order an agent reaches for them.
TICKET_NEXT_STATUSES = [
    Ticket.Status.WAITING_ON_CUSTOMER,
    Ticket.Status.RESOLVED,
    Ticket.Status.IN_PROGRESS,
    Ticket.Status.OPEN,
    Ticket.Status.CLOSED,
]
THREAD_NEXT_STATUSES = [
    Thread.Status.RESOLVED,
    Thread.Status.IN_PROGRESS,
    Thread.Status.OPEN,
    Thread.Status.CLOSED,
]
SLA_METRIC_LABELS = {
    "first_response": "First response",
    "next_response": "Next response",
    "resolution": "Resolution",
}
ADDRESS_SPLIT = re.compile(r"[\s,;]+")
# A blocked remote image keeps its place as a light grey box; the CSP allows data: images.
BLOCKED_IMAGE = (
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='16' height='16'%3E"
    "%3Crect width='16' height='16' fill='%23eef0f4'/%3E%3C/svg%3E"
)
REMOTE_SRC = re.compile(r'src="' + re.escape(REMOTE_IMAGE_PREFIX) + r'[^"]*"')
CID_SRC = re.compile(r'src="cid:([^"]*)"', re.IGNORECASE)
INLINE_IMAGE_TYPES = {"image/png", "image/gif", "image/jpeg", "image/webp", "image/bmp"}
INLINE_IMAGE_MAX_BYTES = 5 * 1024 * 1024
INLINE_IMAGES_MAX_BYTES = 15 * 1024 * 1024  # per message body
BLOCK_TAG = re.compile(r"<(?:p|div|li|tr|h[1-6]|blockquote|pre)\b", re.IGNORECASE)
LINE_BREAK = re.compile(r"<(?:p|div|li|tr|h[1-6]|blockquote|pre|br)\b[^>]*>", re.IGNORECASE)
ANY_TAG = re.compile(r"<[^>]*>")
IMAGE_HEIGHT = re.compile(r'<img\b(?:[^>]*?\bheight="(\d{1,4})")?', re.IGNORECASE)


# --- Look-ups -----------------------------------------------------------------------------------


def _thread(request: HttpRequest, reference: str) -> Thread:
    return thread_selectors.thread_get(organization=request.organization, reference=reference)


def _ticket(request: HttpRequest, reference: str) -> Ticket:
    ticket = selectors.ticket_get(organization=request.organization, reference=reference)
    ticket.organization = request.organization
    return ticket


def _assignees(request: HttpRequest) -> list[Membership]:
    members = Membership.objects.filter(
        organization=request.organization,
        role__in=[Role.AGENT, Role.SUPERVISOR, Role.ADMIN, Role.OWNER],
        user__is_active=True,
    ).select_related("user")
    return sorted(members, key=lambda m: m.user.get_full_name().lower())


def _links(ticket: Ticket) -> list[TicketThread]:
    """The ticket's conversations, first linked first."""
    return list(ticket.thread_links.select_related("thread").order_by("created_at", "id"))


def _recipients(request: HttpRequest, thread: Thread) -> list[str]:
    """Who a reply goes to: the thread's participants but the organization's own people."""
    members = set(
        Membership.objects.filter(organization=request.organization).values_list(
            "user__email", flat=True
        )
    )
    return [p.email for p in thread.participants.all() if p.email not in members]


def _addresses(value: str) -> list[str]:
    return [address_normalize(a) for a in ADDRESS_SPLIT.split(value or "") if a.strip()]


# --- What the page shows ------------------------------------------------------------------------


@dataclass
class MessageView:
    """A message as the page shows it: which body, how tall, what to flag."""

    message: Message
    is_new: bool = False
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return "message"

    @property
    def at(self) -> datetime:
        return self.message.created_at

    @property
    def has_html(self) -> bool:
        return bool(self.message.html.strip())

    @property
    def full_text(self) -> str:
        return self.message.text or self.message.visible_text

    @property
    def has_quote(self) -> bool:
        """The mail carries quoted history beyond its new part."""
        visible = self.message.visible_text.strip()
        return bool(visible) and visible != self.full_text.strip()

    @property
    def remote_images(self) -> bool:
        return REMOTE_IMAGE_PREFIX in self.message.html

    @property
    def delivery(self):
        """The latest attempt to mail this message (outbound only), or None."""
        deliveries = list(self.message.deliveries.all())
        return deliveries[-1] if deliveries else None

    @property
    def delivery_failed(self) -> bool:
        mail = self.delivery
        return mail is not None and (
            mail.status == "failed" or mail.delivery_event in ("bounced", "rejected", "failed")
        )

    def _frame_height(self, chars_per_line: int) -> int:
        def wrapped(text: str) -> int:
            return math.ceil(len(text) / chars_per_line)

        html = self.message.html
        text_lines = sum(
            max(1, wrapped(line))
            for line in (self.full_text or " ").splitlines()
            if line.strip() or not html
        )
        pieces = (ANY_TAG.sub("", piece).strip() for piece in LINE_BREAK.split(html))
        html_lines = sum(wrapped(piece) for piece in pieces if piece)
        blocks = len(BLOCK_TAG.findall(html))
        images = sum(
            min(int(height), 400) if height else 150 for height in IMAGE_HEIGHT.findall(html)
        )
        lines = max(text_lines, html_lines)
        return max(60, min(16 + 21 * lines + 15 * blocks + images, 900))

    @property
    def frame_height(self) -> int:
        """A guess of the body's height in pixels: a sandboxed frame cannot tell its own."""
        return self._frame_height(95)

    @property
    def frame_height_narrow(self) -> int:
        """The same guess on a phone, where lines wrap sooner."""
        return self._frame_height(38)


@dataclass
class NoteView:
    note: object
    is_new: bool = False

    @property
    def kind(self) -> str:
        return "note"

    @property
    def at(self) -> datetime:
        return self.note.created_at


def _span(seconds: float) -> str:
    minutes = int(abs(seconds) // 60)
    if minutes < 1:
        return "less than 1 min"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


@dataclass
class Deadline:
    label: str
    due_at: datetime
    text: str
    breached: bool


def _deadlines(ticket: Ticket, now: datetime) -> list[Deadline]:
    paused = ticket.sla_paused_at is not None
    found = []
    for metric in METRICS:
        due = getattr(ticket, f"{metric}_due_at")
        if due is None:
            continue
        seconds = (due - now).total_seconds()
        if paused:
            text = "paused while waiting on the customer"
        elif seconds >= 0:
            text = f"due in {_span(seconds)}"
        else:
            text = f"breached {_span(seconds)} ago"
        found.append(
            Deadline(SLA_METRIC_LABELS.get(metric, metric), due, text, seconds < 0 and not paused)
        )
    return found


EVENT_TEXT = {
    TicketEvent.Kind.CREATED: "created the ticket",
    TicketEvent.Kind.NOTE_ADDED: "added an internal note",
    TicketEvent.Kind.REPLY_SENT: "replied to the client",
    TicketEvent.Kind.CLIENT_REPLIED: "The client replied",
    TicketEvent.Kind.RATED: "The client rated the help",
}
STATUS_LABELS = dict(Ticket.Status.choices)
PRIORITY_LABELS = dict(Ticket.Priority.choices)


def event_text(event: TicketEvent) -> str:
    """One line of the timeline, after the actor's name."""
    data, kind = event.data or {}, event.kind
    if kind == TicketEvent.Kind.STATUS:
        old, new = STATUS_LABELS.get(data.get("old"), "?"), STATUS_LABELS.get(data.get("new"), "?")
        return f"changed the status from {old} to {new}"
    if kind == TicketEvent.Kind.PRIORITY:
        old, new = PRIORITY_LABELS.get(data.get("old"), "?"), PRIORITY_LABELS.get(data.get("new"))
        return f"changed the priority from {old} to {new}"
    if kind == TicketEvent.Kind.QUEUE:
        return f"moved it from {data.get('old') or 'no queue'} to {data.get('new') or 'no queue'}"
    if kind == TicketEvent.Kind.ASSIGNED:
        how = " automatically" if data.get("automatic") else ""
        who = data.get("assignee")
        return f"assigned it{how} to {who}" if who else "unassigned it"
    if kind == TicketEvent.Kind.TAGS:
        return f"set the tags to {', '.join(data.get('new') or []) or 'none'}"
    if kind == TicketEvent.Kind.ESCALATED:
        to = f" to {data['to']}" if data.get("to") else ""
        return f"escalated it to level {data.get('level')}{to}"
    if kind == TicketEvent.Kind.LINKED:
        return f"linked the conversation {data.get('thread')}"
    if kind == TicketEvent.Kind.UNLINKED:
        return f"unlinked the conversation {data.get('thread')}"
    if kind == TicketEvent.Kind.MERGED:
        return f"merged {data.get('source')} into {data.get('target')}"
    if kind == TicketEvent.Kind.INCIDENT_LINKED:
        return f"made {data.get('child')} part of the incident {data.get('parent')}"
    if kind == TicketEvent.Kind.INCIDENT_UNLINKED:
        return f"took {data.get('child')} out of the incident {data.get('parent')}"
    if kind == TicketEvent.Kind.MACRO_APPLIED:
        return f"applied the macro “{data.get('macro')}”"
    if kind == TicketEvent.Kind.UPDATED:
        return f"changed {', '.join(data.get('fields') or [])}"
    if kind == TicketEvent.Kind.RATED:
        return f"The client rated the help {data.get('score')}/5"
    if kind in (TicketEvent.Kind.SLA_WARNING, TicketEvent.Kind.SLA_BREACHED):
        metric = SLA_METRIC_LABELS.get(data.get("metric"), data.get("metric", ""))
        verb = "is at risk" if kind == TicketEvent.Kind.SLA_WARNING else "was breached"
        return f"SLA: {metric.lower()} {verb}"
    return EVENT_TEXT.get(kind, kind.replace("_", " "))


def _event_line(event: TicketEvent) -> tuple[str, str]:
    """Who did it (blank when the sentence names its own subject) and what they did."""
    text = event_text(event)
    if text[:1].isupper():
        return "", text
    return (event.actor.user.get_full_name() if event.actor else "Tisket"), text


def _panel_context(request: HttpRequest, *, ticket: Ticket | None, thread: Thread | None) -> dict:
    """What the side panel shows: the ticket's fields, links, people and SLA, or the thread's."""
    now = timezone.now()
    context: dict = {
        "ticket": ticket,
        "thread": thread,
        "can_work": request.membership.has_role(Role.AGENT),
    }
    if ticket is None:
        context["participants"] = list(thread.participants.all()) if thread else []
        return context
    participants = Participant.objects.filter(thread__ticket_link__ticket=ticket).order_by(
        "created_at", "id"
    )
    seen, people = set(), []
    for person in participants:
        if person.email not in seen:
            seen.add(person.email)
            people.append(person)
    events = list(selectors.events_list(ticket=ticket).order_by("created_at", "id"))
    context.update(
        participants=people,
        statuses=Ticket.Status.choices,
        priorities=Ticket.Priority.choices,
        queues=list(Queue.objects.filter(organization=request.organization).order_by("name")),
        assignees=_assignees(request),
        tags=", ".join(tag.name for tag in ticket.tags.all()),
        linked_threads=[link.thread for link in _links(ticket)],
        children=list(ticket.children.order_by("number")),
        sla_state=sla.sla_state(ticket, now),
        deadlines=_deadlines(ticket, now),
        events=[(event, *_event_line(event)) for event in events],
    )
    return context


def _conversation(
    request: HttpRequest,
    *,
    thread: Thread | None,
    ticket: Ticket | None,
    draft: dict | None = None,
    tab: str = "reply",
    error: str = "",
    warning: str = "",
    new_since: int | None = None,
    status: int = 200,
) -> HttpResponse:
    """The conversation page: messages and notes by time, the side panel, the reply box."""
    entries: list = []
    last_message_id = 0
    if thread is not None:
        for message in thread_selectors.messages_list(thread=thread):
            html = message.html
            shown = [
                a
                for a in message.attachments.all()
                if not (inline_image(a) and f"cid:{a.content_id}" in html)
            ]
            is_new = new_since is not None and message.pk > new_since
            entries.append(MessageView(message=message, is_new=is_new, attachments=shown))
            last_message_id = max(last_message_id, message.pk)
    if ticket is not None:
        entries.extend(NoteView(note=note) for note in selectors.notes_list(ticket=ticket))
    entries.sort(key=lambda e: e.at)
    can_work = request.membership.has_role(Role.AGENT)
    macro_list, macro_bodies = [], {}
    if ticket is not None and can_work:
        macro_list = list(selectors.macros_list(organization=request.organization))
        macro_bodies = macros.macros_render(
            macros=macro_list, ticket=ticket, agent=request.membership
        )
    draft = dict(draft or {})
    insert = request.GET.get("macro", "")
    if insert.isdigit() and int(insert) in macro_bodies and not draft.get("body"):
        draft["body"] = macro_bodies[int(insert)]
    context = {
        "nav": "queue",
        "thread": thread,
        "ticket": ticket,
        "entries": entries,
        "last_message_id": last_message_id,
        "draft": draft,
        "tab": "note" if thread is None else (tab if ticket is not None else "reply"),
        "error": error,
        "warning": warning,
        "macros": [(m, macro_bodies[m.pk]) for m in macro_list],
        "next_statuses": (
            [(s.value, s.label) for s in TICKET_NEXT_STATUSES]
            if ticket is not None
            else [(s.value, s.label) for s in THREAD_NEXT_STATUSES]
        ),
        "recipients": _recipients(request, thread) if thread is not None and can_work else [],
        # Past the request limit the middleware refuses the whole post; say so before sending.
        "max_upload_bytes": (
            min(settings.TISKET_MAX_REQUEST_BYTES - 65536, thread.inbox.max_message_bytes)
            if thread is not None
            else 0
        ),
        "presence": (
            presence_others(thread_id=thread.pk, membership_id=request.membership.pk)
            if thread is not None
            else []
        ),
        **_panel_context(request, ticket=ticket, thread=thread),
    }
    return render(request, "conversation/thread.html", context, status=status)


# --- Pages --------------------------------------------------------------------------------------


@require_GET
@org_view()
def thread_page(request: HttpRequest, thread: str) -> HttpResponse:
    found = _thread(request, thread)
    ticket = selectors.ticket_for_thread(organization=request.organization, thread_id=found.pk)
    if ticket is not None:
        ticket.organization = request.organization
    return _conversation(request, thread=found, ticket=ticket)


@require_GET
@org_view()
def ticket_page(request: HttpRequest, ticket: str) -> HttpResponse:
    """The ticket's first conversation; a ticket without one shows its notes and panel alone."""
    found = _ticket(request, ticket)
    links = _links(found)
    if links:
        return redirect(
            "thread", org_slug=request.organization.slug, thread=links[0].thread.reference
        )
    return _conversation(request, thread=None, ticket=found)


def _back(request: HttpRequest, *, thread: Thread | None, ticket: Ticket | None, anchor: str = ""):
    slug = request.organization.slug
    if thread is not None:
        url = reverse("thread", kwargs={"org_slug": slug, "thread": thread.reference})
    else:
        url = reverse("ticket", kwargs={"org_slug": slug, "ticket": ticket.reference})
    return redirect(f"{url}#{anchor}" if anchor else url)


@require_POST
@org_view(min_role=Role.AGENT)
def thread_reply(request: HttpRequest, thread: str) -> HttpResponse:
    """Send the agent's reply, unless a client message arrived that the agent has not seen."""
    found = _thread(request, thread)
    ticket = selectors.ticket_for_thread(organization=request.organization, thread_id=found.pk)
    if ticket is not None:
        ticket.organization = request.organization
    draft = {
        "body": request.POST.get("body", ""),
        "cc": request.POST.get("cc", ""),
        "status": request.POST.get("status", ""),
    }
    seen = request.POST.get("seen", "")
    seen_id = int(seen) if seen.isdigit() else 0

    def again(*, error: str = "", warning: str = "", status: int = 400, new_since=None):
        return _conversation(
            request,
            thread=found,
            ticket=ticket,
            draft=draft,
            error=error,
            warning=warning,
            new_since=new_since,
            status=status,
        )

    if thread_selectors.inbound_messages_after(thread=found, message_id=seen_id).exists():
        return again(
            warning="A new message arrived; read it before sending. Your reply was not sent.",
            new_since=seen_id,
            status=409,
        )
    new_status = request.POST.get("status", "") if request.POST.get("set_status") else ""
    allowed = TICKET_NEXT_STATUSES if ticket is not None else THREAD_NEXT_STATUSES
    if new_status and new_status not in allowed:
        return again(error=f"Unknown status “{new_status}”.")
    files = request.FILES.getlist("attachments")
    try:
        with transaction.atomic():
            message, _ = services.thread_reply_send(
                thread=found,
                author=request.membership,
                body=draft["body"],
                cc=_addresses(draft["cc"]),
                attachments=[(f.name, f.read()) for f in files],
            )
            _set_status(request, thread=found, ticket=ticket, status=new_status)
    except TisketError as exc:
        return again(error=str(exc), status=exc.status_code)
    presence_touch(
        thread_id=found.pk,
        membership_id=request.membership.pk,
        name=request.user.get_full_name(),
        typing=False,
    )
    flash.success(request, "Reply sent." + (" Status changed." if new_status else ""))
    return _back(request, thread=found, ticket=ticket, anchor=f"message-{message.pk}")


def _set_status(
    request: HttpRequest, *, thread: Thread | None, ticket: Ticket | None, status: str
) -> None:
    if not status:
        return
    if ticket is not None:
        services.ticket_set_status(ticket=ticket, status=status, actor=request.membership)
    elif thread is not None:
        thread_set_status(thread=thread, status=status, actor=request.membership)


def _thread_of_ticket(request: HttpRequest, ticket: Ticket, reference: str) -> Thread | None:
    """The conversation the agent wrote from, if it is one of the ticket's; else its first."""
    links = _links(ticket)
    for link in links:
        if link.thread.reference == reference.upper():
            return _thread(request, reference)
    return _thread(request, links[0].thread.reference) if links else None


@require_POST
@org_view(min_role=Role.AGENT)
def ticket_note(request: HttpRequest, ticket: str) -> HttpResponse:
    """Add an internal note to the ticket (and set its status, when asked)."""
    found = _ticket(request, ticket)
    thread = _thread_of_ticket(request, found, request.POST.get("thread", ""))
    draft = {"note": request.POST.get("body", "")}
    new_status = request.POST.get("status", "") if request.POST.get("set_status") else ""
    try:
        if new_status and new_status not in TICKET_NEXT_STATUSES:
            raise TisketError(f"Unknown status “{new_status}”.")
        with transaction.atomic():
            note = services.ticket_note_add(
                ticket=found, body=draft["note"], actor=request.membership
            )
            _set_status(request, thread=thread, ticket=found, status=new_status)
    except TisketError as exc:
        return _conversation(
            request,
            thread=thread,
            ticket=found,
            draft=draft,
            tab="note",
            error=str(exc),
            status=exc.status_code,
        )
    flash.success(request, "Internal note added.")
    return _back(request, thread=thread, ticket=found, anchor=f"note-{note.pk}")


def _panel(request: HttpRequest, ticket: Ticket, *, error: str = "", status: int = 200):
    ticket = _ticket(request, ticket.reference)  # fresh: tags, links and counts as saved
    thread = _thread_of_ticket(request, ticket, request.POST.get("thread", ""))
    context = _panel_context(request, ticket=ticket, thread=thread) | {"panel_error": error}
    return render(request, "conversation/_side_panel.html", context, status=status)


def _member(request: HttpRequest, value: str) -> Membership | None:
    if not value:
        return None
    member = (
        Membership.objects.filter(organization=request.organization, pk=value)
        .select_related("user")
        .first()
        if value.isdigit()
        else None
    )
    if member is None:
        raise TisketError("No such member.")
    return member


@require_POST
@org_view(min_role=Role.AGENT)
def ticket_update(request: HttpRequest, ticket: str) -> HttpResponse:
    """Change one or more of the ticket's fields from the side panel."""
    found = _ticket(request, ticket)
    data = request.POST
    try:
        with transaction.atomic():
            changes: dict = {}
            if "priority" in data:
                if data["priority"] not in Ticket.Priority.values:
                    raise TisketError(f"Unknown priority “{data['priority']}”.")
                changes["priority"] = data["priority"]
            if "queue" in data:
                queue = data["queue"]
                changes["queue"] = (
                    Queue.objects.filter(organization=request.organization, pk=queue).first()
                    if queue.isdigit()
                    else None
                )
                if queue and changes["queue"] is None:
                    raise TisketError("No such queue.")
            if "tags" in data:
                changes["tags"] = [t for t in data["tags"].split(",") if t.strip()]
            if changes:
                services.ticket_update(ticket=found, actor=request.membership, **changes)
            if "assignee" in data:
                assignee = _member(request, data["assignee"])
                services.ticket_assign(ticket=found, assignee=assignee, actor=request.membership)
            if "status" in data:
                if data["status"] not in Ticket.Status.values:
                    raise TisketError(f"Unknown status “{data['status']}”.")
                services.ticket_set_status(
                    ticket=found, status=data["status"], actor=request.membership
                )
            if "escalate" in data:
                workflows.ticket_escalate(ticket=found, actor=request.membership)
    except TisketError as exc:
        if request.htmx:
            return _panel(request, found, error=str(exc), status=exc.status_code)
        flash.error(request, str(exc))
        return _back(request, thread=_thread_of_ticket(request, found, ""), ticket=found)
    if request.htmx:
        return _panel(request, found)
    flash.success(request, "Ticket updated.")
    thread = _thread_of_ticket(request, found, data.get("thread", ""))
    return _back(request, thread=thread, ticket=found)


@require_POST
@org_view(min_role=Role.AGENT)
def ticket_macro_apply(request: HttpRequest, ticket: str, macro: int) -> HttpResponse:
    """Apply a macro's actions to the ticket; its text goes into the reply box."""
    found = _ticket(request, ticket)
    chosen = Macro.objects.filter(organization=request.organization, pk=macro).first()
    if chosen is None:
        raise Http404("No such macro.")
    try:
        result = macros.macro_apply(macro=chosen, ticket=found, actor=request.membership)
    except ObjectDoesNotExist:
        error = "This macro names a queue or a member that no longer exists."
        if request.htmx:
            return _panel(request, found, error=error, status=400)
        flash.error(request, error)
        return _back(request, thread=_thread_of_ticket(request, found, ""), ticket=found)
    except TisketError as exc:
        if request.htmx:
            return _panel(request, found, error=str(exc), status=exc.status_code)
        flash.error(request, str(exc))
        return _back(request, thread=_thread_of_ticket(request, found, ""), ticket=found)
    if request.htmx:
        response = _panel(request, found)
        reply = render(request, "conversation/_macro_reply.html", {"reply": result.reply})
        response.content += reply.content
        return response
    thread = _thread_of_ticket(request, found, request.POST.get("thread", ""))
    flash.success(request, f"Macro “{chosen.name}” applied.")
    slug = request.organization.slug
    if thread is None:
        return redirect("ticket", org_slug=slug, ticket=found.reference)
    url = reverse("thread", kwargs={"org_slug": slug, "thread": thread.reference})
    return redirect(f"{url}?macro={chosen.pk}#reply")


@require_POST
@org_view()
def thread_presence(request: HttpRequest, thread: str) -> HttpResponse:
    """The heartbeat of an open conversation: note this member, answer with the others.

    Any member may send it: viewing is not a write, and a viewer is worth knowing about too.
    """
    found = _thread(request, thread)
    typing = request.POST.get("typing") == "1" and request.membership.has_role(Role.AGENT)
    presence_touch(
        thread_id=found.pk,
        membership_id=request.membership.pk,
        name=request.user.get_full_name(),
        typing=typing,
    )
    others = presence_others(thread_id=found.pk, membership_id=request.membership.pk)
    return render(request, "conversation/_presence.html", {"presence": others})


# --- Message bodies and attachments -------------------------------------------------------------


def _body_csp(request: HttpRequest, *, remote: bool) -> str:
    attachments = request.build_absolute_uri(
        reverse("attachment", kwargs={"org_slug": request.organization.slug, "attachment": 0})
    ).rsplit("0/", 1)[0]
    images = ["data:", attachments]
    if remote:
        images.append("https:")
    return "; ".join(
        [
            "default-src 'none'",
            "style-src 'unsafe-inline'",
            f"img-src {' '.join(images)}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'self'",
        ]
    )


def inline_image(attachment: Attachment) -> bool:
    """Whether the attachment is shown inside its message's body rather than listed."""
    return bool(
        attachment.content_id
        and attachment.file
        and attachment.content_type in INLINE_IMAGE_TYPES
        and attachment.size <= INLINE_IMAGE_MAX_BYTES
    )


def _inline_images(message: Message, html: str) -> str:
    """Embed the images a mail shows by Content-ID; any other `cid:` becomes a blank box.

    Embedded as data: URLs, not links to the attachment view: the sandboxed frame
    has an opaque origin, so the browser sends no session cookie with its requests.
    """
    by_cid = {a.content_id: a for a in message.attachments.all() if inline_image(a)}
    budget = [INLINE_IMAGES_MAX_BYTES]

    def replace(match: re.Match) -> str:
        attachment = by_cid.get(unquote(match.group(1)).strip("<>"))
        if attachment is None or attachment.size > budget[0]:
            return f'src="{BLOCKED_IMAGE}"'
        budget[0] -= attachment.size
        with attachment.file.open("rb") as handle:
            data = base64.b64encode(handle.read()).decode("ascii")
        return f'src="data:{attachment.content_type};base64,{data}"'

    return CID_SRC.sub(replace, html)


@require_GET
@xframe_options_sameorigin
@org_view()
def message_body(request: HttpRequest, message: int) -> HttpResponse:
    """A message's sanitized HTML as a document of its own, for the sandboxed frame."""
    found = thread_selectors.message_get(organization=request.organization, pk=message)
    remote = request.GET.get("remote") == "1"
    if found.html.strip():
        html = restore_remote_images(found.html) if remote else found.html
        html = REMOTE_SRC.sub(f'src="{BLOCKED_IMAGE}"', html)
        html = _inline_images(found, html)
    else:
        html = f'<pre class="text">{escape(found.text or found.visible_text)}</pre>'
    response = render(request, "conversation/body.html", {"body": html})
    response["Content-Security-Policy"] = _body_csp(request, remote=remote)
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-cache"
    return response


@require_GET
@org_view()
def attachment_download(request: HttpRequest, attachment: int) -> HttpResponse:
    found = thread_selectors.attachment_get(organization=request.organization, pk=attachment)
    response = attachment_response(found)
    if response is None:
        return HttpResponse(
            found.omitted_reason or "This attachment's content was not kept.",
            status=410,
            content_type="text/plain; charset=utf-8",
        )
    return response


# --- A new conversation -------------------------------------------------------------------------


@org_view(min_role=Role.AGENT)
def thread_new(request: HttpRequest) -> HttpResponse:
    """An agent writes to a client first, from one of the organization's inboxes."""
    inboxes = list(inboxes_list(organization=request.organization).order_by("created_at", "id"))
    form = {"inbox": str(inboxes[0].pk) if inboxes else "", "to": "", "cc": "", "subject": ""}
    error = ""
    if request.method == "POST":
        form = {name: request.POST.get(name, "") for name in ("inbox", "to", "cc", "subject")}
        form["body"] = request.POST.get("body", "")
        inbox = next((i for i in inboxes if str(i.pk) == form["inbox"]), None)
        try:
            if inbox is None:
                raise TisketError("Choose the inbox to send from.")
            thread, _, _ = thread_start(
                inbox=inbox,
                author=request.membership,
                to=_addresses(form["to"]),
                cc=_addresses(form["cc"]),
                subject=form["subject"],
                body=form["body"],
            )
        except TisketError as exc:
            error = str(exc)
        else:
            flash.success(
                request, f"Conversation {thread.reference} started; the mail is on its way."
            )
            return redirect("thread", org_slug=request.organization.slug, thread=thread.reference)
    elif request.method != "GET":
        return HttpResponse(status=405)
    context = {"nav": "new", "inboxes": inboxes, "form": form, "error": error}
    return render(request, "conversation/new.html", context, status=400 if error else 200)


urlpatterns = [
    path("threads/new/", thread_new, name="thread-new"),
    path("threads/<str:thread>/", thread_page, name="thread"),
    path("threads/<str:thread>/reply/", thread_reply, name="thread-reply"),
    path("threads/<str:thread>/presence/", thread_presence, name="thread-presence"),
    path("messages/<int:message>/body/", message_body, name="message-body"),
    path("attachments/<int:attachment>/", attachment_download, name="attachment"),
    path("tickets/<str:ticket>/", ticket_page, name="ticket"),
    path("tickets/<str:ticket>/update/", ticket_update, name="ticket-update"),
    path("tickets/<str:ticket>/notes/", ticket_note, name="ticket-note"),
    path(
        "tickets/<str:ticket>/macros/<int:macro>/apply/",
        ticket_macro_apply,
        name="ticket-macro-apply",
    ),
]
