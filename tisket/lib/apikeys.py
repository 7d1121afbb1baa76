"""API keys: generated with 256 bits of randomness, stored only as a SHA-256."""

import hashlib
import secrets

PREFIX = "tsk_"


def api_key_generate() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def api_key_hash(key: str) -> str:
    # A fast hash is enough: the key is random, not a password a person chose.
    return hashlib.sha256(key.encode()).hexdigest()
