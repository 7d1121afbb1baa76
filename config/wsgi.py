"""The WSGI application: Django's handler, with a short lane for the ESP webhooks.

An ESP posts one request per mail, at up to a thousand a second. Those
requests carry no session, cookie, CSRF token or user, so most of the site's
middleware would only cost them time: a third of each request, measured. Paths
under /anymail/ (a reserved slug) go through a second Django handler that keeps
only the middleware that applies to them (HTTPS redirect and security headers,
the body limit, host validation, a 503 when the database is away) and knows only
the webhooks' URLs. The URLs, the views and Anymail's checks are the same as
through the whole site.
"""

import os

from django.conf import settings
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application
from django.utils.module_loading import import_string

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

WEBHOOK_PREFIX = "/anymail/"
WEBHOOK_MIDDLEWARE = frozenset(
    {
        "django.middleware.security.SecurityMiddleware",
        "tisket.middleware.RequestSizeLimitMiddleware",
        "django.middleware.common.CommonMiddleware",
        # The database away: a 503, which the ESP retries, rather than a 500.
        "tisket.middleware.DatabaseUnavailableMiddleware",
    }
)


class WebhookHandler(WSGIHandler):
    """Django's WSGI handler with only the site's middleware that webhooks need, in its order.

    It resolves paths against the webhooks' URLs alone: a path under /anymail/
    that is not a webhook is a 404 here, never another page of the site.
    """

    urlconf = "config.webhook_urls"

    def get_response(self, request):
        request.urlconf = self.urlconf
        return super().get_response(request)

    def load_middleware(self, is_async: bool = False) -> None:
        if is_async:
            raise ValueError("the webhook handler is a WSGI (synchronous) handler")
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed([p for p in settings.MIDDLEWARE if p in WEBHOOK_MIDDLEWARE]):
            middleware = import_string(path)(handler)
            if hasattr(middleware, "process_view"):
                self._view_middleware.insert(0, middleware.process_view)
            if hasattr(middleware, "process_template_response"):
                self._template_response_middleware.append(middleware.process_template_response)
            if hasattr(middleware, "process_exception"):
                self._exception_middleware.append(middleware.process_exception)
            handler = convert_exception_to_response(middleware)
        self._middleware_chain = handler


class Application:
    def __init__(self) -> None:
        self.site = get_wsgi_application()  # sets Django up
        self.webhooks = WebhookHandler()

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith(WEBHOOK_PREFIX):
            return self.webhooks(environ, start_response)
        return self.site(environ, start_response)


application = Application()
