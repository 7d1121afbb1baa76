"""Message bodies and attachments.

Email HTML is never part of our pages: each body is its own document, served
with a strict Content-Security-Policy into an iframe sandboxed without
scripts or same-origin rights, so that even a mail that got past the
sanitizer can neither run code nor reach the agent's session.
"""

import base64
import re
from collections.abc import Callable
from urllib.parse import unquote

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import escape
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET

from threads import selectors as thread_selectors
from threads.downloads import attachment_response
from threads.models import Attachment, Message
from tickets import visibility
from tickets.views.conversation.common import (
    BLOCKED_IMAGE,
    CID_SRC,
    INLINE_IMAGE_MAX_BYTES,
    INLINE_IMAGE_TYPES,
    INLINE_IMAGES_MAX_BYTES,
    REMOTE_SRC,
)
from tisket.lib.html import restore_remote_images
from tisket.views import org_view

# --- Message bodies and attachments -------------------------------------------------------------


def _body_csp(request: HttpRequest, *, remote: bool) -> str:
    attachments = request.build_absolute_uri(
        reverse(
            "tickets:attachment", kwargs={"org_slug": request.organization.slug, "attachment": 0}
        )
    ).rsplit("0/", 1)[0]
    images = ["data:", attachments]
    if remote:
        images.append("https:")
    return "; ".join(
        [
            # Even opened on its own, outside the sandboxed frame, the body runs no script
            # and has no origin; links may still open a new tab, as in the frame.
            "sandbox allow-popups allow-popups-to-escape-sandbox",
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
    found = thread_selectors.message_get(
        organization=request.organization,
        pk=message,
        scope=visibility.thread_scope(request.membership),
    )
    remote = request.GET.get("remote") == "1"
    return body_response(
        request,
        html=found.html,
        text=found.text or found.visible_text,
        remote=remote,
        inline=lambda html: _inline_images(found, html),
    )


def body_response(
    request: HttpRequest, *, html: str, text: str, remote: bool, inline: Callable[[str], str]
) -> HttpResponse:
    """Sanitized mail HTML (or its text) as a document for the sandboxed frame, under the
    body's strict policy; inline(html) places the images the mail shows by Content-ID."""
    if html.strip():
        html = restore_remote_images(html) if remote else html
        html = REMOTE_SRC.sub(f'src="{BLOCKED_IMAGE}"', html)
        html = inline(html)
    else:
        html = f'<pre class="text">{escape(text)}</pre>'
    response = render(request, "conversation/body.html", {"body": html})
    response["Content-Security-Policy"] = _body_csp(request, remote=remote)
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-cache"
    return response


def no_inline_images(html: str) -> str:
    """Every `cid:` image a blank box: for a mail whose attachments are not stored."""
    return CID_SRC.sub(f'src="{BLOCKED_IMAGE}"', html)


@require_GET
@org_view()
def attachment_download(request: HttpRequest, attachment: int) -> HttpResponse:
    found = thread_selectors.attachment_get(
        organization=request.organization,
        pk=attachment,
        scope=visibility.thread_scope(request.membership),
    )
    response = attachment_response(found)
    if response is None:
        return HttpResponse(
            found.omitted_reason or "This attachment's content was not kept.",
            status=410,
            content_type="text/plain; charset=utf-8",
        )
    return response
