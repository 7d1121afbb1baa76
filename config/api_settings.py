"""The REST API's settings: Django REST framework and the OpenAPI schema (drf-spectacular)."""

from config.environment import env

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["tisket.api_auth.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["tisket.api_auth.HasOrganizationRole"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "tisket.api_pagination.CursorPagination",
    "DEFAULT_THROTTLE_CLASSES": ["tisket.api_auth.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "token": env("TISKET_API_RATE", "1200/minute"),
        "anon": env("TISKET_PUBLIC_RATE", "60/minute"),
    },
    "EXCEPTION_HANDLER": "tisket.api_errors.exception_handler",
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Tisket API",
    "DESCRIPTION": (
        "Token-scoped REST API of a Tisket organization. Authenticate with "
        "`Authorization: Token <key>`; every call sees only the token's organization."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "tisket.api_schema.error_responses",
        "tisket.api_schema.created_links",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ThreadStatus": "threads.models.Thread.Status",
        "TicketStatus": "tickets.models.Ticket.Status",
        "InboundMailStatus": "threads.models.InboundMail.Status",
        "Role": "tisket.models.Role",
        "MailSecurity": "inboxes.models.Inbox.Security",
    },
    # Swagger UI's assets are served from this installation, not from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
