"""Inbox settings: list, create, edit (transport and IMAP too), and the live checks.

The checks call exactly what the REST API calls (inboxes/api.py), on the saved settings.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from inboxes import imap, selectors, services, transports
from inboxes.models import Inbox
from interface.settings_pages.common import admin_view, done, page, refused
from interface.settings_pages.forms import form_error
from interface.settings_pages.inbox_forms import InboxForm
from threads.selectors import inboxes_with_mail_stats
from tickets.intake.mailboxes import mailbox_poll
from tisket.errors import TisketError

SECTION = "settings:inboxes"


@admin_view
def inboxes(request: HttpRequest) -> HttpResponse:
    listed = selectors.inboxes_list(organization=request.organization)
    context = {"inboxes": inboxes_with_mail_stats(listed)}
    return page(request, "settings/inboxes.html", context, section=SECTION)


def _save(form: InboxForm, inbox: Inbox | None, request: HttpRequest) -> Inbox | None:
    """Apply the form in one transaction; on a refusal, put it on the form and change nothing."""
    try:
        with transaction.atomic():
            if inbox is None:
                inbox = services.inbox_create(
                    organization=request.organization,
                    name=form.cleaned_data["name"],
                    **form.settings_args(),
                )
            else:
                services.inbox_update(inbox=inbox, **form.settings_args())
            transports.inbox_transport_set(inbox=inbox, **form.transport_args())
            imap.inbox_imap_set(inbox=inbox, **form.mailbox_args())
    except (ValidationError, TisketError) as error:
        form_error(form, error)
        return None
    return inbox


@admin_view
def inbox_new(request: HttpRequest) -> HttpResponse:
    form = InboxForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        inbox = _save(form, None, request)
        if inbox is not None:
            return done(request, f"Inbox {inbox.name} created: {inbox.address}.", SECTION)
    context = {"form": form, "inbox": None}
    return page(request, "settings/inbox_form.html", context, section=SECTION)


@admin_view
def inbox_edit(request: HttpRequest, inbox: int) -> HttpResponse:
    found = selectors.inbox_get(organization=request.organization, pk=inbox)
    form = InboxForm(request.POST or None, inbox=found)
    if request.method == "POST" and form.is_valid():
        if _save(form, found, request) is not None:
            return done(request, f"Inbox {found.name} saved.", SECTION)
        # A refused save rolled the database back; show what is stored, not the half-change.
        found = selectors.inbox_get(organization=request.organization, pk=inbox)
    context = {"form": form, "inbox": found}
    return page(request, "settings/inbox_form.html", context, section=SECTION)


@admin_view
@require_POST
def inbox_delete(request: HttpRequest, inbox: int) -> HttpResponse:
    found = selectors.inbox_get(organization=request.organization, pk=inbox)
    try:
        services.inbox_delete(inbox=found)
    except TisketError as error:
        return refused(request, error, SECTION)
    return done(request, f"Inbox {found.name} deleted.", SECTION)


def _result(request: HttpRequest, inbox: Inbox, ok: bool, message: str) -> HttpResponse:
    """The outcome of a check: a fragment for htmx, else the edit page with a message."""
    if request.htmx:
        return render(request, "settings/_check_result.html", {"ok": ok, "message": message})
    return (done if ok else refused)(request, message, "settings:inbox", inbox.pk)


@admin_view
@require_POST
def inbox_test_smtp(request: HttpRequest, inbox: int) -> HttpResponse:
    found = selectors.inbox_get(organization=request.organization, pk=inbox)
    return _result(request, found, *transports.smtp_test(inbox=found))


@admin_view
@require_POST
def inbox_test_imap(request: HttpRequest, inbox: int) -> HttpResponse:
    found = selectors.inbox_get(organization=request.organization, pk=inbox)
    return _result(request, found, *imap.imap_test(inbox=found))


@admin_view
@require_POST
def inbox_fetch_now(request: HttpRequest, inbox: int) -> HttpResponse:
    found = selectors.inbox_get(organization=request.organization, pk=inbox)
    if not found.imap_host:
        return _result(request, found, False, "This inbox has no IMAP mailbox.")
    try:
        fetched = mailbox_poll(inbox=found)
    except imap.MailboxError as error:
        return _result(request, found, False, str(error))
    return _result(request, found, True, f"Fetched {fetched} new mail(s).")
