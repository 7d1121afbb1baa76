"""The ASGI application: the MCP server at /mcp and /.well-known/, the site for the rest.

The site is the WSGI application of config.wsgi (its middleware, its short lane for
the ESP webhooks), run on a pool of threads, so a page behaves the same whichever entry
serves it. The MCP app gets the lifespan events (its session manager runs in them).
"""

import os

from a2wsgi import WSGIMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from config.wsgi import application as wsgi_application
from interface.mcp.http import METADATA_PREFIX, PATH, mcp_http_app

SITE_THREADS = int(os.environ.get("WEB_THREADS", "8"))


class Application:
    def __init__(self) -> None:
        self.mcp = mcp_http_app()
        self.site = WSGIMiddleware(wsgi_application, workers=SITE_THREADS)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            return await self.mcp(scope, receive, send)
        path = scope.get("path", "")
        if path == PATH or path.startswith(PATH + "/") or path.startswith(METADATA_PREFIX):
            return await self.mcp(scope, receive, send)
        return await self.site(scope, receive, send)


application = Application()
