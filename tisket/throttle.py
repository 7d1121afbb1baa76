"""Counted attempts kept in the database: wrong passwords with their back-off, and the
rate limits of requests that send mail (password resets, portal sign-in links)."""

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from tisket.models import (
    LoginThrottle,
    UserManager,
)


def _login_keys(*, username: str, address: str) -> dict[str, str]:
    account = UserManager.normalize(username)
    values = {
        LoginThrottle.Scope.PAIR: f"{account}\n{address}",
        LoginThrottle.Scope.ADDRESS: address,
        LoginThrottle.Scope.ACCOUNT: account,
    }
    return {
        scope: salted_hmac("tisket.login", f"{scope}:{value}", algorithm="sha256").hexdigest()
        for scope, value in values.items()
    }


def login_wait(*, username: str, address: str) -> int:
    """Seconds before this account may try its password from this address; 0: it may now."""
    # Whether the account exists makes no difference. An address the account
    # logged in from before waits only for its own failures, never for others'.
    now = timezone.now()
    keys = _login_keys(username=username, address=address)
    rows = {
        row.scope: row
        for row in LoginThrottle.objects.filter(key_hash__in=keys.values())
        if keys[row.scope] == row.key_hash
    }
    pair = rows.get(LoginThrottle.Scope.PAIR)
    known = pair is not None and pair.succeeded_at is not None
    counted = [pair] if known else rows.values()
    until = max((row.blocked_until for row in counted if row.blocked_until), default=now)
    return max(0, math.ceil((until - now).total_seconds()))


def login_failure_record(*, username: str, address: str) -> None:
    """Count a wrong password (or an unknown account) against the account, the address and both."""
    now = timezone.now()
    keys = _login_keys(username=username, address=address)
    for scope, key_hash in keys.items():
        if scope == LoginThrottle.Scope.PAIR:
            limit, cap = settings.TISKET_LOGIN_FAILURES, settings.TISKET_LOGIN_BACKOFF_MAX
        else:
            limit, cap = settings.TISKET_LOGIN_SOFT_FAILURES, settings.TISKET_LOGIN_SOFT_BACKOFF_MAX
        _login_failure_count(scope=scope, key_hash=key_hash, now=now, limit=limit, cap=cap)


@transaction.atomic
def _login_failure_count(*, scope: str, key_hash: str, now: datetime, limit: int, cap: int) -> None:
    row, _ = LoginThrottle.objects.select_for_update().get_or_create(scope=scope, key_hash=key_hash)
    window = timedelta(seconds=settings.TISKET_LOGIN_WINDOW)
    if row.last_failure_at is not None and row.last_failure_at <= now - window:
        row.failures = 0
    row.failures += 1
    row.last_failure_at = now
    if row.failures >= limit:
        # Doubling from the first wait on: a guesser's rate falls off fast, a typo costs a minute.
        wait = min(settings.TISKET_LOGIN_BACKOFF * 2 ** min(row.failures - limit, 30), cap)
        row.blocked_until = now + timedelta(seconds=wait)
    row.save(update_fields=["failures", "last_failure_at", "blocked_until"])


def login_success_record(*, username: str, address: str) -> None:
    """A right password: its count from this address restarts, and the address becomes known."""
    key_hash = _login_keys(username=username, address=address)[LoginThrottle.Scope.PAIR]
    LoginThrottle.objects.update_or_create(
        scope=LoginThrottle.Scope.PAIR,
        key_hash=key_hash,
        defaults={"failures": 0, "blocked_until": None, "succeeded_at": timezone.now()},
    )


def rate_take(*, scope: str, value: str, limit: int, window: int) -> bool:
    """Count one request of this key; False once it made `limit` within `window` seconds."""
    now = timezone.now()
    key_hash = salted_hmac("tisket.rate", f"{scope}:{value}", algorithm="sha256").hexdigest()
    with transaction.atomic():
        row, _ = LoginThrottle.objects.select_for_update().get_or_create(
            scope=scope, key_hash=key_hash
        )
        if row.last_failure_at is None or row.last_failure_at <= now - timedelta(seconds=window):
            row.failures, row.last_failure_at = 0, now  # a new window starts
        if row.failures >= limit:
            return False
        row.failures += 1
        row.save(update_fields=["failures", "last_failure_at"])
    return True


def password_reset_allowed(*, email: str, address: str) -> bool:
    """Whether one more reset mail may be asked for this address, from this client address.

    Counted whether the account exists or not, so the answer tells nothing about it.
    """
    by_address = rate_take(
        scope=LoginThrottle.Scope.RESET_ADDRESS,
        value=address,
        limit=settings.TISKET_PASSWORD_RESETS_PER_ADDRESS,
        window=3600,
    )
    return by_address and rate_take(
        scope=LoginThrottle.Scope.RESET_ACCOUNT,
        value=UserManager.normalize(email),
        limit=settings.TISKET_PASSWORD_RESETS_PER_ACCOUNT,
        window=3600,
    )
