"""Maps domain errors to HTTP answers with a message; Django's own errors answer JSON on the API."""

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, IntegrityError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from tisket.errors import TisketError
from tisket.middleware import JSON_PATHS

GONE_MEANWHILE = "It was deleted meanwhile."
CHANGED_MEANWHILE = "The request conflicts with a change made meanwhile; load it again and retry."


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, TisketError):
        return Response({"detail": str(exc)}, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "message_dict") else {"detail": exc.messages}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    if concurrent := concurrent_change_answer(exc):
        set_rollback()
        return Response({"detail": concurrent[1]}, status=concurrent[0])
    return drf_exception_handler(exc, context)


def concurrent_change_answer(exc: Exception) -> tuple[int, str] | None:
    """(status, message) for an error that another request's change caused, else None.

    Two requests race: one deletes an object that the other has loaded and is
    now saving or pointing at. The loser's transaction rolls back; it is told so.
    """
    if isinstance(exc, ObjectDoesNotExist):
        return status.HTTP_404_NOT_FOUND, GONE_MEANWHILE
    if isinstance(exc, IntegrityError):
        return status.HTTP_409_CONFLICT, CHANGED_MEANWHILE
    # Django's message when save(update_fields=...) finds its row gone (no subclass to catch).
    if isinstance(exc, DatabaseError) and "did not affect any rows" in str(exc):
        return status.HTTP_404_NOT_FOUND, GONE_MEANWHILE
    return None


def _json(request: HttpRequest) -> bool:
    return request.path.startswith(JSON_PATHS)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _json(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _json(request):
        return JsonResponse({"detail": "You do not have permission to do this."}, status=403)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _json(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _json(request):
        return JsonResponse({"detail": "Server error."}, status=500)
    return defaults.server_error(request)
