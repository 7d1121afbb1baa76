"""Reading ids out of query strings and forms, where anything may have been typed."""

import re

_ID_RE = re.compile(r"[0-9]{1,19}")
# A BigAutoField's range: beyond it no row exists, and the database would refuse
# the number itself (SQLite raises OverflowError, PostgreSQL "out of range").
ID_MAX = 2**63 - 1


def id_param(value: str | None) -> int | None:
    """The id written in value, or None: not ASCII digits, or no id could be that large.

    str.isdigit() is no guard: it takes "²" and "٣", which int() refuses or reads.
    """
    if value is None or not _ID_RE.fullmatch(value):
        return None
    number = int(value)
    return number if 0 < number <= ID_MAX else None
