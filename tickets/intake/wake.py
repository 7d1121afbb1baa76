"""Waking the worker for recorded mail: one queued run at a time, shared by every edge.

At a thousand mails a second, a task per mail would cost more than the mail:
the first mail queues a run and sets a flag in the cache (an atomic add); the
ones after it find the flag set and ride along. Invariants:

- An edge asks only after its mail is committed (on_commit), and a run clears
  the flag before its last look for pending mail. So a mail that found the
  flag set was committed before the flag was cleared, and that last look sees it.
- The flag only spares work; it never decides correctness. If the broker or
  the cache is down, or a run dies, the mail stays pending in its row and the
  sweep (every minute, trusting no flag) queues a run. The flag expires after
  KICK_SECONDS, so a run lost with its worker blocks new runs no longer.

No state lives in the process: each mail costs one cache round trip.
"""

import logging

from django.core.cache import cache

from threads import inbound
from threads.ingest import AfterStore

logger = logging.getLogger(__name__)

KICK_KEY = "tisket:inbound:run-queued"
KICK_SECONDS = 10


def intake_wake(*, inbound_id: int) -> None:
    """Wake the worker for a committed mail, unless a run that will see it is already queued."""
    from tickets.tasks import inbound_mail_process

    try:
        added = cache.add(KICK_KEY, inbound_id, timeout=KICK_SECONDS)
    except Exception as exc:  # the row is committed; the periodic sweep picks it up
        logger.warning("inbound #%s not queued (cache: %s); the sweep will retry", inbound_id, exc)
        return
    if not added:
        return  # a queued run will see this mail (see the invariants above)
    try:
        inbound_mail_process.delay(inbound_id)
    except Exception as exc:  # the row is committed; the periodic sweep picks it up
        cache.delete(KICK_KEY)
        logger.warning("inbound #%s not queued (%s); the sweep will retry", inbound_id, exc)


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
    # Mail that found the flag set before it was cleared is committed: this look sees it.
    return processed + inbound.inbound_process_pending(after_store=after_store)


def intake_sweep() -> list[int]:
    """Queue a run over mail left pending; beat calls it every minute."""
    ids = inbound.inbound_pending_stale()
    if ids:
        # Whatever run was flagged did not get to them. Never trust a flag here.
        cache.delete(KICK_KEY)
        intake_wake(inbound_id=ids[0])
    return ids
