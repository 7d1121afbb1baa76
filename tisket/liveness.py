"""Whether a worker is alive, and waking the embedded one.

Every worker says it is alive in the shared cache (Redis in production, files
in the data dir in the embedded default): the embedded worker every second, a
Celery worker when it starts and after the tasks it runs (beat queues sweeps
every minute). /healthz and /metrics read it back.
"""

import logging
import time
from pathlib import Path

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

SEEN_KEY = "tisket:worker:seen"
# A busy Celery worker runs a thousand tasks a second: it says so once per interval.
SEEN_INTERVAL = 1.0

# The tasks the embedded worker runs without a broker (config/worker.py): each one
# stands for rows it finds in the database, or runs on its schedule.
EMBEDDED_TASKS = frozenset(
    {
        "tickets.tasks.inbound_mail_process",  # pending inbound mail
        "tickets.tasks.inbound_mail_sweep",
        "threads.tasks.outbox_send_task",  # due outbox rows
        "threads.tasks.outbox_send_many_task",
        "threads.tasks.outbox_sweep_task",
        "tickets.tasks.mailboxes_poll_task",  # on schedule; polls inline
        "tickets.tasks.mailbox_poll_task",
        "tickets.tasks.sla_sweep_task",  # on schedule
        "tickets.tasks.notification_mails_task",  # on schedule
        "tisket.tasks.sessions_clear",
        "tisket.tasks.audit_sweep_task",
        "threads.tasks.portal_clear_task",
        "inboxes.tasks.mail_domains_check_task",
        "kb.tasks.index_articles_embed_stale",
    }
)
# Work with no row behind it, asked for now (a password-reset mail, a domain checked on
# demand, an article's embedding): the embedded default runs it in a thread of the
# process that asked, after that request's commit.
EMBEDDED_DETACHED = frozenset(
    {
        "tisket.tasks.password_reset_mail_send",
        "inboxes.tasks.mail_domain_check_task",
        "inboxes.tasks.mail_domain_esp_sync_task",
        "inboxes.tasks.esp_inbound_server_remove_task",
        "kb.tasks.index_article_embed",
    }
)

_said_at = float("-inf")


def worker_seen(*, force: bool = False) -> None:
    """Record that a worker of this installation is alive now (at most once a second)."""
    global _said_at
    now = time.monotonic()
    if not force and now - _said_at < SEEN_INTERVAL:
        return
    _said_at = now
    try:
        cache.set(SEEN_KEY, time.time(), timeout=24 * 3600)
    except Exception as exc:  # a cache that is down must not fail the work itself
        logger.warning("worker liveness not recorded: %s", exc)


def worker_last_seen() -> float | None:
    """Seconds since a worker last said it was alive; None when none ever did (or the
    cache does not answer)."""
    try:
        seen = cache.get(SEEN_KEY)
    except Exception:
        return None
    return None if seen is None else max(0.0, time.time() - float(seen))


def wake_path() -> Path:
    return Path(settings.DATA_DIR) / "worker.wake"


def worker_wake() -> None:
    """Tell the embedded worker there is work in the database (it also looks every second)."""
    try:
        wake_path().touch()
    except OSError as exc:
        logger.warning(
            "the embedded worker was not woken (%s); it looks again within a second", exc
        )


def job_record(*, name: str, seconds: float) -> None:
    """Record how long a periodic job took and when it ended (for /metrics)."""
    try:
        cache.set(f"tisket:job:{name}", (time.time(), seconds), timeout=7 * 24 * 3600)
    except Exception as exc:
        logger.warning("job %s not recorded: %s", name, exc)


def job_last(*, name: str) -> tuple[float, float] | None:
    """(seconds since the job last ended, how long it took), or None."""
    try:
        value = cache.get(f"tisket:job:{name}")
    except Exception:
        return None
    if value is None:
        return None
    ended, seconds = value
    return max(0.0, time.time() - ended), seconds
