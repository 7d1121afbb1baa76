"""Quarantine: mail held because its sender is not part of the conversation it answers."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from threads import selectors
from tickets import intake
from tisket.errors import TisketError
from tisket.models import Role
from tisket.views import org_view

PAGE_SIZE = 100


@org_view()
def quarantine(request: HttpRequest) -> HttpResponse:
    """The held mail, newest first, with what held it."""
    held = selectors.quarantine_list(organization=request.organization).order_by(
        "-received_at", "-id"
    )[:PAGE_SIZE]
    return render(request, "threads/quarantine.html", {"held": held, "nav": "quarantine"})


def _decide(request: HttpRequest, quarantined: int, release: bool) -> HttpResponse:
    mail = selectors.inbound_get(organization=request.organization, pk=quarantined)
    try:
        if release:
            result = intake.mail_release(inbound_mail=mail, actor=request.membership)
            thread = result.thread
            messages.success(
                request, f"Released into {thread.reference}; {mail.from_email} can write there now."
            )
        else:
            intake.quarantine_discard(inbound=mail, actor=request.membership)
            messages.success(request, f"Discarded the mail from {mail.from_email}.")
    except TisketError as error:
        messages.error(request, str(error))
    return redirect("tickets:quarantine", org_slug=request.organization.slug)


@require_POST
@org_view(Role.AGENT)
def quarantine_release(request: HttpRequest, quarantined: int) -> HttpResponse:
    return _decide(request, quarantined, release=True)


@require_POST
@org_view(Role.AGENT)
def quarantine_discard(request: HttpRequest, quarantined: int) -> HttpResponse:
    return _decide(request, quarantined, release=False)
