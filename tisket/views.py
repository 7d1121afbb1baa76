"""The agent shell: login, organization switcher, the organization's home, health."""

import logging
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from inboxes.selectors import inboxes_list
from threads.models import Thread
from threads.selectors import quarantine_list
from tisket.models import Role
from tisket.selectors import members_list, membership_for_user, organizations_for_user

logger = logging.getLogger(__name__)

LAST_ORG_SESSION_KEY = "tisket_last_org"
OPEN_STATUSES = [Thread.Status.OPEN, Thread.Status.IN_PROGRESS]


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
            request.session[LAST_ORG_SESSION_KEY] = org_slug
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
    return redirect("org-home", org_slug=last if last in organizations else organizations[0])


@org_view()
def org_home(request: HttpRequest) -> HttpResponse:
    organization = request.organization
    inboxes = inboxes_list(organization=organization).annotate(
        open_threads=Count("threads", filter=Q(threads__status__in=OPEN_STATUSES))
    )
    context = {
        "inboxes": inboxes,
        "quarantined": quarantine_list(organization=organization).count(),
    }
    return render(request, "tisket/org_home.html", context)


@org_view()
def org_members(request: HttpRequest) -> HttpResponse:
    members = members_list(organization=request.organization)
    return render(request, "tisket/members.html", {"members": members})


@csrf_exempt
def webhooks_off(request: HttpRequest) -> JsonResponse:
    """ESP webhooks answer this until they have a secret: an open one would take anyone's mail."""
    detail = "ESP webhooks are off: set TISKET_WEBHOOK_SECRET (user:password) to enable them."
    return JsonResponse({"detail": detail}, status=503)


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
    from tisket.celery import app

    try:
        with app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
    except Exception as exc:
        logger.error("healthz: broker check failed: %s", exc)
        return f"error: {type(exc).__name__}"
    return "ok"
