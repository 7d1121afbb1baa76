"""API authentication and authorization: a token names one membership, so one organization."""

import logging

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling
from rest_framework.request import Request

from tisket.models import ApiToken, Membership, Organization, Role, TokenScope, role_at_least
from tisket.selectors import api_token_for_key
from tisket.services import api_token_touch

logger = logging.getLogger(__name__)


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <key>` (or `Bearer <key>`)."""

    keywords = ("token", "bearer")

    def authenticate(self, request: Request) -> tuple | None:
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Use the header 'Authorization: Token <key>'.")
        token = api_token_for_key(key=header[1])
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not token.is_active:
            raise exceptions.AuthenticationFailed("This token has been revoked.")
        if not token.membership.user.is_active:
            raise exceptions.AuthenticationFailed("This token's user is deactivated.")
        api_token_touch(token=token)
        return token.membership.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Token realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "tisket.api_auth.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`; create a key with `manage.py token_create`.",
        }


class HasOrganizationRole(permissions.BasePermission):
    """Reads need the view's `read_role` (default viewer), writes its `write_role` (agent)."""

    message = "Your role does not allow this."

    def has_permission(self, request: Request, view) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            return False
        if request.method in permissions.SAFE_METHODS:
            needed = getattr(view, "read_role", Role.VIEWER)
        else:
            if token.scope != TokenScope.WRITE:
                self.message = "This token has the read scope: it cannot write."
                return False
            needed = getattr(view, "write_role", Role.AGENT)
        return role_at_least(token.effective_role, needed)


class TokenRateThrottle(throttling.SimpleRateThrottle):
    """Requests per token (or per address without one), counted in the cache.

    When the cache is down the request goes through: the limit protects the
    service, and refusing every call (a reply an agent is posting) would be
    the outage it protects against.
    """

    scope = "token"

    def allow_request(self, request: Request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception as error:  # the cache's own connection errors, whatever the backend
            logger.warning("API throttle skipped, the cache failed: %s", error)
            return True

    def get_cache_key(self, request: Request, view) -> str | None:
        if isinstance(request.auth, ApiToken):
            return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class OrganizationApiMixin:
    """Gives API views the token's organization and membership.

    `membership` is the token's actor: the member with their role capped by the
    token's, so that services deciding by role see what the token may do.
    """

    request: Request

    @property
    def token(self) -> ApiToken:
        return self.request.auth

    @property
    def membership(self) -> Membership:
        return self.request.auth.actor

    @property
    def organization(self) -> Organization:
        return self.request.auth.membership.organization
