"""What every settings page shares: the admin gate, the layout, and how a change ends."""

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from tisket.models import Role
from tisket.views import org_view

admin_view: Callable = org_view(Role.ADMIN)

SECTIONS = [
    ("settings:general", "General"),
    ("settings:members", "Members"),
    ("settings:sso", "Single sign-on"),
    ("settings:inboxes", "Inboxes"),
    ("settings:inbound", "Inbound log"),
    ("settings:domains", "Domains"),
    ("settings:suppressions", "Bouncing addresses"),
    ("settings:branding", "Mail branding"),
    ("settings:queues", "Queues"),
    ("settings:macros", "Macros"),
    ("settings:categories", "Ticket categories"),
    ("settings:notifications", "Notifications"),
    ("settings:sla", "SLA"),
    ("settings:tokens", "API tokens"),
    ("settings:audit", "Audit log"),
]


def page(request: HttpRequest, template: str, context: dict, *, section: str) -> HttpResponse:
    """Render a settings page inside the settings layout, its section lit in the side menu."""
    context = {"nav": "settings", "section": section, "sections": SECTIONS, **context}
    return render(request, template, context)


def url(request: HttpRequest, name: str, *args) -> str:
    return reverse(name, args=[request.organization.slug, *args])


def done(request: HttpRequest, message: str, name: str, *args) -> HttpResponseRedirect:
    """A change succeeded: say so on the next page."""
    messages.success(request, message)
    return HttpResponseRedirect(url(request, name, *args))


def refused(request: HttpRequest, error: Exception, name: str, *args) -> HttpResponseRedirect:
    """A service refused an action of a list's row: say why on the list."""
    messages.error(request, str(error))
    return HttpResponseRedirect(url(request, name, *args))
