"""The agent shell: login, organization switcher, the organization's home, health."""

import logging
from collections.abc import Callable
from functools import wraps

from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from tisket.audit import Action, audit_record_for_user
from tisket.models import Role
from tisket.selectors import members_list, membership_for_user, organizations_for_user
from tisket.sessions import SSO_ORG_KEY
from tisket.two_factor import two_factor_enabled

logger = logging.getLogger(__name__)

LAST_ORG_SESSION_KEY = "tisket_last_org"


def too_many_attempts(response: HttpResponse) -> HttpResponse:
    """A login page refused for throttling answers 429, so scripts and proxies see it too."""
    form = (getattr(response, "context_data", None) or {}).get("form")
    if form is not None and form.has_error(NON_FIELD_ERRORS, "throttled"):
        response.status_code = 429
    return response


def admin_login(request: HttpRequest) -> HttpResponse:
    signed_in = request.user.is_authenticated
    response = too_many_attempts(admin.site.login(request))
    if request.method == "POST" and not signed_in and request.user.is_authenticated:
        audit_record_for_user(user=request.user, action=Action.LOGIN, data={"method": "admin"})
    return response


def org_view(min_role: str = Role.VIEWER) -> Callable:
    """Decorate a view under /<org_slug>/: login, membership (404 if none), role (403 if short).

    The view receives request.organization and request.membership.
    """

    def decorator(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, org_slug: str, *args, **kwargs) -> HttpResponse:
            membership = membership_for_user(user=request.user, organization_slug=org_slug)
            if not membership.has_role(min_role):
                raise PermissionDenied("Your role does not allow this.")
            organization = membership.organization
            bound = request.session.get(SSO_ORG_KEY)
            if bound is not None and bound != organization.pk:
                return render(
                    request,
                    "accounts/sso_other_organization.html",
                    {"organization": organization},
                    status=403,
                )
            if organization.require_two_factor and not two_factor_enabled(user=request.user):
                messages.warning(
                    request,
                    f"{organization.name} requires two-factor sign-in: turn it on to continue.",
                )
                return redirect("accounts:two-factor")
            request.membership = membership
            request.organization = organization
            if request.session.get(LAST_ORG_SESSION_KEY) != org_slug:
                request.session[LAST_ORG_SESSION_KEY] = org_slug  # a write only on a switch
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send the user to the organization they used last, or their first one."""
    organizations = list(organizations_for_user(user=request.user).values_list("slug", flat=True))
    if not organizations:
        return render(request, "tisket/no_organization.html")
    last = request.session.get(LAST_ORG_SESSION_KEY)
    bound = request.session.get(SSO_ORG_KEY)
    if bound is not None:  # a single sign-on session opens its own organization
        own = organizations_for_user(user=request.user).filter(pk=bound).first()
        last = own.slug if own is not None else last
    return redirect("tickets:queue", org_slug=last if last in organizations else organizations[0])


@org_view()
def org_members(request: HttpRequest) -> HttpResponse:
    members = members_list(organization=request.organization)
    return render(request, "tisket/members.html", {"members": members})
