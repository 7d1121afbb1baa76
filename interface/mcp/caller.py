"""Who calls a tool: an API token, its organization and effective role; what it may call.

Over HTTP the SDK's bearer middleware asks `DeskTokenVerifier` about the key; over stdio
the command checks the key once and stays that token. Either way every call loads the
token again (a revoked token stops at its next call), checks the tool against the
token's scope and role, counts against the token's rate, and is logged.
"""

import contextvars
import hashlib
import json
import logging
import math
import time
from dataclasses import dataclass

import anyio
from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections
from mcp.server.auth.provider import AccessToken
from pydantic import PrivateAttr

from tisket.models import ApiToken, McpCall, Membership, Organization, Role, role_at_least
from tisket.selectors import api_token_for_key
from tisket.services import api_token_touch

logger = logging.getLogger(__name__)

READ, WRITE = "read", "write"


@dataclass(frozen=True)
class ToolAccess:
    """What a tool needs: the write scope or not, and a least role."""

    kind: str = READ
    role: str = Role.VIEWER


class DeskAccessToken(AccessToken):
    """The SDK's view of a verified token, naming our token's row.

    Over HTTP it also carries the row the verifier just loaded for this request, so the
    request's tool call need not load it again; over stdio it does not, and each call
    loads the token afresh.
    """

    token_id: int
    _loaded: ApiToken | None = PrivateAttr(default=None)

    def loaded(self) -> ApiToken | None:
        return self._loaded


@dataclass
class Caller:
    token: ApiToken
    organization: Organization
    actor: Membership

    @classmethod
    def of(cls, token: ApiToken) -> "Caller":
        via = f"assistant via token {token.label()}"
        actor = token.membership.acting_as(token.effective_role, via=via)
        return cls(token=token, organization=token.membership.organization, actor=actor)

    def may(self, access: ToolAccess) -> bool:
        if access.kind == WRITE and not self.token.can_write:
            return False
        return role_at_least(self.token.effective_role, access.role)

    def refusal(self, name: str, access: ToolAccess) -> str:
        """Why this token may not call the tool, and what would let it."""
        if access.kind == WRITE and self.token.scope != WRITE:
            return (
                f"{name} writes, and this token has the read scope. Ask an admin for a token "
                "with the write scope."
            )
        return (
            f"{name} needs the {access.role} role; this token acts as "
            f"{self.token.effective_role}. Ask an admin for a token of a member who has it."
        )


# The caller of the tool running now (set by the server around each call).
current: contextvars.ContextVar[Caller | None] = contextvars.ContextVar("mcp_caller", default=None)


def caller() -> Caller:
    found = current.get()
    if found is None:  # a tool called outside the server: a programming error
        raise RuntimeError("No MCP caller in this context.")
    return found


def in_thread_with_db(function, *args):
    """Run Django work on a worker thread, with the connection hygiene of a request."""

    def run():
        close_old_connections()
        try:
            return function(*args)
        finally:
            close_old_connections()

    return anyio.to_thread.run_sync(run)


def token_usable(key: str) -> ApiToken | None:
    """The active token of an active user for this key, or None."""
    token = api_token_for_key(key=key)
    if token is None or not token.is_active or not token.membership.user.is_active:
        return None
    return token


def access_token_for(token: ApiToken) -> DeskAccessToken:
    scopes = [READ, WRITE] if token.scope == WRITE else [READ]
    return DeskAccessToken(
        token=token.prefix, client_id=f"tisket-token-{token.pk}", scopes=scopes, token_id=token.pk
    )


class DeskTokenVerifier:
    """The SDK's TokenVerifier: an API token's key, as `Authorization: Bearer <key>`."""

    async def verify_token(self, token: str) -> AccessToken | None:
        return await in_thread_with_db(self._verify, token)

    @staticmethod
    def _verify(key: str) -> AccessToken | None:
        found = token_usable(key)
        if found is None:
            return None
        api_token_touch(token=found)
        access = access_token_for(found)
        access._loaded = found
        return access


def caller_load(token_id: int) -> Caller | None:
    """The token as it is now (revoked or demoted since the request began counts)."""
    token = (
        ApiToken.objects.select_related("membership__user", "membership__organization")
        .filter(pk=token_id)
        .first()
    )
    if token is None or not token.is_active or not token.membership.user.is_active:
        return None
    return Caller.of(token)


RATE_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def rate_parse(rate: str) -> tuple[int, int]:
    """'600/minute' -> (600, 60)."""
    count, _, period = rate.partition("/")
    return int(count), RATE_PERIODS[period.strip()[:1].lower()]


def rate_wait(token: ApiToken, now: float | None = None) -> int:
    """Count one call of the token; 0 when it may go on, else the seconds to wait.

    Counted in the cache, a window at a time; when the cache is down the call goes
    through, as the REST API's throttle does.
    """
    limit, period = rate_parse(settings.TISKET_MCP_RATE)
    now = time.time() if now is None else now
    window = int(now // period)
    key = f"mcp-rate:{token.pk}:{window}"
    try:
        cache.add(key, 0, timeout=period + 5)
        count = cache.incr(key)
    except Exception as error:  # the cache's own connection errors, whatever the backend
        logger.warning("MCP rate limit skipped, the cache failed: %s", error)
        return 0
    if count <= limit:
        return 0
    return max(1, math.ceil((window + 1) * period - now))


def arguments_digest(arguments: dict) -> str:
    canonical = json.dumps(arguments, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def call_log(
    *,
    token: ApiToken,
    tool: str,
    arguments: dict,
    outcome: str,
    error: str = "",
    duration_ms: int,
) -> McpCall:
    """Record one tool call: the token, the tool, a digest of the arguments, how it went."""
    return McpCall.objects.create(
        organization_id=token.membership.organization_id,
        token=token,
        token_label=token.label()[:140],
        tool=tool[:64],
        arguments_digest=arguments_digest(arguments),
        outcome=outcome,
        error=error[:500],
        duration_ms=duration_ms,
    )
