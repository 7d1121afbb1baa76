"""Secrets at rest (SMTP passwords, ESP keys): Fernet with keys from the environment.

TISKET_ENCRYPTION_KEYS is a comma-separated list of Fernet keys, the first
used to encrypt and all to decrypt, so keys rotate without downtime. Unset,
one key is derived from SECRET_KEY.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SecretUnreadable(Exception):
    """A stored secret no configured key opens (the key was rotated away)."""


def _box() -> MultiFernet:
    keys = [k.strip() for k in settings.TISKET_ENCRYPTION_KEYS if k.strip()]
    if not keys:
        digest = hashlib.sha256(f"tisket.secrets:{settings.SECRET_KEY}".encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(k) for k in keys])


def secret_seal(value: str) -> str:
    return _box().encrypt(value.encode()).decode() if value else ""


def secret_open(token: str) -> str:
    if not token:
        return ""
    try:
        return _box().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("A stored secret cannot be read with the configured keys.") from None
