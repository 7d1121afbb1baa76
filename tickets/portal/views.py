"""The client portal's pages: sign-in by email, the list of one's requests, a request, a new one.

A client signs in with a one-time link mailed to them (threads.portal) and
gets a cookie of their own, scoped to this organization's portal path: it is
no member's login and opens nothing else. A conversation is looked up within
the organization and among the address's own: anything else is a 404. The
pages carry the same private headers and CSRF check as the signed link's.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.contrib import messages as flash
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from kb.deflection import portal_suggestions
from kb.selectors import help_centre_for
from threads.client_access import ClientAccess, ClientReplyError, client_form_nonce
from threads.models import ClientSession, InboundMail
from threads.portal import (
    PortalAddressError,
    PortalLinkError,
    portal_access,
    portal_email_clean,
    portal_session_end,
    portal_session_open,
    portal_sign_in_allowed,
    portal_sign_in_check,
    portal_sign_in_redeem,
    portal_sign_in_request,
)
from tickets.client_brand import ClientBrand, client_brand
from tickets.client_conversation import (
    PageUrls,
    conversation_close,
    conversation_page,
    conversation_rate,
    conversation_read,
    conversation_reopen,
    conversation_reply,
    markdown_preview,
    uploaded_files,
)
from tickets.client_pages import client_over_limit, csrf_protect_no_referrer, private_page
from tickets.intake import client_request_send
from tickets.portal.selectors import (
    PortalInbox,
    portal_conversations,
    portal_inboxes,
    portal_rows,
)
from tisket.lib.params import id_param
from tisket.lib.requests import client_address
from tisket.models import Organization

COOKIE = "tisket_portal"
PER_PAGE = 25
SLOW_DOWN = "You sent many requests in a short time. Wait a few minutes, then try again."


@dataclass(frozen=True)
class Portal:
    """The organization's portal as its pages show it, and who is signed in (if anyone)."""

    organization: Organization
    title: str
    session: ClientSession | None = None
    brand: ClientBrand | None = None

    @property
    def email(self) -> str:
        return self.session.email if self.session is not None else ""

    @property
    def slug(self) -> str:
        return self.organization.slug


def _cookie_path(organization: Organization) -> str:
    return reverse("portal:home", kwargs={"org_slug": organization.slug})


def _portal(request: HttpRequest, org_slug: str) -> Portal:
    organization = get_object_or_404(Organization, slug=org_slug)
    session = portal_session_open(organization=organization, key=request.COOKIES.get(COOKIE, ""))
    centre = help_centre_for(organization=organization)
    brand = client_brand(organization=organization, centre=centre)
    return Portal(organization=organization, title=str(centre), session=session, brand=brand)


def _render(request: HttpRequest, template: str, portal: Portal, status: int = 200, **context):
    context = {"portal": portal, "brand": portal.brand, **context}
    return render(request, template, context, status=status)


def portal_page(*, signed_in: bool = True, post: bool = False, typing: bool = False) -> Callable:
    """A portal page: its organization and session found, private headers, CSRF on POST.

    Pages for the signed-in send anyone else to the sign-in form; a session is
    limited as a signed link is (tickets.client_pages). What answers typing (suggestions,
    a preview) is posted often: it is limited on its own, as generously as pages are.
    """

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, org_slug: str, **kwargs) -> HttpResponse:
            portal = _portal(request, org_slug)
            if signed_in and portal.session is None:
                response = redirect("portal:sign-in", org_slug=org_slug)
            elif portal.session is not None and client_over_limit(
                who=f"portal:{portal.session.pk}{':typing' if typing else ''}",
                method="GET" if typing else request.method,
            ):
                context = {"heading": "Please slow down", "text": SLOW_DOWN, "howto": False}
                response = render(request, "client/notice.html", context, status=429)
            else:
                response = view(request, portal, **kwargs)
            return private_page(response)

        # Django's CSRF check, but for pages that send no Referer (tickets.client_pages).
        checked = csrf_protect_no_referrer(wrapper)
        return csrf_exempt(require_POST(checked) if post else checked)

    return decorate


# --- Signing in ----------------------------------------------------------------------


@portal_page(signed_in=False)
def sign_in(request: HttpRequest, portal: Portal) -> HttpResponse:
    if request.method == "POST":
        return _sign_in_post(request, portal)
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405)
    if portal.session is not None:
        return redirect("portal:home", org_slug=portal.slug)
    return _render(request, "portal/sign_in.html", portal)


def _sign_in_post(request: HttpRequest, portal: Portal) -> HttpResponse:
    typed = request.POST.get("email", "")[:320]
    try:
        email = portal_email_clean(typed)
    except PortalAddressError as error:
        return _render(request, "portal/sign_in.html", portal, 400, email=typed, error=str(error))
    if not portal_sign_in_allowed(email=email, address=client_address(request)):
        error = "Too many sign-in links were asked for. Try again in an hour."
        return _render(request, "portal/sign_in.html", portal, 429, email=typed, error=error)
    # The same page whether the address is known, a member's, or new: it tells nothing.
    portal_sign_in_request(organization=portal.organization, email=email)
    minutes = settings.TISKET_PORTAL_SIGN_IN_MINUTES
    return _render(request, "portal/sign_in_sent.html", portal, email=email, minutes=minutes)


@portal_page(signed_in=False)
def sign_in_confirm(request: HttpRequest, portal: Portal, token: str) -> HttpResponse:
    """The link of the mail: a button that signs in on POST (mail scanners only GET links)."""
    if request.method == "POST":
        return _sign_in_confirm_post(request, portal, token)
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405)
    try:
        link = portal_sign_in_check(organization=portal.organization, token=token)
    except PortalLinkError as error:
        return _link_refused(request, portal, error)
    # Named, so that a link someone forwarded (theirs) is not taken for one's own.
    return _render(request, "portal/sign_in_confirm.html", portal, token=token, email=link.email)


def _link_refused(request: HttpRequest, portal: Portal, error: PortalLinkError) -> HttpResponse:
    text = f"{error} Ask for a new one below."
    return _render(request, "portal/sign_in.html", portal, error.status_code, error=text)


def _sign_in_confirm_post(request: HttpRequest, portal: Portal, token: str) -> HttpResponse:
    try:
        _session, key = portal_sign_in_redeem(organization=portal.organization, token=token)
    except PortalLinkError as error:
        return _link_refused(request, portal, error)
    if portal.session is not None:
        portal_session_end(session=portal.session)
    response = redirect("portal:home", org_slug=portal.slug)
    response.set_cookie(
        COOKIE,
        key,
        max_age=settings.TISKET_PORTAL_SESSION_DAYS * 86400,
        path=_cookie_path(portal.organization),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


@portal_page(post=True)
def sign_out(request: HttpRequest, portal: Portal) -> HttpResponse:
    portal_session_end(session=portal.session)
    response = redirect("portal:sign-in", org_slug=portal.slug)
    response.delete_cookie(COOKIE, path=_cookie_path(portal.organization))
    return response


# --- The client's requests -----------------------------------------------------------


@portal_page()
@require_safe
def home(request: HttpRequest, portal: Portal) -> HttpResponse:
    """Every conversation of the signed-in address in this organization."""
    page = Paginator(portal_conversations(session=portal.session), PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = portal_rows(page.object_list)
    tz = portal.organization.timezone
    return _render(request, "portal/list.html", portal, page=page, rows=rows, tz=tz)


@portal_page()
def request_new(request: HttpRequest, portal: Portal) -> HttpResponse:
    inboxes = portal_inboxes(organization=portal.organization)
    if not inboxes:
        raise Http404("This organization takes no requests yet.")
    if request.method == "POST":
        return _request_new_post(request, portal, inboxes)
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405)
    form = {"nonce": client_form_nonce(), "inbox": inboxes[0].pk}
    return _render(request, "portal/new.html", portal, form=form, inboxes=inboxes)


def _chosen_inbox(request: HttpRequest, inboxes: list[PortalInbox]) -> PortalInbox:
    chosen = request.POST.get("inbox", "")
    if not chosen:  # a form of before the choice, or an organization with one inbox
        return inboxes[0]
    for inbox in inboxes:
        if str(inbox.pk) == chosen:
            return inbox
    raise ClientReplyError("Choose what your request is about from the list.")


def _request_new_post(
    request: HttpRequest, portal: Portal, inboxes: list[PortalInbox]
) -> HttpResponse:
    subject, body = request.POST.get("subject", ""), request.POST.get("body", "")
    nonce = request.POST.get("nonce", "")
    form = {"subject": subject, "body": body, "nonce": nonce, "inbox": inboxes[0].pk}
    try:
        inbox = _chosen_inbox(request, inboxes)
        form["inbox"] = inbox.pk
        result = client_request_send(
            inbox=inbox.inbox,
            email=portal.email,
            subject=subject,
            body=body,
            nonce=nonce,
            files=uploaded_files(request),
        )
    except ClientReplyError as error:
        return _render(
            request, "portal/new.html", portal, 400, form=form, inboxes=inboxes, error=str(error)
        )
    status = result.inbound.status
    if status in (InboundMail.Status.ACCEPTED, InboundMail.Status.DUPLICATE) and result.thread:
        reference = result.thread.reference
        flash.success(request, f"We received your request; its reference is {reference}.")
        return redirect("portal:thread", org_slug=portal.slug, reference=reference)
    if status == InboundMail.Status.QUARANTINED:
        flash.info(request, "We received your request; the team reviews it before answering.")
        return redirect("portal:home", org_slug=portal.slug)
    error = "We could not take your request just now. Please try again in a few minutes."
    return _render(request, "portal/new.html", portal, 503, form=form, inboxes=inboxes, error=error)


# Suggestions look at the subject and the start of the message: enough words for a question.
SUGGEST_BODY_CHARS = 600


@portal_page(post=True, typing=True)
def request_suggest(request: HttpRequest, portal: Portal) -> HttpResponse:
    """Public articles that may answer the request being written (htmx, as the client types)."""
    subject = request.POST.get("subject", "")[:200]
    question = f"{subject} {request.POST.get('body', '')[:SUGGEST_BODY_CHARS]}"
    shown = {
        number
        for value in request.POST.getlist("shown")[:30]
        if (number := id_param(value)) is not None
    }
    articles = portal_suggestions(organization=portal.organization, question=question, shown=shown)
    shown |= {article.pk for article in articles}
    return _render(
        request, "portal/_suggestions.html", portal, articles=articles, shown=sorted(shown)
    )


@portal_page(post=True, typing=True)
def preview(request: HttpRequest, portal: Portal) -> HttpResponse:
    """The message as it will show, rendered on the server (htmx)."""
    return markdown_preview(request)


# --- One request ---------------------------------------------------------------------


def _access(portal: Portal, reference: str) -> ClientAccess:
    """The conversation if it is this address's, in this organization; else 404."""
    access = portal_access(session=portal.session, reference=reference)
    if access is None:
        raise Http404("No such request.")
    return access


def _urls(portal: Portal, reference: str) -> PageUrls:
    kwargs = {"org_slug": portal.slug, "reference": reference}
    return PageUrls(
        page=reverse("portal:thread", kwargs=kwargs),
        reply=reverse("portal:thread-reply", kwargs=kwargs),
        close=reverse("portal:thread-close", kwargs=kwargs),
        reopen=reverse("portal:thread-reopen", kwargs=kwargs),
        rate=reverse("portal:thread-rate", kwargs=kwargs),
        preview=reverse("portal:preview", kwargs={"org_slug": portal.slug}),
        read=reverse("portal:thread-read", kwargs=kwargs),
    )


def _thread_action(action: Callable) -> Callable:
    @portal_page(post=True)
    def view(request: HttpRequest, portal: Portal, reference: str) -> HttpResponse:
        access = _access(portal, reference)
        return action(request, access, _urls(portal, reference), extra={"portal": portal})

    return view


@portal_page()
@require_safe
def thread(request: HttpRequest, portal: Portal, reference: str) -> HttpResponse:
    access = _access(portal, reference)
    return conversation_page(request, access, _urls(portal, reference), extra={"portal": portal})


thread_read = _thread_action(conversation_read)
thread_reply = _thread_action(conversation_reply)
thread_close = _thread_action(conversation_close)
thread_reopen = _thread_action(conversation_reopen)
thread_rate = _thread_action(conversation_rate)
