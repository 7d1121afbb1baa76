"""What a request says about where it came from."""

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The address the request came from; behind our proxy, the one it saw connect to it."""
    if settings.TISKET_BEHIND_PROXY:
        # Only the last hop is our proxy's word; anything before it the client wrote.
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR", "")
