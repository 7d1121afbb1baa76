"""Client pages: a conversation opened from the signed link of our mail, without logging in.

The link is the credential (threads.client_access). The client sees the public
messages of their thread, replies through the inbound pipeline (exactly as if
they had mailed), closes or reopens the conversation, and rates a resolution.
Tickets are orchestrated here, an interface module, so threads' services
import no tickets. Nothing is cached or indexed, and no address leaks to other
sites in a Referer header.
"""

import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps

from django.contrib import messages as flash
from django.core.cache import cache
from django.db import transaction
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.decorators import decorator_from_middleware
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from kb.deflection import answered_read, conversation_resolved_by
from kb.services import KbError
from threads.client_access import (
    ClientAccess,
    ClientLinkError,
    ClientLinkGoneError,
    ClientReplyError,
    client_link_read,
)
from threads.models import Attachment, InboundMail, Message, Thread
from tickets import csat
from tickets.intake import client_reply_send
from tickets.models import Rating, Ticket, TicketThread
from tickets.services import conversation_set_status
from tisket.errors import ConflictError, TisketError

logger = logging.getLogger(__name__)

# Writes per client and thread in a window: generous for a person, a wall for a script.
RATE_WINDOW = 600
RATE_LIMITS = {"GET": 300, "POST": 30}

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

# What a client is told of a status: the same words the desk sees, so that a client and an
# agent talking about one conversation name its status alike.
STATUS_LABELS = {**dict(Thread.Status.choices), **dict(Ticket.Status.choices)}
DONE = {"resolved", "closed"}


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store, private"
    response["Pragma"] = "no-cache"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Content-Security-Policy"] = CSP
    return response


def _notice(request: HttpRequest, *, status: int, heading: str, text: str) -> HttpResponse:
    # Says nothing of the thread or its organization: the link may be anyone's guess.
    context = {"heading": heading, "text": text, "howto": status != 429}
    return render(request, "client/notice.html", context, status=status)


def _over_limit(access: ClientAccess, method: str) -> bool:
    limit = RATE_LIMITS.get(method, RATE_LIMITS["POST"])
    who = hashlib.sha256(f"{access.thread.pk}:{access.email}".encode()).hexdigest()[:24]
    key = f"tisket:client-page:{method}:{who}"
    try:
        if cache.add(key, 1, timeout=RATE_WINDOW):
            return False
        try:
            return cache.incr(key) > limit
        except ValueError:  # expired between the two calls
            cache.add(key, 1, timeout=RATE_WINDOW)
            return False
    except Exception as error:  # the cache's own connection errors, whatever the backend
        # The limit protects the service; refusing the client would be the outage.
        logger.warning("client page limit skipped, the cache failed: %s", error)
        return False


class _NoReferrerCsrf(CsrfViewMiddleware):
    """Django's CSRF check, for forms of pages that send no Referer.

    Under Referrer-Policy: no-referrer, browsers post a page's forms with
    `Origin: null` and no Referer, which the standard check refuses. Here a
    null origin passes that first check; the token (form against cookie)
    still decides, and the SameSite cookie never travels with another site's post.
    """

    def _origin_verified(self, request: HttpRequest) -> bool:
        return request.META.get("HTTP_ORIGIN") == "null" or super()._origin_verified(request)


_csrf_protect = decorator_from_middleware(_NoReferrerCsrf)
# The same check for the forms of a member's view-as-client page, which sends no Referer either.
csrf_protect_no_referrer = _csrf_protect


def client_post(view: Callable) -> Callable:
    """A POST-only action of the client's page, CSRF-checked by _NoReferrerCsrf."""
    return csrf_exempt(client_view(require_POST(_csrf_protect(view))))


def client_view(view: Callable) -> Callable:
    """Open the link (a friendly 404/410 page when it cannot be), rate-limit, keep it private."""

    @wraps(view)
    def wrapper(request: HttpRequest, token: str) -> HttpResponse:
        try:
            access = client_link_read(token=token)
        except ClientLinkGoneError:
            response = _notice(
                request,
                status=410,
                heading="This link is no longer valid",
                text="Links to a conversation expire after a while, and the support team "
                "may withdraw them.",
            )
        except ClientLinkError:
            response = _notice(
                request,
                status=404,
                heading="This link is not valid",
                text="It may have been copied incompletely from the email.",
            )
        else:
            if _over_limit(access, request.method):
                response = _notice(
                    request,
                    status=429,
                    heading="Please slow down",
                    text="This conversation received many requests in a short time. "
                    "Wait a few minutes, then try again.",
                )
            else:
                response = view(request, access, token)
        return _private(response)

    return wrapper


# --- Reading --------------------------------------------------------------------


@dataclass
class ShownMessage:
    pk: int
    sender: str
    ours: bool
    yours: bool
    at: object
    text: str
    full_text: str
    attachments: list[str] = field(default_factory=list)


def _ticket(thread: Thread) -> Ticket | None:
    link = TicketThread.objects.select_related("ticket").filter(thread=thread).first()
    return link.ticket if link is not None else None


def _messages(access: ClientAccess) -> list[ShownMessage]:
    """The thread's public messages, oldest first: the mail both sides exchanged.

    Internal notes live on tickets and never come here. Inbound automatic mail
    (bounces, out-of-office replies) is left out: noise, not conversation.
    """
    thread = access.thread
    rows = (
        Message.objects.filter(thread=thread)
        .exclude(Q(direction=Message.Direction.INBOUND) & ~Q(automated_reason=""))
        .prefetch_related(
            Prefetch("attachments", queryset=Attachment.objects.only("message_id", "filename"))
        )
        .only(
            "direction",
            "from_email",
            "from_name",
            "text",
            "visible_text",
            "created_at",
            "thread_id",
        )
        .order_by("created_at", "id")
    )
    desk = thread.inbox.sender_name
    shown = []
    for message in rows:
        ours = message.direction == Message.Direction.OUTBOUND
        text = (message.visible_text or message.text).strip()
        full = message.text.strip()
        shown.append(
            ShownMessage(
                pk=message.pk,
                sender=desk if ours else (message.from_name or message.from_email),
                ours=ours,
                yours=not ours and message.from_email == access.email,
                at=message.created_at,
                text=text,
                full_text=full if full and full != text else "",
                attachments=[a.filename for a in message.attachments.all()],
            )
        )
    return shown


def _state(thread: Thread, ticket: Ticket | None) -> str:
    return ticket.status if ticket is not None else thread.status


def _page(
    request: HttpRequest,
    access: ClientAccess,
    token: str,
    *,
    status: int = 200,
    reply_body: str = "",
    reply_error: str = "",
    rating_error: str = "",
) -> HttpResponse:
    thread = access.thread
    ticket = _ticket(thread)
    state = _state(thread, ticket)
    rating = None
    can_rate = ticket is not None and ticket.status in DONE
    if can_rate:
        rating = Rating.objects.filter(ticket=ticket, resolution=ticket.reopen_count).first()
    context = {
        "access": access,
        "thread": thread,
        "desk": thread.inbox.sender_name,
        "tz": thread.organization.timezone,
        "shown": _messages(access),
        "state": state,
        "state_label": STATUS_LABELS.get(state, state),
        "can_close": state not in DONE,
        "can_reopen": state == "resolved",
        "can_reply": thread.status != Thread.Status.CLOSED,
        "can_rate": can_rate and rating is None,
        "rating": rating,
        "scores": [(1, "Poor"), (2, "Fair"), (3, "Good"), (4, "Very good"), (5, "Excellent")],
        "token": token,
        "nonce": secrets.token_urlsafe(16),
        "reply_body": reply_body,
        "reply_error": reply_error,
        "rating_error": rating_error,
    }
    return render(request, "client/thread.html", context, status=status)


def client_page_as_seen(request: HttpRequest, *, view) -> HttpResponse:
    """The client's page of a view-as-client session: what they see, without a form, under a banner.

    The same context as the client's own page, so it renders exactly as theirs;
    `read_only` hides every form and `viewing` draws the banner.
    """
    thread = view.thread
    access = ClientAccess(thread=thread, email=view.client_email, name="")
    ticket = _ticket(thread)
    state = _state(thread, ticket)
    context = {
        "access": access,
        "thread": thread,
        "desk": thread.inbox.sender_name,
        "tz": thread.organization.timezone,
        "shown": _messages(access),
        "state": state,
        "state_label": STATUS_LABELS.get(state, state),
        "rating": Rating.objects.filter(ticket=ticket, resolution=ticket.reopen_count).first()
        if ticket is not None and ticket.status in DONE
        else None,
        "read_only": True,
        "viewing": view,
    }
    return _private(render(request, "client/thread.html", context))


@client_view
@require_safe
def client_thread(request: HttpRequest, access: ClientAccess, token: str) -> HttpResponse:
    return _page(request, access, token)


# --- Writing --------------------------------------------------------------------


def _back(token: str, anchor: str = "") -> HttpResponse:
    url = reverse("client:thread", kwargs={"token": token})
    return redirect(f"{url}#{anchor}" if anchor else url)


@client_post
def client_thread_reply(request: HttpRequest, access: ClientAccess, token: str) -> HttpResponse:
    body = request.POST.get("body", "")
    try:
        result = client_reply_send(access=access, body=body, nonce=request.POST.get("nonce", ""))
    except ClientReplyError as exc:
        return _page(request, access, token, status=400, reply_body=body, reply_error=str(exc))
    outcome = result.inbound.status
    if outcome in (InboundMail.Status.ACCEPTED, InboundMail.Status.DUPLICATE):
        if result.thread is not None and result.thread.pk != access.thread.pk:
            flash.info(request, "Your message started a new conversation; we answer by email.")
            return _back(token)
        flash.success(request, "Your message was sent. We will answer here and by email.")
        return _back(token, f"m{result.message.pk}" if result.message is not None else "reply")
    if outcome == InboundMail.Status.QUARANTINED:
        flash.info(request, "Your message was received and is waiting for review by the team.")
        return _back(token)
    # Our fault (failed) or an address that no longer routes: the raw mail is kept.
    return _page(
        request,
        access,
        token,
        status=503,
        reply_body=body,
        reply_error="We could not take your message just now. Please try again in a few "
        "minutes, or reply to our last email.",
    )


@client_post
def client_thread_close(request: HttpRequest, access: ClientAccess, token: str) -> HttpResponse:
    thread = access.thread
    ticket = _ticket(thread)
    if _state(thread, ticket) in DONE:
        flash.info(request, "This conversation is already closed.")
    else:
        conversation_set_status(
            thread=thread, ticket=ticket, status=Ticket.Status.RESOLVED, actor=None
        )
        flash.success(request, "Thank you, we marked your request as resolved.")
    return _back(token)


@client_post
def client_thread_reopen(request: HttpRequest, access: ClientAccess, token: str) -> HttpResponse:
    thread = access.thread
    ticket = _ticket(thread)
    state = _state(thread, ticket)
    if state == "closed":
        flash.info(request, "This conversation is closed for good; write to us to start anew.")
    elif state != "resolved":
        flash.info(request, "This conversation is open already.")
    else:
        conversation_set_status(thread=thread, ticket=ticket, status=Ticket.Status.OPEN, actor=None)
        flash.success(request, "We reopened your request. Tell us what is still wrong below.")
    return _back(token, "reply")


@client_post
def client_thread_rate(request: HttpRequest, access: ClientAccess, token: str) -> HttpResponse:
    ticket = _ticket(access.thread)
    if ticket is None or ticket.status not in DONE:
        flash.info(request, "You can rate our help once your request is resolved.")
        return _back(token)
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
        return _back(token, "rating")
    except TisketError:
        return _page(request, access, token, status=400, rating_error="Choose from 1 to 5 stars.")
    flash.success(request, "Thank you for your rating!")
    return _back(token, "rating")


@csrf_exempt  # the signed link is the credential, as for the conversation's own page
def client_kb_answered(request: HttpRequest, token: str) -> HttpResponse:
    """ "This answered my question" from an acknowledgement: asks, then resolves on POST."""
    try:
        conversation_id, article_id = answered_read(token=token)
    except KbError as error:
        return _private(
            _notice(request, status=404, heading="This link does not work", text=str(error))
        )
    thread = Thread.objects.select_related("organization").filter(pk=conversation_id).first()
    if thread is None:
        return _private(
            _notice(request, status=404, heading="This link does not work", text="Not found.")
        )
    ticket = _ticket(thread)
    done = _state(thread, ticket) in DONE
    if request.method == "POST" and not done:
        with transaction.atomic():
            conversation_set_status(
                thread=thread, ticket=ticket, status=Ticket.Status.RESOLVED, actor=None
            )
            conversation_resolved_by(
                organization=thread.organization,
                article_id=article_id,
                conversation_id=thread.pk,
            )
        done = True
    elif request.method not in ("GET", "HEAD", "POST"):
        return HttpResponse(status=405)
    context = {"done": done, "asked": request.method == "POST", "subject": thread.subject}
    return _private(render(request, "client/kb_answered.html", context))


app_name = "client"

urlpatterns = [
    path("answered/<str:token>/", client_kb_answered, name="kb-answered"),
    path("<str:token>/", client_thread, name="thread"),
    path("<str:token>/reply/", client_thread_reply, name="thread-reply"),
    path("<str:token>/close/", client_thread_close, name="thread-close"),
    path("<str:token>/reopen/", client_thread_reopen, name="thread-reopen"),
    path("<str:token>/rate/", client_thread_rate, name="thread-rate"),
]
