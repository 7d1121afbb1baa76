"""Two-factor sign-in: a TOTP authenticator app, and one-time recovery codes.

Devices are django-otp's: a TOTP device (RFC 6238, which refuses a code already
used, and waits longer after each wrong one) and a static device whose tokens
are the recovery codes. A recovery code is stored as a hash, so the database
holds no code a person could type; each works once.
"""

import base64
import hashlib
import secrets

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tisket.audit import Action, audit_record_for_user
from tisket.errors import ConflictError, NotAllowedError
from tisket.models import Membership, Organization, User

RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


def _code_hash(code: str) -> str:
    normalized = "".join(code.lower().split()).replace("-", "")
    return hashlib.sha256(f"tisket-recovery:{normalized}".encode()).hexdigest()[:16]


def _recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))  # ~49 bits
    return f"{raw[:5]}-{raw[5:]}"


def two_factor_enabled(*, user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def totp_device_pending(*, user: User) -> TOTPDevice:
    """The authenticator being set up: a new secret until a code from it confirms it."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def totp_secret_text(device: TOTPDevice) -> str:
    """The secret as people type it into an app that cannot scan: base32, in groups of four."""
    text = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


@transaction.atomic
def two_factor_enable(*, user: User, code: str) -> list[str] | None:
    """Confirm the pending authenticator with a code from it; returns the new recovery codes.

    None when the code is wrong (nothing changes).
    """
    if two_factor_enabled(user=user):
        raise ConflictError("Two-factor sign-in is on already.")
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None or not device.verify_token(code.strip()):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _recovery_codes_make(user=user)
    audit_record_for_user(user=user, action=Action.TWO_FACTOR_ENABLED)
    return codes


def _recovery_codes_make(*, user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(
        [StaticToken(device=device, token=_code_hash(code)) for code in codes]
    )
    return codes


@transaction.atomic
def recovery_codes_renew(*, user: User) -> list[str]:
    """New recovery codes; the earlier ones stop working."""
    if not two_factor_enabled(user=user):
        raise ConflictError("Turn on two-factor sign-in first.")
    codes = _recovery_codes_make(user=user)
    audit_record_for_user(user=user, action=Action.RECOVERY_CODES_RENEWED)
    return codes


def recovery_codes_left(*, user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def organizations_requiring(*, user: User) -> QuerySet[Organization]:
    return Organization.objects.filter(memberships__user=user, require_two_factor=True)


@transaction.atomic
def two_factor_disable(*, user: User) -> None:
    """Turn two-factor sign-in off; refused while an organization of theirs requires it."""
    required = list(organizations_requiring(user=user).values_list("name", flat=True))
    if required:
        raise ConflictError(f"{', '.join(required)} requires two-factor sign-in; it stays on.")
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    audit_record_for_user(user=user, action=Action.TWO_FACTOR_DISABLED)


def two_factor_verify(*, user: User, code: str) -> str | None:
    """Check a sign-in's second factor: "totp" or "recovery" for the kind that matched, else None.

    A TOTP code is taken once; a recovery code is spent. Wrong codes are audited.
    """
    code = "".join(code.split())
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        return None
    if code.isdigit() and len(code) == device.digits:
        if device.verify_token(code):
            return "totp"
    else:
        static = StaticDevice.objects.filter(user=user, confirmed=True).first()
        if static is not None and static.verify_token(_code_hash(code)):
            left = recovery_codes_left(user=user)
            audit_record_for_user(user=user, action=Action.RECOVERY_CODE_USED, data={"left": left})
            return "recovery"
    audit_record_for_user(user=user, action=Action.TWO_FACTOR_FAILED)
    return None


def members_with_two_factor(members: QuerySet[Membership]) -> QuerySet[Membership]:
    """Members annotated with `two_factor`: whether they sign in with a second factor."""
    return members.annotate(
        two_factor=Exists(TOTPDevice.objects.filter(user=OuterRef("user"), confirmed=True))
    )


def api_token_two_factor_check(*, membership: Membership) -> None:
    """Refuse a new API token to a member whose organization requires 2FA while theirs is off.

    A token signs in without a second factor, so only a member who has one may make
    one. Tokens made before the organization required it keep working: scripts
    cannot type codes, and admins see every token on the tokens page to revoke.
    """
    organization = membership.organization
    if organization.require_two_factor and not two_factor_enabled(user=membership.user):
        raise NotAllowedError(
            f"{organization.name} requires two-factor sign-in: turn it on for "
            f"{membership.user.email} before creating an API token."
        )
