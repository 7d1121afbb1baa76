"""The conversation's pages and what agents do on them: reply, note, side panel, macros,
presence."""

from django.contrib import messages as flash
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from threads import outbound as thread_outbound
from threads import selectors as thread_selectors
from threads.models import Message, Thread
from threads.presence import presence_others, presence_touch
from tickets import macros, selectors, services, visibility, workflows
from tickets.models import Macro, Queue, Ticket
from tickets.queues import thread_read_mark
from tickets.views.conversation.common import (
    THREAD_NEXT_STATUSES,
    TICKET_NEXT_STATUSES,
    addresses_parse,
    thread_or_404,
    ticket_links,
    ticket_or_404,
)
from tickets.views.conversation.page import (
    conversation_render,
    panel_context,
)
from tisket.errors import TisketError
from tisket.lib.params import id_param
from tisket.models import Membership, Role
from tisket.views import org_view

# --- Pages --------------------------------------------------------------------------------------


@require_GET
@org_view()
def thread_page(request: HttpRequest, thread: str) -> HttpResponse:
    found = thread_or_404(request, thread)
    ticket = selectors.ticket_for_thread(organization=request.organization, thread_id=found.pk)
    if ticket is not None:
        ticket.organization = request.organization
    return conversation_render(request, thread=found, ticket=ticket)


@require_GET
@org_view()
def ticket_page(request: HttpRequest, ticket: str) -> HttpResponse:
    """The ticket's first conversation; a ticket without one shows its notes and panel alone."""
    found = ticket_or_404(request, ticket)
    links = ticket_links(found)
    if links:
        return redirect(
            "tickets:thread", org_slug=request.organization.slug, thread=links[0].thread.reference
        )
    return conversation_render(request, thread=None, ticket=found)


def _back(request: HttpRequest, *, thread: Thread | None, ticket: Ticket | None, anchor: str = ""):
    slug = request.organization.slug
    if thread is not None:
        url = reverse("tickets:thread", kwargs={"org_slug": slug, "thread": thread.reference})
    else:
        url = reverse("tickets:ticket", kwargs={"org_slug": slug, "ticket": ticket.reference})
    return redirect(f"{url}#{anchor}" if anchor else url)


@require_http_methods(["GET", "POST"])
@org_view(min_role=Role.AGENT)
def thread_reply(request: HttpRequest, thread: str) -> HttpResponse:
    """Send the agent's reply, unless a client message arrived that the agent has not seen.

    A refused reply is drawn at this address; reloading it (GET) comes back to the page."""
    found = thread_or_404(request, thread)
    if request.method == "GET":
        return _back(request, thread=found, ticket=None, anchor="reply")
    ticket = selectors.ticket_for_thread(organization=request.organization, thread_id=found.pk)
    if ticket is not None:
        ticket.organization = request.organization
    draft = {
        "body": request.POST.get("body", ""),
        "cc": request.POST.get("cc", ""),
        "status": request.POST.get("status", ""),
        "macro": request.POST.get("macro", ""),
    }
    seen = request.POST.get("seen", "")
    seen_id = id_param(seen) or 0
    key = request.POST.get("idempotency_key", "")

    def again(*, error: str = "", warning: str = "", status: int = 400, new_since=None):
        return conversation_render(
            request,
            thread=found,
            ticket=ticket,
            draft=draft,
            error=error,
            warning=warning,
            new_since=new_since,
            status=status,
        )

    # A form sent again (after an error page, a lost answer) sees its reply, not a warning
    # about the client's messages that arrived since the first time.
    sent = thread_selectors.message_for_idempotency_key(organization=request.organization, key=key)
    if sent is not None and sent.thread_id == found.pk:
        return _reply_sent(request, thread=found, ticket=ticket, message=sent)
    if thread_selectors.inbound_messages_after(thread=found, message_id=seen_id).exists():
        return again(
            warning="A new message arrived; read it before sending. Your reply was not sent.",
            new_since=seen_id,
            status=409,
        )
    if request.POST.get("resolve"):
        return _resolve_with_summary(request, thread=found, ticket=ticket, again=again)
    new_status = request.POST.get("status", "") if request.POST.get("set_status") else ""
    allowed = TICKET_NEXT_STATUSES if ticket is not None else THREAD_NEXT_STATUSES
    if new_status and new_status not in allowed:
        return again(error=f"Unknown status “{new_status}”.")
    pending = None
    if draft["macro"] and ticket is not None:
        pending = Macro.objects.filter(
            organization=request.organization, pk=id_param(draft["macro"]) or 0
        ).first()
        if pending is None:
            return again(error="The macro of this reply no longer exists; nothing was sent.")
    files = request.FILES.getlist("attachments")
    try:
        with transaction.atomic():
            message, _ = services.thread_reply_send(
                thread=found,
                author=request.membership,
                body=draft["body"],
                cc=addresses_parse(draft["cc"]),
                attachments=[(f.name, f.read()) for f in files],
                idempotency_key=key,
            )
            if pending is not None:
                macros.macro_apply(macro=pending, ticket=ticket, actor=request.membership)
            _set_status(request, thread=found, ticket=ticket, status=new_status)
    except thread_outbound.ReplyAlreadySent as repeated:
        return _reply_sent(request, thread=found, ticket=ticket, message=repeated.message)
    except ObjectDoesNotExist:
        return again(error="The macro names a queue or a member that no longer exists.")
    except TisketError as exc:
        return again(error=str(exc), status=exc.status_code)
    return _reply_sent(
        request, thread=found, ticket=ticket, message=message, status_changed=bool(new_status)
    )


def _resolve_with_summary(request: HttpRequest, *, thread: Thread, ticket: Ticket | None, again):
    """Resolve the conversation; the reply box's text, if any, is the summary the client gets."""
    try:
        services.conversation_set_status(
            thread=thread,
            ticket=ticket,
            status=Ticket.Status.RESOLVED,
            actor=request.membership,
            summary=request.POST.get("body", ""),
        )
    except TisketError as exc:
        return again(error=str(exc), status=exc.status_code)
    flash.success(request, "Resolved. The client is told as this inbox says.")
    back = _back(request, thread=thread, ticket=ticket)
    if request.headers.get("X-Reply-Fetch") == "1":
        return HttpResponse(status=204, headers={"X-Location": back["Location"]})
    return back


def _reply_sent(
    request: HttpRequest,
    *,
    thread: Thread,
    ticket: Ticket | None,
    message: Message,
    status_changed: bool = False,
) -> HttpResponse:
    presence_touch(
        thread_id=thread.pk,
        membership_id=request.membership.pk,
        name=request.user.get_full_name(),
        typing=False,
    )
    flash.success(request, "Reply sent." + (" Status changed." if status_changed else ""))
    back = _back(request, thread=thread, ticket=ticket, anchor=f"message-{message.pk}")
    if request.headers.get("X-Reply-Fetch") == "1":
        # The page's script sent the form: a redirect would lose the anchor, so say where to go.
        return HttpResponse(status=204, headers={"X-Location": back["Location"]})
    return back


@require_POST
@org_view(min_role=Role.AGENT)
def message_send_again(request: HttpRequest, message: int) -> HttpResponse:
    """Queue again an agent's mail that failed to leave or bounced."""
    found = thread_selectors.message_get(
        organization=request.organization,
        pk=message,
        scope=visibility.thread_scope(request.membership),
    )
    try:
        sent = thread_outbound.message_send_again(message=found, actor=request.membership)
    except TisketError as error:
        flash.error(request, str(error))
    else:
        flash.success(request, "Queued to be sent again.")
        bounced = [
            a
            for a in [*sent.to, *sent.cc]
            if thread_outbound.address_suppressed(organization_id=sent.organization_id, address=a)
        ]
        if bounced:
            flash.warning(
                request,
                f"{', '.join(bounced)} bounced hard or complained lately: "
                "the mail may well bounce again.",
            )
    return _back(request, thread=found.thread, ticket=None, anchor=f"message-{found.pk}")


def _set_status(
    request: HttpRequest, *, thread: Thread | None, ticket: Ticket | None, status: str
) -> None:
    if status and (thread is not None or ticket is not None):
        services.conversation_set_status(
            thread=thread, ticket=ticket, status=status, actor=request.membership
        )


def _thread_of_ticket(request: HttpRequest, ticket: Ticket, reference: str) -> Thread | None:
    """The conversation the agent wrote from, if it is one of the ticket's; else its first."""
    links = ticket_links(ticket)
    for link in links:
        if link.thread.reference == reference.upper():
            return thread_or_404(request, reference)
    return thread_or_404(request, links[0].thread.reference) if links else None


@require_POST
@org_view(min_role=Role.AGENT)
def ticket_note(request: HttpRequest, ticket: str) -> HttpResponse:
    """Add an internal note to the ticket (and set its status, when asked)."""
    found = ticket_or_404(request, ticket)
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
        return conversation_render(
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
    ticket = ticket_or_404(request, ticket.reference)  # fresh: tags, links and counts as saved
    thread = _thread_of_ticket(request, ticket, request.POST.get("thread", ""))
    context = panel_context(request, ticket=ticket, thread=thread) | {"panel_error": error}
    return render(request, "conversation/_side_panel.html", context, status=status)


def _member(request: HttpRequest, value: str) -> Membership | None:
    if not value:
        return None
    member = (
        Membership.objects.filter(organization=request.organization, pk=value)
        .select_related("user")
        .first()
        if id_param(value) is not None
        else None
    )
    if member is None:
        raise TisketError("No such member.")
    return member


@require_POST
@org_view(min_role=Role.AGENT)
def ticket_update(request: HttpRequest, ticket: str) -> HttpResponse:
    """Change one or more of the ticket's fields from the side panel."""
    found = ticket_or_404(request, ticket)
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
                    if id_param(queue) is not None
                    else None
                )
                if queue and changes["queue"] is None:
                    raise TisketError("No such queue.")
            if "tags" in data:
                changes["tags"] = [t for t in data["tags"].split(",") if t.strip()]
            if "category" in data:
                changes["category"] = data["category"]
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
    """Put a macro in the reply box (the page's way without script): its text in the reply, its
    actions pending until the reply is sent. Nothing changes on the ticket here."""
    found = ticket_or_404(request, ticket)
    chosen = Macro.objects.filter(organization=request.organization, pk=macro).first()
    if chosen is None:
        raise Http404("No such macro.")
    thread = _thread_of_ticket(request, found, request.POST.get("thread", ""))
    slug = request.organization.slug
    if thread is None:
        return redirect("tickets:ticket", org_slug=slug, ticket=found.reference)
    url = reverse("tickets:thread", kwargs={"org_slug": slug, "thread": thread.reference})
    return redirect(f"{url}?macro={chosen.pk}&apply=1#reply")


@require_POST
@org_view()
def thread_presence(request: HttpRequest, thread: str) -> HttpResponse:
    """The heartbeat of an open conversation: note this member, answer with the others.

    Any member may send it: viewing is not a write, and a viewer is worth knowing about too.
    """
    found = thread_or_404(request, thread)
    typing = request.POST.get("typing") == "1" and request.membership.has_role(Role.AGENT)
    presence_touch(
        thread_id=found.pk,
        membership_id=request.membership.pk,
        name=request.user.get_full_name(),
        typing=typing,
    )
    # The page says when it was drawn: what came after stays unread until it is seen.
    try:
        seen = parse_datetime(request.POST.get("seen", "")[:40])
    except ValueError:  # well formed, but no such moment
        seen = None
    if seen is not None and seen.tzinfo is not None:
        thread_read_mark(membership=request.membership, thread_id=found.pk, seen=seen)
    others = presence_others(thread_id=found.pk, membership_id=request.membership.pk)
    return render(request, "conversation/_presence.html", {"presence": others})
