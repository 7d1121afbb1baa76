from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

REPLY_PATH_ENDS = ("/reply/", "/threads/new/")


class RequestSizeLimitMiddleware:
    """Django's usual body limit everywhere but the inbound mail paths, which take large mail.

    DATA_UPLOAD_MAX_MEMORY_SIZE is raised for the whole site so that a webhook
    can carry a 35 MB mail; this restores the small limit on every other path.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        large = request.path.startswith(settings.TISKET_LARGE_REQUEST_PATHS) or (
            # The reply box and the new conversation form carry attachments.
            request.path.endswith(REPLY_PATH_ENDS) and "/threads/" in request.path
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
