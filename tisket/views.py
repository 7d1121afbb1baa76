"""The agent shell: login, organization switcher, the organization's home, health."""

import logging
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from tisket.forms import LoginForm
from tisket.models import Notification, Role
from tisket.selectors import members_list, membership_for_user, organizations_for_user
from tisket.services import notifications_mark_read

logger = logging.getLogger(__name__)

LAST_ORG_SESSION_KEY = "tisket_last_org"


def _too_many_attempts(response: HttpResponse) -> HttpResponse:
    """A login page refused for throttling answers 429, so scripts and proxies see it too."""
    form = (getattr(response, "context_data", None) or {}).get("form")
    if form is not None and form.has_error(NON_FIELD_ERRORS, "throttled"):
        response.status_code = 429
    return response


_login = auth_views.LoginView.as_view(
    authentication_form=LoginForm, redirect_authenticated_user=True
)


def login(request: HttpRequest) -> HttpResponse:
    return _too_many_attempts(_login(request))


def admin_login(request: HttpRequest) -> HttpResponse:
    return _too_many_attempts(admin.site.login(request))


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
            request.membership = membership
            request.organization = membership.organization
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
    return redirect("tickets:queue", org_slug=last if last in organizations else organizations[0])


@org_view()
def org_members(request: HttpRequest) -> HttpResponse:
    members = members_list(organization=request.organization)
    return render(request, "tisket/members.html", {"members": members})


@csrf_exempt
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers (and the broker, when one is configured); else 503."""
    checks = {"database": _check_database()}
    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        checks["broker"] = _check_broker()
    healthy = all(result == "ok" for result in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        logger.error("healthz: database check failed: %s", exc)
        return f"error: {type(exc).__name__}"
    return "ok"


def _check_broker() -> str:
    from celery import current_app as app  # the project's app, set up by its configuration

    try:
        with app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
    except Exception as exc:
        logger.error("healthz: broker check failed: %s", exc)
        return f"error: {type(exc).__name__}"
    return "ok"


@org_view()
def notifications(request: HttpRequest) -> HttpResponse:
    """The member's notifications, newest first; POST marks all read or sets mail on/off."""
    membership = request.membership
    if request.method == "POST":
        if "email_notifications" in request.POST:
            membership.email_notifications = request.POST["email_notifications"] == "on"
            membership.save(update_fields=["email_notifications"])
            state = "on" if membership.email_notifications else "off"
            messages.success(request, f"Email notifications are {state}.")
        else:
            done = notifications_mark_read(membership=membership)
            messages.success(request, f"Marked {done} notification{'s' if done != 1 else ''} read.")
        return redirect("org:notifications", org_slug=request.organization.slug)
    items = Notification.objects.filter(recipient=membership).order_by("-created_at", "-id")[:100]
    return render(request, "tisket/notifications.html", {"items": items, "nav": "notifications"})


@org_view()
def notifications_count(request: HttpRequest) -> HttpResponse:
    """The bell's badge (htmx polls it)."""
    unread = Notification.objects.filter(recipient=request.membership, read_at__isnull=True).count()
    return HttpResponse(f'<span class="count">{unread}</span>' if unread else "")


@require_POST
@org_view()
def notification_read(request: HttpRequest, notification: int) -> HttpResponse:
    """Mark one read and follow it."""
    item = get_object_or_404(Notification, pk=notification, recipient=request.membership)
    notifications_mark_read(membership=request.membership, ids=[item.pk])
    # Only a path inside this organization is followed, never an outside address.
    if item.url.startswith(f"/{request.organization.slug}/"):
        return redirect(item.url)
    return redirect("org:notifications", org_slug=request.organization.slug)
