"""Browser sessions that know whose they are, and end after a while without use.

The engine is Django's database one on our own table (tisket.UserSession), whose
columns say whose a session is and where it was last seen, so a person can list
their sessions and end them. The idle timeout is the session's expiry date:
every use pushes it TISKET_SESSION_IDLE_TIMEOUT ahead (SESSION_COOKIE_AGE), with
at most one write every few minutes, and Django refuses an expired session.
"""

from collections.abc import Callable
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from tisket.lib.requests import client_address

SEEN_KEY = "tisket_seen"
IP_KEY = "tisket_ip"
AGENT_KEY = "tisket_agent"
# A session opened through an organization's single sign-on: that organization's id.
# Its provider vouches for its own members only, so the session opens that organization's
# pages only, though the person may belong to others (tisket.views.org_view).
SSO_ORG_KEY = "tisket_sso_org"


class SessionStore(DBStore):
    @classmethod
    def get_model_class(cls):
        from tisket.models import UserSession

        return UserSession

    def create_model_instance(self, data: dict):
        row = super().create_model_instance(data)
        user_id = data.get(SESSION_KEY)
        row.user_id = int(user_id) if user_id and str(user_id).isdigit() else None
        row.ip = data.get(IP_KEY) or None
        row.user_agent = (data.get(AGENT_KEY) or "")[:300]
        seen = data.get(SEEN_KEY)
        row.last_seen_at = datetime.fromtimestamp(seen, tz=UTC) if seen else None
        return row


def touch_every() -> int:
    """Seconds between two saves of a session in use: a tenth of the idle timeout, at most 300."""
    return max(1, min(300, settings.TISKET_SESSION_IDLE_TIMEOUT // 10))


class SessionActivityMiddleware:
    """A signed-in session in use is saved again now and then, which moves its expiry ahead.

    It also notes the address and browser it was last used from, for the list
    of one's sessions.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None and session.get(SESSION_KEY):
            now = int(timezone.now().timestamp())
            if now - int(session.get(SEEN_KEY) or 0) >= touch_every():
                session[SEEN_KEY] = now
                session[IP_KEY] = client_address(request) or None
                session[AGENT_KEY] = request.META.get("HTTP_USER_AGENT", "")[:300]
        return self.get_response(request)
