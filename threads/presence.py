"""Who is looking at a thread right now, and who is writing a reply to it.

Kept in the cache only: it is worth 30 seconds and nothing is lost when it
goes. When the cache itself is down, nobody is shown: the page and the reply
work as ever, without the warning. One entry per thread holds every member's last heartbeat; two
heartbeats that race may drop one of them, which the next one (10 s later)
repairs, so no lock is taken.
"""

import logging
import time
from dataclasses import dataclass

from django.core.cache import cache

logger = logging.getLogger(__name__)

PRESENCE_TTL = 30  # seconds a heartbeat counts for; the page sends one every 10 s


@dataclass(frozen=True)
class Presence:
    membership_id: int
    name: str
    typing: bool


def _key(thread_id: int) -> str:
    return f"presence:thread:{thread_id}"


def _live(entries: dict, now: float) -> dict:
    return {pk: entry for pk, entry in entries.items() if now - entry[2] < PRESENCE_TTL}


def presence_touch(*, thread_id: int, membership_id: int, name: str, typing: bool) -> None:
    """Record that this member has the thread open (and whether they are writing a reply)."""
    now = time.time()
    try:
        entries = _live(cache.get(_key(thread_id)) or {}, now)
        entries[membership_id] = (name, typing, now)
        cache.set(_key(thread_id), entries, PRESENCE_TTL)
    except Exception as error:  # the cache's own connection errors, whatever the backend
        logger.warning("presence not kept, the cache failed: %s", error)


def presence_others(*, thread_id: int, membership_id: int) -> list[Presence]:
    """The other members on the thread in the last 30 seconds, those writing first."""
    try:
        entries = _live(cache.get(_key(thread_id)) or {}, time.time())
    except Exception as error:  # the cache's own connection errors, whatever the backend
        logger.warning("presence not read, the cache failed: %s", error)
        return []
    others = [
        Presence(membership_id=pk, name=name, typing=typing)
        for pk, (name, typing, _) in entries.items()
        if pk != membership_id
    ]
    return sorted(others, key=lambda p: (not p.typing, p.name.lower()))
