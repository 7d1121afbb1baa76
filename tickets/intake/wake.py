"""Waking the worker for recorded mail: one queued run at a time, shared by every edge.

At a thousand mails a second, a task per mail would cost more than the mail:
the first mail queues a run and sets a flag in the cache; the ones after it
ride along. Invariants:

- A run clears the flag before its last look for pending mail, so a mail that
  found the flag set is always seen by the run that set it.
- A process that saw the flag set less than TISKET_INBOUND_KICK_WINDOW ago does
  not look again: a run waits that long between clearing the flag and its last
  look, so that look comes after this mail's commit.
- The flag only spares work; it never decides correctness. If the broker or
  the cache is down, or a run dies, the mail stays pending in its row and the
  sweep (every minute, trusting no flag) queues a run.
"""

import logging
import time

from django.conf import settings
from django.core.cache import cache

from threads import inbound
from threads.ingest import AfterStore

logger = logging.getLogger(__name__)

KICK_KEY = "tisket:inbound:run-queued"
# A run lost with its worker blocks new runs this long at most; the sweep covers it.
KICK_SECONDS = 10

# When this process last saw the run flag set (time.monotonic()): a hint that spares
# a cache round trip per mail, never a decision (see the invariants above).
_flag_seen_at = float("-inf")


def intake_wake(*, inbound_id: int) -> None:
    """Wake the worker for a recorded mail, unless a run that will see it is already queued."""
    now = time.monotonic()  # read before the flag: the run clears it after this
    if now - _flag_seen_at < settings.TISKET_INBOUND_KICK_WINDOW:
        return
    _run_queue(inbound_id, seen_at=now)


def _run_queue(inbound_id: int, *, seen_at: float) -> None:
    """Set the flag and queue a run, or ride along with the run that set it."""
    from tickets.tasks import inbound_mail_process

    global _flag_seen_at
    try:
        added = cache.add(KICK_KEY, inbound_id, timeout=KICK_SECONDS)
    except Exception as exc:  # the row is committed; the periodic sweep picks it up
        logger.warning("inbound #%s not queued (cache: %s); the sweep will retry", inbound_id, exc)
        return
    if added:
        try:
            inbound_mail_process.delay(inbound_id)
        except Exception as exc:  # the row is committed; the periodic sweep picks it up
            cache.delete(KICK_KEY)
            logger.warning("inbound #%s not queued (%s); the sweep will retry", inbound_id, exc)
            return
    _flag_seen_at = seen_at


def intake_run(*, after_store: AfterStore) -> int:
    """Process pending mail until none is left: the run a wake-up queued.

    A run that fails (the database went away) clears the flag, so that the next
    mail queues a fresh run, and raises: its task is retried for the mail that
    rode along with it.
    """
    try:
        processed = inbound.inbound_process_pending(after_store=after_store)
    finally:
        cache.delete(KICK_KEY)
    # Mail recorded while the flag was still set queued no run: it is pending now,
    # or will be within the window in which edges trust a flag they saw.
    time.sleep(settings.TISKET_INBOUND_KICK_WINDOW)
    return processed + inbound.inbound_process_pending(after_store=after_store)


def intake_sweep() -> list[int]:
    """Queue a run over mail left pending; beat calls it every minute."""
    ids = inbound.inbound_pending_stale()
    if ids:
        # Whatever run was flagged did not get to them. Never trust a flag here.
        cache.delete(KICK_KEY)
        _run_queue(ids[0], seen_at=time.monotonic())
    return ids
