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
from collections.abc import Callable
from functools import wraps

from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.decorators import decorator_from_middleware
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from kb.deflection import answered_link_used, answered_read, conversation_resolved_by
from kb.services import KbError
from threads.client_access import (
    ClientAccess,
    ClientLinkError,
    ClientLinkGoneError,
    client_file_read,
    client_link_read,
)
from threads.downloads import attachment_response
from threads.models import Thread
from tickets.client_conversation import (
    DONE,
    PageUrls,
    conversation_close,
    conversation_page,
    conversation_rate,
    conversation_read,
    conversation_reopen,
    conversation_reply,
    conversation_state,
    conversation_ticket,
    markdown_preview,
)
from tickets.models import Ticket
from tickets.services import conversation_set_status

logger = logging.getLogger(__name__)

# Writes per client and thread in a window: generous for a person, a wall for a script.
RATE_WINDOW = 600
RATE_LIMITS = {"GET": 300, "POST": 30}

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


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
    return client_over_limit(who=f"{access.thread.pk}:{access.email}", method=method)


def client_over_limit(*, who: str, method: str) -> bool:
    """Whether this client (a thread and address, or a portal session) asked too much lately."""
    limit = RATE_LIMITS.get(method, RATE_LIMITS["POST"])
    digest = hashlib.sha256(who.encode()).hexdigest()[:24]
    key = f"tisket:client-page:{method}:{digest}"
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
# The same check for the forms of a member's view-as-client page and of the client portal,
# which send no Referer either.
csrf_protect_no_referrer = _csrf_protect
# The headers of every client page: private, not cached, not indexed, no Referer.
private_page = _private


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


# --- The conversation ---------------------------------------------------------------


def token_urls(token: str) -> PageUrls:
    kwargs = {"token": token}
    return PageUrls(
        page=reverse("client:thread", kwargs=kwargs),
        reply=reverse("client:thread-reply", kwargs=kwargs),
        close=reverse("client:thread-close", kwargs=kwargs),
        reopen=reverse("client:thread-reopen", kwargs=kwargs),
        rate=reverse("client:thread-rate", kwargs=kwargs),
        preview=reverse("client:thread-preview", kwargs=kwargs),
        read=reverse("client:thread-read", kwargs=kwargs),
    )


@client_view
@require_safe
def client_thread(request: HttpRequest, access: ClientAccess, token: str) -> HttpResponse:
    return conversation_page(request, access, token_urls(token))


@client_post
def client_thread_read(request: HttpRequest, access: ClientAccess, token: str) -> HttpResponse:
    return conversation_read(request, access, token_urls(token))


@client_post
def client_thread_reply(request: HttpRequest, access: ClientAccess, token: str) -> HttpResponse:
    return conversation_reply(request, access, token_urls(token))


@client_post
def client_thread_close(request: HttpRequest, access: ClientAccess, token: str) -> HttpResponse:
    return conversation_close(request, access, token_urls(token))


@client_post
def client_thread_reopen(request: HttpRequest, access: ClientAccess, token: str) -> HttpResponse:
    return conversation_reopen(request, access, token_urls(token))


@client_post
def client_thread_rate(request: HttpRequest, access: ClientAccess, token: str) -> HttpResponse:
    return conversation_rate(request, access, token_urls(token))


@client_post
def client_thread_preview(request: HttpRequest, access: ClientAccess, token: str) -> HttpResponse:
    return markdown_preview(request)


@require_safe
def client_file(request: HttpRequest, token: str, name: str) -> HttpResponse:
    """A file of a conversation, from its signed link on the client's page (or the portal's)."""
    try:
        attachment = client_file_read(token=token)
    except ClientLinkGoneError:
        response = _notice(
            request,
            status=410,
            heading="This link has expired",
            text="Links to files last a few hours. Open the conversation again for a new one.",
        )
    except ClientLinkError:
        response = _notice(
            request, status=404, heading="This link is not valid", text="No such file."
        )
    else:
        response = attachment_response(attachment) or _notice(
            request, status=404, heading="This file was not kept", text="Ask us for it again."
        )
    return _private(response)


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
    ticket = conversation_ticket(thread)
    done = conversation_state(thread, ticket) in DONE
    used = not done and answered_link_used(conversation_id=thread.pk)  # reopened since
    if request.method == "POST" and not done and not used:
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
    context = {
        "done": done,
        "used": used,
        "asked": request.method == "POST",
        "subject": thread.subject,
    }
    return _private(render(request, "client/kb_answered.html", context))


app_name = "client"

urlpatterns = [
    path("answered/<str:token>/", client_kb_answered, name="kb-answered"),
    path("files/<str:token>/<str:name>", client_file, name="file"),
    path("<str:token>/", client_thread, name="thread"),
    path("<str:token>/read/", client_thread_read, name="thread-read"),
    path("<str:token>/reply/", client_thread_reply, name="thread-reply"),
    path("<str:token>/close/", client_thread_close, name="thread-close"),
    path("<str:token>/reopen/", client_thread_reopen, name="thread-reopen"),
    path("<str:token>/rate/", client_thread_rate, name="thread-rate"),
    path("<str:token>/preview/", client_thread_preview, name="thread-preview"),
]
