"""A client's conversation page and what its forms do, however the client came in.

The signed link of our mail (tickets.client_pages) and the client portal
(tickets.portal) both show a conversation with these functions and take its
forms' posts through them: the reply goes into the inbound pipeline as if
mailed, closing and reopening set the conversation's status, a rating is the
ticket's CSAT. Only where the forms post (PageUrls) differs.
"""

from dataclasses import dataclass, field

from django.contrib import messages as flash
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from threads.client_access import (
    MAX_REPLY_CHARS,
    ClientAccess,
    ClientReplyError,
    client_file_token,
    client_form_nonce,
    client_page_written,
)
from threads.models import Attachment, InboundMail, Message, Thread
from threads.outbound import body_html
from threads.portal import client_messages_read
from tickets import csat
from tickets.client_brand import client_brand
from tickets.client_timeline import client_timeline
from tickets.intake import client_reply_send
from tickets.models import Rating, Ticket, TicketThread
from tickets.services import conversation_set_status
from tisket.errors import ConflictError, TisketError
from tisket.lib.addresses import address_normalize

# What a client is told of a status: the same words the desk sees, so that a client and an
# agent talking about one conversation name its status alike.
STATUS_LABELS = {**dict(Thread.Status.choices), **dict(Ticket.Status.choices)}
DONE = {"resolved", "closed"}
# The files input of the reply and new-request forms.
FILES_FIELD = "files"


def markdown_preview(request: HttpRequest) -> HttpResponse:
    """A client's message as it will show: their Markdown through the desk's sanitizing renderer."""
    body = request.POST.get("body", "")[:MAX_REPLY_CHARS]
    html = body_html(body.strip()) if body.strip() else ""
    return render(request, "client/_preview.html", {"html": html})


def conversation_ticket(thread: Thread) -> Ticket | None:
    link = TicketThread.objects.select_related("ticket").filter(thread=thread).first()
    return link.ticket if link is not None else None


def conversation_state(thread: Thread, ticket: Ticket | None) -> str:
    return ticket.status if ticket is not None else thread.status


def uploaded_files(request: HttpRequest) -> list[tuple[str, bytes]]:
    """The files of a client's form, as (name as given, bytes); typed later by their content."""
    return [(f.name or "", f.read()) for f in request.FILES.getlist(FILES_FIELD)]


@dataclass
class ShownMessage:
    pk: int
    sender: str
    ours: bool
    yours: bool
    at: object
    text: str
    full_text: str
    html: str = ""
    attachments: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class PageUrls:
    """Where the forms of a client's conversation page post: the signed link's or the portal's."""

    page: str
    reply: str
    close: str
    reopen: str
    rate: str
    preview: str = ""
    read: str = ""  # the browser posts here once the page has been shown a moment


def _file_url(access: ClientAccess, attachment: Attachment) -> str:
    token = client_file_token(access=access, attachment_id=attachment.pk)
    return reverse("client:file", kwargs={"token": token, "name": attachment.filename})


def client_messages_shown(access: ClientAccess) -> list[ShownMessage]:
    """The thread's public messages, oldest first: the mail both sides exchanged.

    Internal notes live on tickets and never come here. Inbound automatic mail
    (bounces, out-of-office replies) is left out: noise, not conversation. The
    desk's messages are its agents' Markdown, rendered as the agent's view and
    mail render it (sanitized by nh3); a client's mail is shown as its text, and what they
    wrote on these pages as the Markdown it is (the forms' preview shows it so).
    """
    thread = access.thread
    rows = (
        Message.objects.filter(thread=thread)
        .exclude(Q(direction=Message.Direction.INBOUND) & ~Q(automated_reason=""))
        .prefetch_related(
            Prefetch(
                "attachments",
                queryset=Attachment.objects.only("message_id", "filename", "file", "size"),
            )
        )
        .only(
            "direction",
            "from_email",
            "from_name",
            "text",
            "visible_text",
            "created_at",
            "thread_id",
            "message_id",
        )
        .order_by("created_at", "id")
    )
    desk = thread.inbox.sender_name
    shown = []
    for message in rows:
        ours = message.direction == Message.Direction.OUTBOUND
        markdown = ours or client_page_written(message)
        text = (message.visible_text or message.text).strip()
        full = message.text.strip()
        shown.append(
            ShownMessage(
                pk=message.pk,
                sender=desk if ours else (message.from_name or message.from_email),
                ours=ours,
                yours=not ours and address_normalize(message.from_email) == access.email,
                at=message.created_at,
                text=text,
                full_text=full if full and full != text and not markdown else "",
                html=body_html(text) if markdown else "",
                attachments=[
                    (a.filename, _file_url(access, a) if a.file else "")
                    for a in message.attachments.all()
                ],
            )
        )
    return shown


def conversation_page(
    request: HttpRequest,
    access: ClientAccess,
    urls: PageUrls,
    *,
    status: int = 200,
    reply_body: str = "",
    reply_error: str = "",
    rating_error: str = "",
    extra: dict | None = None,
) -> HttpResponse:
    """The conversation as its client sees it.

    Opening it marks nothing: mail scanners open every link of a mail. The page, shown
    in a browser, posts to urls.read a moment later (conversation_read).
    """
    thread = access.thread
    ticket = conversation_ticket(thread)
    state = conversation_state(thread, ticket)
    rating = None
    can_rate = ticket is not None and ticket.status in DONE
    if can_rate:
        rating = Rating.objects.filter(ticket=ticket, resolution=ticket.reopen_count).first()
    context = {
        "access": access,
        "thread": thread,
        "desk": thread.inbox.sender_name,
        "tz": thread.organization.timezone,
        "shown": client_messages_shown(access),
        "timeline": client_timeline(thread=thread, ticket=ticket),
        "state": state,
        "state_label": STATUS_LABELS.get(state, state),
        # A colleague's reading is no receipt: the desk would take it for the client's.
        "marks_read": bool(urls.read) and not access.colleague,
        "can_close": state not in DONE and not access.colleague,
        "can_reopen": state == "resolved" and not access.colleague,
        "can_reply": thread.status != Thread.Status.CLOSED,
        "can_rate": can_rate and rating is None and not access.colleague,
        "rating": rating,
        "scores": [(1, "Poor"), (2, "Fair"), (3, "Good"), (4, "Very good"), (5, "Excellent")],
        "urls": urls,
        "nonce": client_form_nonce(),
        "reply_body": reply_body,
        "reply_error": reply_error,
        "rating_error": rating_error,
        "brand": client_brand(organization=thread.organization),
        **(extra or {}),
    }
    return render(request, "client/thread.html", context, status=status)


def client_page_as_seen(request: HttpRequest, *, view) -> HttpResponse:
    """The client's page of a view-as-client session: what they see, without a form, under a banner.

    Nothing is marked read: a member looked, not the client.

    The same context as the client's own page, so it renders exactly as theirs;
    `read_only` hides every form and `viewing` draws the banner.
    """
    thread = view.thread
    access = ClientAccess(thread=thread, email=view.client_email, name="")
    ticket = conversation_ticket(thread)
    state = conversation_state(thread, ticket)
    context = {
        "access": access,
        "thread": thread,
        "desk": thread.inbox.sender_name,
        "tz": thread.organization.timezone,
        "shown": client_messages_shown(access),
        "timeline": client_timeline(thread=thread, ticket=ticket),
        "state": state,
        "state_label": STATUS_LABELS.get(state, state),
        "rating": Rating.objects.filter(ticket=ticket, resolution=ticket.reopen_count).first()
        if ticket is not None and ticket.status in DONE
        else None,
        "read_only": True,
        "viewing": view,
        "brand": client_brand(organization=thread.organization),
    }
    return render(request, "client/thread.html", context)


# --- Writing --------------------------------------------------------------------


def _back(urls: PageUrls, anchor: str = "") -> HttpResponse:
    return redirect(f"{urls.page}#{anchor}" if anchor else urls.page)


def conversation_read(
    request: HttpRequest, access: ClientAccess, urls: PageUrls, extra: dict | None = None
) -> HttpResponse:
    """The client's browser showed the conversation: the desk's replies are read (204).

    The first reading counts; a colleague's reading is none.
    """
    if not access.colleague:
        client_messages_read(thread=access.thread, email=access.email)
    return HttpResponse(status=204)


def conversation_reply(
    request: HttpRequest, access: ClientAccess, urls: PageUrls, *, extra: dict | None = None
) -> HttpResponse:
    """The client's reply, with files: into the pipeline as if mailed."""
    body = request.POST.get("body", "")
    try:
        result = client_reply_send(
            access=access,
            body=body,
            nonce=request.POST.get("nonce", ""),
            files=uploaded_files(request),
        )
    except ClientReplyError as exc:
        return conversation_page(
            request, access, urls, status=400, reply_body=body, reply_error=str(exc), extra=extra
        )
    outcome = result.inbound.status
    if outcome in (InboundMail.Status.ACCEPTED, InboundMail.Status.DUPLICATE):
        if result.thread is not None and result.thread.pk != access.thread.pk:
            flash.info(request, "Your message started a new conversation; we answer by email.")
            return _back(urls)
        flash.success(request, "Your message was sent. We will answer here and by email.")
        return _back(urls, f"m{result.message.pk}" if result.message is not None else "reply")
    if outcome == InboundMail.Status.QUARANTINED:
        flash.info(request, "Your message was received and is waiting for review by the team.")
        return _back(urls)
    # Our fault (failed) or an address that no longer routes: the raw mail is kept.
    return conversation_page(
        request,
        access,
        urls,
        status=503,
        reply_body=body,
        reply_error="We could not take your message just now. Please try again in a few "
        "minutes, or reply to our last email.",
        extra=extra,
    )


def _not_theirs(request: HttpRequest) -> HttpResponse:
    # A colleague's reply is reviewed by the desk; resolving, reopening and rating are
    # the client's own word, with no one to review them.
    context = {
        "heading": "Only the client decides this",
        "text": "You see this request as your company's: the person who wrote it resolves, "
        "reopens or rates it.",
        "howto": False,
    }
    return render(request, "client/notice.html", context, status=403)


def conversation_close(
    request: HttpRequest, access: ClientAccess, urls: PageUrls, *, extra: dict | None = None
) -> HttpResponse:
    if access.colleague:
        return _not_theirs(request)
    thread = access.thread
    ticket = conversation_ticket(thread)
    if conversation_state(thread, ticket) in DONE:
        flash.info(request, "This conversation is already closed.")
    else:
        conversation_set_status(
            thread=thread, ticket=ticket, status=Ticket.Status.RESOLVED, actor=None
        )
        flash.success(request, "Thank you, we marked your request as resolved.")
    return _back(urls)


def conversation_reopen(
    request: HttpRequest, access: ClientAccess, urls: PageUrls, *, extra: dict | None = None
) -> HttpResponse:
    if access.colleague:
        return _not_theirs(request)
    thread = access.thread
    ticket = conversation_ticket(thread)
    state = conversation_state(thread, ticket)
    if state == "closed":
        flash.info(request, "This conversation is closed for good; write to us to start anew.")
    elif state != "resolved":
        flash.info(request, "This conversation is open already.")
    else:
        conversation_set_status(thread=thread, ticket=ticket, status=Ticket.Status.OPEN, actor=None)
        flash.success(request, "We reopened your request. Tell us what is still wrong below.")
    return _back(urls, "reply")


def conversation_rate(
    request: HttpRequest, access: ClientAccess, urls: PageUrls, *, extra: dict | None = None
) -> HttpResponse:
    if access.colleague:
        return _not_theirs(request)
    ticket = conversation_ticket(access.thread)
    if ticket is None or ticket.status not in DONE:
        flash.info(request, "You can rate our help once your request is resolved.")
        return _back(urls)
    try:
        score = int(request.POST.get("score", ""))
    except ValueError:
        score = 0
    try:
        csat.csat_record(
            token=csat.csat_token(ticket=ticket),
            score=score,
            comment=request.POST.get("comment", ""),
        )
    except ConflictError:
        flash.info(request, "You rated this already; thank you. One rating per resolution.")
        return _back(urls, "rating")
    except TisketError:
        return conversation_page(
            request, access, urls, status=400, rating_error="Choose from 1 to 5 stars.", extra=extra
        )
    flash.success(request, "Thank you for your rating!")
    return _back(urls, "rating")
