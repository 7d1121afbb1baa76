"""The conversation page: messages, notes, the side panel and the timeline, assembled."""

import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from sla.models import METRICS
from threads import selectors as thread_selectors
from threads.models import Attachment, Message, Participant, Thread
from threads.presence import presence_others
from tickets import drafts, macros, notifications, selectors, sla
from tickets.categories import categories_list
from tickets.client_views import client_view_allowed
from tickets.models import Queue, Ticket, TicketEvent
from tickets.views.conversation.bodies import inline_image
from tickets.views.conversation.common import (
    ANY_TAG,
    BLOCK_TAG,
    IMAGE_HEIGHT,
    LINE_BREAK,
    SLA_METRIC_LABELS,
    THREAD_NEXT_STATUSES,
    TICKET_NEXT_STATUSES,
    assignees_list,
    client_recipients,
    live_version,
    ticket_links,
)
from tisket.lib.html import REMOTE_IMAGE_PREFIX
from tisket.lib.markdown_text import markdown_html
from tisket.lib.params import id_param
from tisket.models import Role
from tisket.templatetags.tisket_ui import duration_text

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
    def html(self) -> str:
        """The note's Markdown, rendered and sanitized like a reply."""
        return markdown_html(self.note.body)

    @property
    def kind(self) -> str:
        return "note"

    @property
    def at(self) -> datetime:
        return self.note.created_at


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
            text = f"due in {duration_text(seconds, compact=False)}"
        else:
            text = f"breached {duration_text(seconds, compact=False)} ago"
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
    TicketEvent.Kind.DRAFT_SAVED: "left a draft reply",
}


def _override_text(data: dict) -> str:
    new = timezone.localtime(parse_datetime(data["new"])) if data.get("new") else None
    change = (
        f"set the SLA deadline to {new:%d %b %Y, %H:%M %Z}"
        if new
        else "cleared the SLA deadline override"
    )
    return f"{change}: “{data.get('reason', '')}”"


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
    if kind == TicketEvent.Kind.SLA_OVERRIDDEN:
        return _override_text(data)
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
    who = event.actor.user.get_full_name() if event.actor else "Tisket"
    if via := (event.data or {}).get("via"):
        who = f"{who} ({via})"
    return who, text


def _categories(request: HttpRequest, ticket: Ticket) -> list[str]:
    """The organization's categories, and the ticket's own if the list no longer has it."""
    names = list(categories_list(organization=request.organization).values_list("name", flat=True))
    if names and ticket.category and ticket.category not in names:
        names.append(ticket.category)
    return names


def panel_context(request: HttpRequest, *, ticket: Ticket | None, thread: Thread | None) -> dict:
    """What the side panel shows: the ticket's fields, links, people and SLA, or the thread's."""
    now = timezone.now()
    context: dict = {
        "ticket": ticket,
        "thread": thread,
        "can_work": request.membership.has_role(Role.AGENT),
        "can_view_as_client": client_view_allowed(request.membership),
    }
    if ticket is None:
        context["participants"] = list(thread.participants.all()) if thread else []
        context["thread_statuses"] = Thread.Status.choices
        return context
    participants = Participant.objects.filter(thread__ticket_link__ticket=ticket).order_by(
        "created_at", "id"
    )
    seen, people = set(), []
    for person in participants:  # one person across the ticket's threads, in any case
        if person.email.lower() not in seen:
            seen.add(person.email.lower())
            people.append(person)
    events = list(selectors.events_list(ticket=ticket).order_by("created_at", "id"))
    context.update(
        participants=people,
        statuses=Ticket.Status.choices,
        priorities=Ticket.Priority.choices,
        queues=list(Queue.objects.filter(organization=request.organization).order_by("name")),
        categories=_categories(request, ticket),
        assignees=assignees_list(request),
        tags=", ".join(tag.name for tag in ticket.tags.all()),
        linked_threads=[link.thread for link in ticket_links(ticket)],
        children=list(ticket.children.order_by("number")),
        sla_state=sla.sla_state(ticket, now),
        can_override=request.membership.has_role(Role.SUPERVISOR),
        deadlines=_deadlines(ticket, now),
        events=[(event, *_event_line(event)) for event in events],
        ratings=list(ticket.ratings.order_by("-resolution")),
    )
    return context


def conversation_render(
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
    last_message_id = last_note_id = 0
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
        for note in selectors.notes_list(ticket=ticket):
            entries.append(NoteView(note=note))
            last_note_id = max(last_note_id, note.pk)
    entries.sort(key=lambda e: e.at)
    can_work = request.membership.has_role(Role.AGENT)
    macro_list, macro_bodies, macro_pending = [], {}, {}
    if ticket is not None and can_work:
        macro_list = list(selectors.macros_list(organization=request.organization))
        macro_bodies = macros.macros_render(
            macros=macro_list, ticket=ticket, agent=request.membership
        )
        if any(m.actions for m in macro_list):
            queues = dict(
                Queue.objects.filter(organization=request.organization).values_list("pk", "name")
            )
            members = {m.pk: m.user.get_full_name() for m in assignees_list(request)}
            macro_pending = {
                m.pk: macros.macro_pending_text(macro=m, queues=queues, members=members)
                for m in macro_list
            }
    draft = dict(draft or {})
    own_draft = assistant_draft = None
    if thread is not None and can_work:
        own_draft, assistant_draft = drafts.reply_drafts_for(
            thread=thread, owner=request.membership
        )
    if own_draft is not None and not draft.get("body") and not draft.get("cc"):
        # What the agent was typing when they left, as they left it.
        draft.update(body=own_draft.body, cc=own_draft.cc, autosaved_at=own_draft.created_at)
        assistant_draft = None
    elif assistant_draft is not None and not draft.get("body"):
        # An assistant's draft waits in the reply box for an agent to review and send.
        draft["body"] = assistant_draft.body
    else:
        assistant_draft = None
    insert = request.GET.get("macro", "")
    if id_param(insert) in macro_bodies and not draft.get("body"):
        draft["body"] = macro_bodies[int(insert)]
        if request.GET.get("apply") and macro_pending.get(int(insert)):
            draft["macro"] = insert
    # A macro applied in the reply box: its actions wait for the reply to be sent.
    pending_id = id_param(draft.get("macro", ""))
    draft["macro_pending"] = macro_pending.get(pending_id, "") if pending_id else ""
    if not draft["macro_pending"]:
        draft["macro"] = ""
    failed = [e for e in entries if isinstance(e, MessageView) and e.delivery_failed]
    context = {
        "nav": "queue",
        "failed_deliveries": failed,
        "thread": thread,
        "ticket": ticket,
        "entries": entries,
        "last_message_id": last_message_id,
        "last_note_id": last_note_id,
        # Each rendering of the reply box is one submission: sent twice, it is sent once.
        "reply_key": uuid.uuid4().hex,
        "draft": draft,
        "assistant_draft": assistant_draft if can_work else None,
        "tab": "note" if thread is None else (tab if ticket is not None else "reply"),
        "error": error,
        "warning": warning,
        "macros": [(m, macro_bodies[m.pk], macro_pending.get(m.pk, "")) for m in macro_list],
        "next_statuses": (
            [(s.value, s.label) for s in TICKET_NEXT_STATUSES]
            if ticket is not None
            else [(s.value, s.label) for s in THREAD_NEXT_STATUSES]
        ),
        "recipients": client_recipients(request, thread) if thread is not None and can_work else [],
        "can_resolve": thread is not None
        and (ticket.status if ticket is not None else thread.status) not in ("resolved", "closed"),
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
        **panel_context(request, ticket=ticket, thread=thread),
    }
    if thread is not None:
        events = context.get("events") or []
        context["live_version"] = live_version(
            thread=thread,
            ticket_status=ticket.status if ticket is not None else "",
            last_event_id=max((event.pk for event, *_ in events), default=None),
        )
    # Whom the note box offers after "@": the members who work tickets, by handle and name.
    context["mention_people"] = [
        {"handle": notifications.member_handle(m), "name": m.user.get_full_name()}
        for m in context.get("assignees", [])
    ]
    return render(request, "conversation/thread.html", context, status=status)
