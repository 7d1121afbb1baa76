"""Tisket settings. Every value comes from the environment; see .env.example.

With no environment at all this is the embedded default: SQLite under
TISKET_DATA_DIR and no broker (the embedded worker finds its work in the
database, config/worker.py), so `make run` needs no server.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from config import api_settings
from config.environment import (
    env,
    env_bool,
    env_int,
    env_list,
    is_ip_port,
    secret_key,
    served_at,
)

BASE_DIR = Path(__file__).resolve().parent.parent


DATA_DIR = Path(env("TISKET_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


SECRET_KEY = secret_key(DATA_DIR)
DEBUG = env_bool("DEBUG")


# The public address links are built with: SITE_URL, else the address `make run`
# serves this data dir at, so a manage.py command in another shell agrees with it.
SITE_URL = (env("SITE_URL") or served_at(DATA_DIR) or "http://127.0.0.1:8000").rstrip("/")
_site = urlsplit(SITE_URL)
# Loopback stays allowed so health checks from the same host or container work;
# TISKET_EXTRA_HOSTS adds the names `make run HOST=0.0.0.0` is reached by on the LAN.
ALLOWED_HOSTS = [
    *env_list("ALLOWED_HOSTS", str(_site.hostname)),
    *env_list("TISKET_EXTRA_HOSTS"),
    "localhost",
    "127.0.0.1",
    "[::1]",
]
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", f"{_site.scheme}://{_site.netloc}")

# Behind HTTPS (SITE_URL says so) cookies travel only over TLS.
_https = _site.scheme == "https"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", _https)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", _https)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_SSL_REDIRECT_EXEMPT = [r"^healthz$"]
TISKET_BEHIND_PROXY = env_bool("TISKET_BEHIND_PROXY", False)
if TISKET_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
SESSION_COOKIE_HTTPONLY = True
# A session unused this long ends (its expiry moves ahead as it is used).
TISKET_SESSION_IDLE_TIMEOUT = env_int("TISKET_SESSION_IDLE_TIMEOUT", 12 * 3600)
SESSION_COOKIE_AGE = TISKET_SESSION_IDLE_TIMEOUT
SESSION_ENGINE = "tisket.sessions"
# A password reset link works once, for this long.
PASSWORD_RESET_TIMEOUT = env_int("TISKET_PASSWORD_RESET_TIMEOUT", 3600)
# Password reset mails asked, per hour: from one address, and for one account.
TISKET_PASSWORD_RESETS_PER_ADDRESS = env_int("TISKET_PASSWORD_RESETS_PER_ADDRESS", 10)
TISKET_PASSWORD_RESETS_PER_ACCOUNT = env_int("TISKET_PASSWORD_RESETS_PER_ACCOUNT", 3)
# Audit events older than this many days are removed by a daily sweep; 0 keeps them for ever.
TISKET_AUDIT_RETENTION_DAYS = env_int("TISKET_AUDIT_RETENTION_DAYS", 365)
OTP_TOTP_ISSUER = env("TISKET_TOTP_ISSUER", "Tisket")
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Sent with every answer whose view sets no policy of its own (message bodies do);
# the UI has no inline script or style, so nothing "unsafe-inline". Empty: none sent.
TISKET_CONTENT_SECURITY_POLICY = env(
    "TISKET_CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
)

INSTALLED_APPS = [
    "tisket",
    "inboxes",
    "sla",
    "kb",
    "threads",
    "tickets",
    "interface",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "anymail",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "tisket.middleware.ContentSecurityPolicyMiddleware",
    "tisket.middleware.RequestSizeLimitMiddleware",
    "tisket.middleware.NulCharacterMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tisket.sessions.SessionActivityMiddleware",
    "tisket.audit.AuditContextMiddleware",
    "tisket.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Innermost, so a view's database error reaches it before any other handler.
    "tisket.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "interface.context_processors.organizations",
                "interface.context_processors.navigation",
            ],
        },
    },
]

# Database: DATABASE_URL (postgres://user:pass@host:5432/name), else SQLite in DATA_DIR.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{DATA_DIR / 'tisket.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the worker share the file: WAL lets readers run
    # beside one writer, and IMMEDIATE takes the write lock up front so two
    # writers wait for each other instead of failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "tisket.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
# Login throttling (the UI and Django admin): failures of one account from one
# address earn a doubling wait; failures from one address, or for one account
# from anywhere, earn a short one, never for an address the account logged in from.
TISKET_LOGIN_FAILURES = env_int("TISKET_LOGIN_FAILURES", 5)
TISKET_LOGIN_SOFT_FAILURES = env_int("TISKET_LOGIN_SOFT_FAILURES", 20)
TISKET_LOGIN_BACKOFF = env_int("TISKET_LOGIN_BACKOFF", 60)
TISKET_LOGIN_BACKOFF_MAX = env_int("TISKET_LOGIN_BACKOFF_MAX", 3600)
TISKET_LOGIN_SOFT_BACKOFF_MAX = env_int("TISKET_LOGIN_SOFT_BACKOFF_MAX", 300)
TISKET_LOGIN_WINDOW = env_int("TISKET_LOGIN_WINDOW", 24 * 3600)
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
# The languages a member may pick on their profile: dates, and Django's own texts.
LANGUAGES = [("en", "English"), ("fr", "Français"), ("de", "Deutsch"), ("es", "Español")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(DATA_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(DATA_DIR / "media")))
MEDIA_URL = "/media/"

# Attachments: local files by default; S3 (or any S3-compatible store) when a
# bucket is named. Credentials come from the standard AWS_* variables.
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME")
if AWS_STORAGE_BUCKET_NAME:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env("AWS_S3_ENDPOINT_URL") or None,
            "region_name": env("AWS_S3_REGION_NAME") or None,
            "location": env("AWS_LOCATION"),
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": env_int("AWS_QUERYSTRING_EXPIRE", 300),
            "file_overwrite": False,
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Let whitenoise serve straight from the app folders while developing.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# Outgoing mail: Django's own EMAIL_* names, or an Anymail ESP (ANYMAIL_ESP=postmark
# plus its ANYMAIL_<ESP>_* keys, e.g. ANYMAIL_POSTMARK_SERVER_TOKEN).
ANYMAIL_ESP = env("ANYMAIL_ESP").lower()
ANYMAIL = {
    key.removeprefix("ANYMAIL_"): value
    for key, value in os.environ.items()
    if key.startswith("ANYMAIL_") and key != "ANYMAIL_ESP"
}
# Anymail's webhook basic auth: "user:password", comma-separated to rotate.
if webhook_secret := env("TISKET_WEBHOOK_SECRET"):
    ANYMAIL["WEBHOOK_SECRET"] = env_list("TISKET_WEBHOOK_SECRET")
    del webhook_secret
if ANYMAIL_ESP:
    _default_email_backend = f"anymail.backends.{ANYMAIL_ESP}.EmailBackend"
elif env("EMAIL_HOST"):
    _default_email_backend = "django.core.mail.backends.smtp.EmailBackend"
else:
    # Nothing configured: write outgoing mail to files in DATA_DIR, never lose it.
    _default_email_backend = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_BACKEND = env("EMAIL_BACKEND", _default_email_backend)
EMAIL_FILE_PATH = DATA_DIR / "sent-mail"
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Tisket <tisket@localhost>")
SERVER_EMAIL = env("SERVER_EMAIL", DEFAULT_FROM_EMAIL)

# Keys that encrypt secrets at rest (inbox SMTP passwords, ESP keys); see tisket/lib/secrets_box.py.
TISKET_ENCRYPTION_KEYS = env_list("TISKET_ENCRYPTION_KEYS")

# Inbound mail
TISKET_INBOUND_DOMAIN = env("TISKET_INBOUND_DOMAIN", "tisket.localhost").lower()
TISKET_INBOUND_SECRET = env("TISKET_INBOUND_SECRET")
# Seconds a signed raw inbound request stays valid either side of its X-Tisket-Timestamp.
TISKET_INBOUND_SIGNATURE_WINDOW = env_int("TISKET_INBOUND_SIGNATURE_WINDOW", 300)
# Mails up to this size stay in the inbound log row; larger ones go to storage.
TISKET_INBOUND_INLINE_MAX_BYTES = env_int("TISKET_INBOUND_INLINE_MAX_BYTES", 512 * 1024)
# Request bodies: inbound mail paths accept up to TISKET_INBOUND_MAX_REQUEST_BYTES
# (a 35 MB mail is ~50 MB once base64-encoded in a webhook); every other path
# keeps Django's usual limit, enforced by tisket.middleware.RequestSizeLimitMiddleware.
TISKET_INBOUND_MAX_REQUEST_BYTES = env_int("TISKET_INBOUND_MAX_REQUEST_BYTES", 50 * 1024 * 1024)
TISKET_MAX_REQUEST_BYTES = env_int("TISKET_MAX_REQUEST_BYTES", 2_621_440)
# Paths that take large bodies: inbound mail, and replies with attachments.
TISKET_LARGE_REQUEST_PATHS = ("/anymail/", "/api/v1/inbound/raw/", "/api/v1/threads/")
# Days a client's signed link to their conversation (in every outbound mail) stays valid.
TISKET_CLIENT_LINK_DAYS = env_int("TISKET_CLIENT_LINK_DAYS", 30)
# The client portal (/hc/<org>/requests/): a sign-in link works once, for this many minutes;
# a client's session ends after this many days without use; sign-in mails asked per hour,
# from one address and for one email address.
TISKET_PORTAL_SIGN_IN_MINUTES = env_int("TISKET_PORTAL_SIGN_IN_MINUTES", 15)
TISKET_PORTAL_SESSION_DAYS = env_int("TISKET_PORTAL_SESSION_DAYS", 7)
TISKET_PORTAL_SIGN_INS_PER_ADDRESS = env_int("TISKET_PORTAL_SIGN_INS_PER_ADDRESS", 10)
TISKET_PORTAL_SIGN_INS_PER_EMAIL = env_int("TISKET_PORTAL_SIGN_INS_PER_EMAIL", 3)
TISKET_PORTAL_SIGN_INS_PER_EMAIL_ALL = env_int("TISKET_PORTAL_SIGN_INS_PER_EMAIL_ALL", 10)
# Seconds a member's notification waits, unread, before it is mailed (0: at once).
TISKET_NOTIFY_EMAIL_DELAY = env_int("TISKET_NOTIFY_EMAIL_DELAY", 300)
# Knowledge base: the largest image or file an editor may upload, and how many help-centre
# searches one address may make per minute (the public JSON search).
TISKET_KB_FILE_MAX_BYTES = env_int("TISKET_KB_FILE_MAX_BYTES", 5 * 1024 * 1024)
TISKET_KB_PUBLIC_SEARCH_RATE = env("TISKET_KB_PUBLIC_SEARCH_RATE", "30/minute")
# Tenants' own mail servers (SMTP to send, IMAP to poll): an address outside the
# public internet (loopback, private, link-local...) is refused unless listed here,
# as a host name, an address or a network (e.g. "relay.internal,10.0.5.0/24").
TISKET_ALLOWED_MAIL_HOSTS = env_list("TISKET_ALLOWED_MAIL_HOSTS")
# Organizations' single sign-on providers (OpenID Connect): the same rule for their
# issuer and endpoints; a host listed here may also be plain http (an internal provider).
TISKET_ALLOWED_SSO_HOSTS = env_list("TISKET_ALLOWED_SSO_HOSTS")
# Seconds: one whole exchange with a provider (discovery, token, keys).
TISKET_SSO_DEADLINE = env_int("TISKET_SSO_DEADLINE", 10)
# Seconds: one read or write on a tenant's mail server; a whole send; a whole poll;
# a "test connection". A server that drips bytes is cut off at the total.
TISKET_MAIL_IO_TIMEOUT = env_int("TISKET_MAIL_IO_TIMEOUT", 20)
TISKET_MAIL_SEND_DEADLINE = env_int("TISKET_MAIL_SEND_DEADLINE", 60)
TISKET_MAIL_POLL_DEADLINE = env_int("TISKET_MAIL_POLL_DEADLINE", 120)
TISKET_MAIL_TEST_DEADLINE = env_int("TISKET_MAIL_TEST_DEADLINE", 20)
# A member's mail into a conversation is the desk's own answer only when one of these
# verdicts authenticates its From (tisket/lib/mail/authentication.py); all off by default.
TISKET_TRUSTED_AUTHSERV_IDS = [i.lower() for i in env_list("TISKET_TRUSTED_AUTHSERV_IDS")]
TISKET_TRUST_RECEIVED_SPF = env_bool("TISKET_TRUST_RECEIVED_SPF")
TISKET_DKIM_VERIFY = env_bool("TISKET_DKIM_VERIFY")
# DNS servers for the DKIM check, as IP, IP:port or [IPv6]:port; empty: the system's.
TISKET_DNS_SERVERS = env_list("TISKET_DNS_SERVERS")
for _server in TISKET_DNS_SERVERS:
    if not is_ip_port(_server):
        raise ImproperlyConfigured(f"TISKET_DNS_SERVERS: not an IP address or IP:port: {_server!r}")
# Custom mail domains: the hosts of the MX records that route mail to Tisket (a domain whose
# MX names one of them gets its reply addresses on itself), and the SPF include of the
# installation's relay or ESP (e.g. spf.mtasv.net); unset: the checks cannot tell, and say so.
TISKET_INBOUND_MX_HOSTS = [h.lower().rstrip(".") for h in env_list("TISKET_INBOUND_MX_HOSTS")]
TISKET_SPF_INCLUDE = env("TISKET_SPF_INCLUDE", "").lower()
# Seconds for all the DNS lookups of one domain check.
TISKET_DOMAIN_CHECK_DEADLINE = env_int("TISKET_DOMAIN_CHECK_DEADLINE", 10)
# Optional: custom domains set up at the ESP through its API as well ("postmark": its
# Domains API, with an account token); the records to publish by hand work either way.
# The API's address is the installation's to set, never a tenant's.
TISKET_ESP_PROVISIONING = env("TISKET_ESP_PROVISIONING").lower()
TISKET_POSTMARK_ACCOUNT_TOKEN = env("TISKET_POSTMARK_ACCOUNT_TOKEN")
TISKET_POSTMARK_API_URL = env("TISKET_POSTMARK_API_URL", "https://api.postmarkapp.com")
if TISKET_ESP_PROVISIONING not in ("", "postmark"):
    raise ImproperlyConfigured("TISKET_ESP_PROVISIONING: only 'postmark' is known.")
if TISKET_ESP_PROVISIONING and not TISKET_POSTMARK_ACCOUNT_TOKEN:
    raise ImproperlyConfigured(
        "TISKET_ESP_PROVISIONING=postmark needs TISKET_POSTMARK_ACCOUNT_TOKEN."
    )
# New participants one inbound mail may add; the rest stay in its To/Cc only.
TISKET_MAX_NEW_PARTICIPANTS = env_int("TISKET_MAX_NEW_PARTICIPANTS", 50)
# Addresses (To and Cc) one reply or new conversation may go to; more is refused.
TISKET_MAX_RECIPIENTS = env_int("TISKET_MAX_RECIPIENTS", 50)
DATA_UPLOAD_MAX_MEMORY_SIZE = TISKET_INBOUND_MAX_REQUEST_BYTES

# Background work. Production: a broker (Redis, or RabbitMQ with CELERY_BROKER_URL)
# and Celery workers. Embedded default (no broker configured): nothing is published;
# the embedded worker (config/worker.py) finds its work in the database, whose inbound
# log and outbox are durable tables, and runs the same task functions.
REDIS_URL = env("REDIS_URL")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL)
TISKET_EMBEDDED_WORKER = not CELERY_BROKER_URL
if TISKET_EMBEDDED_WORKER:
    # Never used to publish (config/celery.py), but never a default AMQP on localhost either.
    CELERY_BROKER_URL = "memory://localhost//"
# Seconds after which a worker that has not been seen is reported dead by /healthz:
# the embedded worker says it is alive every second; a Celery worker with each task
# it runs, and beat queues sweeps every minute.
TISKET_WORKER_STALE_AFTER = env_int(
    "TISKET_WORKER_STALE_AFTER", 30 if TISKET_EMBEDDED_WORKER else 180
)
# The bearer token Prometheus scrapes /metrics with; unset, /metrics is off (404).
TISKET_METRICS_TOKEN = env("TISKET_METRICS_TOKEN")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
# Redis (and SQS) redeliver a task not acknowledged within the visibility timeout,
# acks_late tasks included: it must exceed the longest task's hard time limit, or a
# long task would run twice. Checked against every task by tests/tisket/test_celery.py.
TISKET_BROKER_VISIBILITY_TIMEOUT = env_int("TISKET_BROKER_VISIBILITY_TIMEOUT", 3600)
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # A Redis that takes the connection but never answers must not hang a request:
    # publishing gives up after a few seconds and the outbox sweep sends later.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": TISKET_BROKER_VISIBILITY_TIMEOUT,
        "socket_timeout": 2,
        "socket_connect_timeout": 2,
    }
elif CELERY_BROKER_URL.startswith(("amqp://", "amqps://", "pyamqp://")):
    # RabbitMQ redelivers only when the consumer's connection goes; it closes a
    # channel whose delivery stays unacknowledged past consumer_timeout (30 min by
    # default), so its server setting must exceed the longest task as well.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"confirm_publish": True}
    CELERY_BROKER_HEARTBEAT = 30
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
# Publishing must not hang a web request when the broker is down: the row is
# committed and the sweep below queues it later.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 3
# Work runs on a queue of its kind, so a tenant's slow mailbox or relay never delays
# intake: production runs a worker per queue (docker-compose.yml); a worker started
# without -Q consumes them all (the embedded default).
# TISKET_QUEUE_PREFIX names them apart when installations share a broker (a worker's
# -Q then takes the prefixed names).
TISKET_QUEUE_PREFIX = env("TISKET_QUEUE_PREFIX")
CELERY_TASK_DEFAULT_QUEUE = f"{TISKET_QUEUE_PREFIX}celery"
CELERY_TASK_QUEUES = [
    Queue(f"{TISKET_QUEUE_PREFIX}{kind}")
    for kind in ("celery", "ingest", "outbound", "poll", "sla", "index")
]
CELERY_TASK_ROUTES = {
    pattern: {"queue": f"{TISKET_QUEUE_PREFIX}{kind}"}
    for pattern, kind in (
        ("tickets.tasks.inbound_*", "ingest"),
        ("threads.tasks.outbox_*", "outbound"),
        ("tickets.tasks.mailbox*", "poll"),
        ("tickets.tasks.sla_*", "sla"),
        ("inboxes.tasks.*", "poll"),
        # Search and other derived data, rebuilt from the rows: never ahead of intake.
        ("*.tasks.index_*", "index"),
    )
}
# Every task has time limits; the tasks that talk to tenants' servers have tighter
# ones of their own, above the network deadlines that bound them first.
CELERY_TASK_SOFT_TIME_LIMIT = env_int("TISKET_TASK_SOFT_TIME_LIMIT", 300)
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 60
CELERY_BEAT_SCHEDULE = {
    "inbound-mail-sweep": {"task": "tickets.tasks.inbound_mail_sweep", "schedule": 60},
    "outbox-sweep": {"task": "threads.tasks.outbox_sweep_task", "schedule": 60},
    "mailboxes-poll": {"task": "tickets.tasks.mailboxes_poll_task", "schedule": 60},
    "sla-sweep": {"task": "tickets.tasks.sla_sweep_task", "schedule": 60},
    "notification-mails": {"task": "tickets.tasks.notification_mails_task", "schedule": 60},
    "mail-domains-check": {"task": "inboxes.tasks.mail_domains_check_task", "schedule": 3600},
    "kb-embed-sweep": {"task": "kb.tasks.index_articles_embed_stale", "schedule": 300},
    "clear-expired-sessions": {
        "task": "tisket.tasks.sessions_clear",
        "schedule": 6 * 3600,
    },
    "audit-sweep": {"task": "tisket.tasks.audit_sweep_task", "schedule": 24 * 3600},
    "portal-clear": {"task": "threads.tasks.portal_clear_task", "schedule": 6 * 3600},
}

# The REST API: authentication, throttles, pagination, errors and the OpenAPI schema.
REST_FRAMEWORK, SPECTACULAR_SETTINGS = (
    api_settings.REST_FRAMEWORK,
    api_settings.SPECTACULAR_SETTINGS,
)
# Tool calls of one token through the MCP server (N/second, N/minute, N/hour, N/day).
TISKET_MCP_RATE = env("TISKET_MCP_RATE", "600/minute")

# The cache is shared by every process: Redis in production; in the embedded
# default, files in DATA_DIR, which the web server and the worker both see.
CACHES = {
    # A Redis that is down or hung fails a cache call within a second: pages that
    # use the cache (presence, rate limits) degrade instead of hanging.
    "default": {
        "BACKEND": "tisket.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
    if REDIS_URL
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(DATA_DIR / "cache"),
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
