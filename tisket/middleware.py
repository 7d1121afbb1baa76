import logging
import zoneinfo
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils import timezone, translation

REPLY_PATH_ENDS = ("/reply/", "/threads/new/")
CLIENT_PATHS = ("/c/", "/hc/")
CLIENT_UPLOAD_ENDS = ("/reply/", "/requests/new/")
# Paths whose every answer, errors included, is JSON.
JSON_PATHS = ("/api/", "/anymail/")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


logger = logging.getLogger(__name__)


class RequestSizeLimitMiddleware:
    """Django's usual body limit everywhere but the inbound mail paths, which take large mail.

    DATA_UPLOAD_MAX_MEMORY_SIZE is raised for the whole site so that a webhook
    can carry a 35 MB mail; this restores the small limit on every other path.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        large = (
            path.startswith(settings.TISKET_LARGE_REQUEST_PATHS)
            # The reply box and the new conversation form carry attachments.
            or (path.endswith(REPLY_PATH_ENDS) and "/threads/" in path)
            # So do a client's reply (their link's page, the portal) and new request.
            or (path.startswith(CLIENT_PATHS) and path.endswith(CLIENT_UPLOAD_ENDS))
        )
        limit = (
            settings.TISKET_INBOUND_MAX_REQUEST_BYTES
            if large
            else settings.TISKET_MAX_REQUEST_BYTES
        )
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Invalid Content-Length."}, status=400)
        if length > limit:
            return JsonResponse(
                {"detail": f"Request body too large: {length} bytes, the limit here is {limit}."},
                status=413,
            )
        return self.get_response(request)


class NulCharacterMiddleware:
    """A NUL character in a query parameter or a form field is a 400, before any view reads it.

    PostgreSQL refuses NUL in text, so a filter such as `?q=%00` would reach the
    database and fail there as a 500. No field of ours means to take one. JSON
    bodies are left to the API's serializers, whose text fields refuse NUL, and
    the mail webhooks' forms to the inbound pipeline, which keeps mail as bytes.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request.GET) or (_carries_a_form(request) and _has_nul(request.POST)):
            detail = "The request contains a NUL character (%00), which no field accepts."
            if request.path.startswith(JSON_PATHS):
                return JsonResponse({"detail": detail}, status=400)
            return HttpResponseBadRequest(detail, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


def _carries_a_form(request: HttpRequest) -> bool:
    return (
        request.method == "POST"
        and request.content_type in FORM_TYPES
        and not request.path.startswith(JSON_PATHS)
    )


def _has_nul(data) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values) for key, values in data.lists())


class ContentSecurityPolicyMiddleware:
    """Every answer carries TISKET_CONTENT_SECURITY_POLICY unless its view set a policy of its own.

    The message body view sets a stricter one (a sandbox, no script at all).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.TISKET_CONTENT_SECURITY_POLICY:
            response.headers.setdefault(
                "Content-Security-Policy", settings.TISKET_CONTENT_SECURITY_POLICY
            )
        return response


class DatabaseUnavailableMiddleware:
    """The database away (restarting, failing over, unreachable): 503 with Retry-After.

    Whoever posted (an ESP's webhook, an API client) retries a 503; nothing was
    stored, so nothing is lost. Errors of a query itself (IntegrityError,
    DataError...) are not this and stay what they are.
    """

    RETRY_AFTER = "30"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from django.db import InterfaceError, OperationalError

        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.error("database unavailable for %s %s: %s", request.method, request.path, exception)
        response = JsonResponse(
            {"detail": "The database is unavailable; try again shortly."}, status=503
        )
        response["Retry-After"] = self.RETRY_AFTER
        return response


class UserPreferencesMiddleware:
    """Pages speak the signed-in member's language and show times in their time zone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or request.path.startswith(JSON_PATHS):
            return self.get_response(request)
        with _preferences(user.timezone, user.language):
            response = self.get_response(request)
        if user.language:
            response.headers.setdefault("Content-Language", user.language)
        return response


@contextmanager
def _preferences(timezone_name: str, language: str) -> Iterator[None]:
    with ExitStack() as stack:
        if language:
            stack.enter_context(translation.override(language, deactivate=True))
        if timezone_name:
            stack.enter_context(timezone.override(zoneinfo.ZoneInfo(timezone_name)))
        yield
