"""An open conversation stays current without a reload, and keeps the agent's unsent reply.

The page asks every 10 seconds for what changed since it was drawn (a GET with the version it
holds in If-None-Match). Polling, not server-sent events: the site runs under sync workers
(gunicorn, or uvicorn's thread pool), where an open stream per page would hold a worker for as
long as the page is open; a short GET works behind any proxy, costs two indexed queries, and
answers 304 with no body when nothing changed, which is almost always. Ten seconds late is soon
enough for a mail conversation. What changed comes back as HTML fragments: the new messages and
notes, the side panel and the header line. The reply box is never part of it.
"""

from django.db.models import Max
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from threads import selectors as thread_selectors
from tickets import drafts, selectors
from tickets.models import Ticket
from tickets.views.conversation.bodies import inline_image
from tickets.views.conversation.common import live_version, thread_or_404
from tickets.views.conversation.page import MessageView, NoteView, panel_context
from tisket.errors import TisketError
from tisket.lib.params import id_param
from tisket.models import Role
from tisket.views import org_view


@require_GET
@never_cache
@org_view()
def thread_live(request: HttpRequest, thread: str) -> HttpResponse:
    """304 while nothing changed; else the new entries, the side panel and the header line."""
    found = thread_or_404(request, thread)
    row = (
        Ticket.objects.filter(organization=request.organization, thread_links__thread_id=found.pk)
        .annotate(last_event=Max("events__id"))
        .values_list("status", "last_event")
        .first()
    )
    status, last_event = row or ("", None)
    version = live_version(thread=found, ticket_status=status, last_event_id=last_event)
    if request.headers.get("If-None-Match") == version:
        return HttpResponseNotModified(headers={"ETag": version})
    ticket = selectors.ticket_for_thread(organization=request.organization, thread_id=found.pk)
    if ticket is not None:
        ticket.organization = request.organization
    after_message = id_param(request.GET.get("after_message", "")) or 0
    after_note = id_param(request.GET.get("after_note", "")) or 0
    entries: list = []
    for message in thread_selectors.messages_list(thread=found).filter(pk__gt=after_message):
        shown = [
            a
            for a in message.attachments.all()
            if not (inline_image(a) and f"cid:{a.content_id}" in message.html)
        ]
        entries.append(MessageView(message=message, is_new=True, attachments=shown))
    if ticket is not None:
        notes = selectors.notes_list(ticket=ticket).filter(pk__gt=after_note)
        entries.extend(NoteView(note=note, is_new=True) for note in notes)
    entries.sort(key=lambda e: e.at)
    context = panel_context(request, ticket=ticket, thread=found) | {
        "new_entries": entries,
        "version": version,
    }
    response = render(request, "conversation/_live.html", context)
    response["ETag"] = version
    return response


@require_POST
@org_view(min_role=Role.AGENT)
def thread_draft(request: HttpRequest, thread: str) -> HttpResponse:
    """Keep the reply the agent is typing (the page sends it a moment after they stop)."""
    found = thread_or_404(request, thread)
    try:
        draft = drafts.reply_draft_autosave(
            thread=found,
            owner=request.membership,
            body=request.POST.get("body", ""),
            cc=request.POST.get("cc", ""),
        )
    except TisketError as exc:
        return HttpResponse(str(exc), status=exc.status_code, content_type="text/plain")
    return HttpResponse(
        "saved" if draft is not None else "cleared", content_type="text/plain; charset=utf-8"
    )
