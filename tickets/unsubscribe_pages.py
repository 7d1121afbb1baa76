"""The page of an unsubscribe link (RFC 8058), for clients and members alike, without login.

A POST to the link itself unsubscribes: that is what a mail program's
"Unsubscribe" button sends, with no cookie, so this one view is exempt from
CSRF; the signed token is the credential. A GET only shows a button, since
link scanners open every link of a mail and must unsubscribe nobody. Subscribing
again is a form of the page, CSRF-checked.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from tickets.client_brand import client_brand
from tickets.client_pages import csrf_protect_no_referrer
from tisket.lib.unsubscribe import Subscription, UnsubscribeLinkError, unsubscribe_token_read
from tisket.models import Organization
from tisket.unsubscriptions import is_unsubscribed, resubscribe, unsubscribe


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store, private"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _render(request: HttpRequest, token: str, subscription: Subscription, **context):
    organization = Organization.objects.filter(pk=subscription.organization_id).first()
    context = {
        "subscription": subscription,
        "organization": organization,
        "brand": client_brand(organization=organization) if organization else None,
        "unsubscribed": is_unsubscribed(subscription=subscription),
        "token": token,
        **context,
    }
    return _private(render(request, "client/unsubscribe.html", context))


def _read(request: HttpRequest, token: str) -> Subscription | HttpResponse:
    try:
        return unsubscribe_token_read(token)
    except UnsubscribeLinkError as error:
        context = {"heading": "This link is not valid", "text": str(error), "howto": False}
        return _private(render(request, "client/notice.html", context, status=404))


@csrf_exempt  # RFC 8058: the one-click POST comes from a mail program, with no cookie
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe_page(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows what the link stops and a button; POST (the button, or one click) stops it."""
    subscription = _read(request, token)
    if isinstance(subscription, HttpResponse):
        return subscription
    if request.method == "POST":
        unsubscribe(subscription=subscription)
        return _render(request, token, subscription, done="unsubscribed")
    return _render(request, token, subscription)


@csrf_exempt  # checked by csrf_protect_no_referrer: the page sends no Referer
@require_POST
@csrf_protect_no_referrer
def resubscribe_page(request: HttpRequest, token: str) -> HttpResponse:
    """Undo: the category of mail comes again."""
    subscription = _read(request, token)
    if isinstance(subscription, HttpResponse):
        return subscription
    resubscribe(subscription=subscription)
    return _render(request, token, subscription, done="resubscribed")


app_name = "unsubscribe"

urlpatterns = [
    path("<str:token>/", unsubscribe_page, name="page"),
    path("<str:token>/again/", resubscribe_page, name="again"),
]
