"""manage.py mcp: the MCP server over stdio, for an assistant on the same machine."""

import os

import anyio
from django.core.management.base import BaseCommand, CommandError
from mcp.server.auth.middleware.auth_context import auth_context_var
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser

from interface.mcp.caller import access_token_for, token_usable
from interface.mcp.server import desk_server

TOKEN_VARIABLE = "TISKET_MCP_TOKEN"  # noqa: S105 (the name of a variable)


class Command(BaseCommand):
    help = (
        f"Serve the MCP tools over stdin/stdout, as the API token in ${TOKEN_VARIABLE} "
        "(create one with token_create)."
    )

    def handle(self, *args, **options) -> None:
        key = os.environ.get(TOKEN_VARIABLE, "").strip()
        if not key:
            raise CommandError(f"Set {TOKEN_VARIABLE} to an API token's key.")
        token = token_usable(key)
        if token is None:
            raise CommandError(f"{TOKEN_VARIABLE} is not an active token of an active user.")
        # The same path as over HTTP: the tools find the token where the bearer
        # middleware leaves it, and load it again at each call.
        auth_context_var.set(AuthenticatedUser(access_token_for(token)))
        anyio.run(desk_server().run_stdio_async)
