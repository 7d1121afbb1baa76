"""The MCP server over streamable HTTP: /mcp, behind a bearer token, and its RFC 9728 metadata.

Stateless (each POST stands alone, JSON answers), so any web process answers any request.
Built from the SDK's own parts: its bearer middleware answers 401 with a
`WWW-Authenticate` header naming the protected-resource metadata, which is served at
/.well-known/oauth-protected-resource/mcp (and at the root path, for clients that look
there). Tokens are the desk's API tokens; no OAuth server issues them.
"""

from urllib.parse import urlsplit

from django.conf import settings
from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
from mcp.server.auth.middleware.bearer_auth import BearerAuthBackend, RequireAuthMiddleware
from mcp.server.auth.routes import build_resource_metadata_url, create_protected_resource_routes
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import AnyHttpUrl
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.routing import Route

from interface.mcp.caller import READ, WRITE, DeskTokenVerifier
from interface.mcp.server import desk_server

PATH = "/mcp"
METADATA_PREFIX = "/.well-known/"


def _transport_security() -> TransportSecuritySettings:
    """Host and Origin checks (DNS rebinding): the installation's own names only."""
    if "*" in settings.ALLOWED_HOSTS:
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    hosts = [h for h in settings.ALLOWED_HOSTS if not h.startswith(".")]
    site = urlsplit(settings.SITE_URL)
    origins = {f"{site.scheme}://{site.netloc}", *settings.CSRF_TRUSTED_ORIGINS}
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[*hosts, *(f"{h}:*" for h in hosts)],
        allowed_origins=sorted(origins),
    )


def mcp_http_app() -> Starlette:
    server = desk_server()
    # Builds the session manager (stateless, JSON answers); the routes are ours, below.
    server.streamable_http_app(
        streamable_http_path=PATH,
        stateless_http=True,
        json_response=True,
        transport_security=_transport_security(),
    )
    resource = AnyHttpUrl(settings.SITE_URL + PATH)
    metadata_routes = create_protected_resource_routes(
        resource_url=resource,
        # The installation issues the tokens (Settings > API tokens); RFC 9728 wants a list.
        authorization_servers=[AnyHttpUrl(settings.SITE_URL)],
        scopes_supported=[READ, WRITE],
        resource_name="Tisket",
    )
    root_metadata = Route(
        "/.well-known/oauth-protected-resource",
        endpoint=metadata_routes[0].endpoint,
        methods=["GET", "OPTIONS"],
    )
    endpoint = RequireAuthMiddleware(
        StreamableHTTPASGIApp(server.session_manager),
        required_scopes=[],
        resource_metadata_url=build_resource_metadata_url(resource),
    )
    return Starlette(
        routes=[Route(PATH, endpoint=endpoint), *metadata_routes, root_metadata],
        middleware=[
            Middleware(AuthenticationMiddleware, backend=BearerAuthBackend(DeskTokenVerifier())),
            Middleware(AuthContextMiddleware),
        ],
        lifespan=lambda app: server.session_manager.run(),
    )
