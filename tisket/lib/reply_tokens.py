"""Signed reply tokens: the `+r<id>-<sig>` part of a thread's reply address.

Lowercase letters and digits only, since mail systems may lowercase local
parts; 48 bits of HMAC are plenty where each guess costs an email.
"""

from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "tisket.reply-token"
DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(number: int) -> str:
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = DIGITS[rest] + out
        if not number:
            return out


def _signature(ident: str) -> str:
    return salted_hmac(SALT, ident, algorithm="sha256").hexdigest()[:12]


def reply_token_make(thread_id: int) -> str:
    ident = _base36(thread_id)
    return f"r{ident}-{_signature(ident)}"


def reply_token_read(token: str) -> int | None:
    """The thread id a token names, or None when it is not one of ours."""
    token = token.strip().lower()
    if not token.startswith("r") or token.count("-") != 1 or len(token) > 40:
        return None
    ident, signature = token[1:].split("-")
    if not ident or any(c not in DIGITS for c in ident):
        return None
    if not constant_time_compare(signature, _signature(ident)):
        return None
    return int(ident, 36)
