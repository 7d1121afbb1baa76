"""Test settings: the real settings, with only what tests need changed."""

import tempfile

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Links are built for the address the tests expect, not for where a `make run` in this
# checkout last served (var/site_url), unless SITE_URL says otherwise.
if not env("SITE_URL"):  # noqa: F405
    SITE_URL = "http://127.0.0.1:8000"
    CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", SITE_URL)  # noqa: F405
# Tasks run in-process at commit; tests of the worker itself start a real one.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# Per-process cache, so throttling counters never leak between parallel tests.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = tempfile.mkdtemp(prefix="tisket-test-media-")
# Serve static files from the app folders, as DEBUG does, without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
ANYMAIL = {**ANYMAIL, "WEBHOOK_SECRET": ["tisket:webhook-secret", "old:rotated-out"]}  # noqa: F405
TISKET_INBOUND_SECRET = "inbound-test-secret"  # noqa: S105
TISKET_INBOUND_DOMAIN = "in.tisket.test"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LOGGING = {"version": 1, "disable_existing_loggers": False}
# The tests' own SMTP and IMAP servers listen on loopback, as an internal relay
# would; the tests of the guard itself clear this list.
TISKET_ALLOWED_MAIL_HOSTS = ["127.0.0.1"]
# The tests' OpenID Connect provider listens on loopback too.
TISKET_ALLOWED_SSO_HOSTS = ["127.0.0.1"]
# The receiving server of the tests: member mail carrying its Authentication-Results
# (tests/mail.py, authenticated=True) is the desk's own.
TISKET_TRUSTED_AUTHSERV_IDS = ["mx.tisket.test"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    # Flush by DELETE rather than TRUNCATE after a test that commits (tests/postgresql);
    # and no test waits for its commits to reach the disk: a crash loses a test database.
    DATABASES["default"]["ENGINE"] = "tests.postgresql"  # noqa: F405
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c synchronous_commit=off"  # noqa: F405
