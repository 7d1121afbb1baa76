"""The ESP webhooks' URLs (/anymail/<esp>/inbound/ and /tracking/).

config.urls serves them with the rest of the site; config.wsgi's webhook lane
resolves /anymail/ paths against these alone, so that nothing else (an
organization's pages, say) is ever reached through the lane.
"""

from anymail import urls as anymail_urls
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, URLResolver, include, path, re_path

from tickets.intake.webhooks import PostmarkInboundView, checked_webhook


def webhook_urlpatterns() -> list[URLPattern | URLResolver]:
    # They exist only with a secret: an open webhook would take anyone's mail.
    if settings.ANYMAIL.get("WEBHOOK_SECRET"):
        return [
            path(
                "anymail/postmark/inbound/",
                PostmarkInboundView.as_view(),
                name="postmark-inbound-webhook",
            ),
            path("anymail/", include((anymail_urlpatterns(), "anymail"))),
        ]
    return [re_path(r"^anymail/", webhooks_off, name="anymail-off")]


def anymail_urlpatterns() -> list[URLPattern]:
    """Anymail's own URLs and names, each view answering a post it cannot read with a 4xx."""
    return [
        URLPattern(
            pattern.pattern,
            checked_webhook(pattern.callback.view_class).as_view(
                **pattern.callback.view_initkwargs
            ),
            pattern.default_args,
            pattern.name,
        )
        for pattern in anymail_urls.urlpatterns
    ]


def webhooks_off(request: HttpRequest) -> JsonResponse:
    """ESP webhooks answer this until they have a secret: an open one would take anyone's mail."""
    detail = "ESP webhooks are off: set TISKET_WEBHOOK_SECRET (user:password) to enable them."
    return JsonResponse({"detail": detail}, status=503)


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"detail": "Not found."}, status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"detail": "Server error."}, status=500)


urlpatterns = webhook_urlpatterns()
handler404 = not_found
handler500 = server_error
