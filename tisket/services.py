"""Writes of the core: organizations, members, API tokens, sequences."""

import math
import re
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from tisket.audit import Action, audit_record, audit_record_for_user
from tisket.errors import ConflictError, NotAllowedError, TisketError
from tisket.lib.apikeys import api_key_generate, api_key_hash
from tisket.models import (
    ApiToken,
    Invitation,
    LoginThrottle,
    Membership,
    Organization,
    Role,
    Sequence,
    TokenScope,
    User,
    UserManager,
    UserSession,
    role_at_least,
)
from tisket.two_factor import api_token_two_factor_check


def user_get_or_create(
    *, email: str, full_name: str = "", password: str | None = None
) -> tuple[User, bool]:
    """The user with this email, created (with this password) when there is none."""
    email = UserManager.normalize(email)
    user = User.objects.filter(email=email).first()
    if user:
        return user, False
    user = User(email=email, full_name=full_name)
    user.set_password(password)
    user.full_clean()
    user.save()
    return user, True


def organization_code_suggest(*, slug: str) -> str:
    """A free reference code derived from the slug: acme-corp -> ACMECORP, then ACMECORP2..."""
    base = re.sub(r"[^A-Z0-9]", "", slug.upper())[:8] or "ORG"
    base = base if len(base) >= 2 else base + "0"
    code, n = base, 1
    while Organization.objects.filter(code=code).exists():
        n += 1
        code = f"{base}{n}"
    return code


@transaction.atomic
def organization_create(
    *, name: str, slug: str, owner: User, code: str = "", timezone_name: str = "UTC"
) -> Organization:
    """Create an organization with its first owner."""
    organization = Organization(
        name=name,
        slug=slug.strip().lower(),
        code=(code or organization_code_suggest(slug=slug)).upper(),
        timezone=timezone_name,
    )
    organization.full_clean()
    organization.save()
    Membership.objects.create(user=owner, organization=organization, role=Role.OWNER)
    return organization


def organization_update(
    *,
    organization: Organization,
    name: str | None = None,
    timezone: str | None = None,
    require_two_factor: bool | None = None,
    restrict_agents_to_queues: bool | None = None,
) -> Organization:
    """Rename an organization, change its time zone or its sign-in rule; slug and code stay."""
    fields = {
        k: v
        for k, v in {
            "name": name,
            "timezone": timezone,
            "require_two_factor": require_two_factor,
            "restrict_agents_to_queues": restrict_agents_to_queues,
        }.items()
        if v is not None and getattr(organization, k) != v
    }
    for field, value in fields.items():
        setattr(organization, field, value)
    organization.full_clean()
    if fields:
        organization.save(update_fields=list(fields))
        audit_record(
            organization=organization,
            action=Action.ORGANIZATION_CHANGED,
            target=organization,
            data=fields,
        )
    return organization


def _check_can_manage(*, actor: Membership | None, role: str, current: str | None = None) -> None:
    # actor None means the installation itself (a management command, Django admin).
    if actor is None:
        return
    if not actor.has_role(Role.ADMIN):
        raise NotAllowedError("Only admins and owners manage members.")
    if Role.OWNER in (role, current) and actor.role != Role.OWNER:
        raise NotAllowedError("Only an owner can grant, change or remove the owner role.")


def _check_keeps_an_owner(*, membership: Membership, new_role: str | None) -> None:
    if membership.role != Role.OWNER or new_role == Role.OWNER:
        return
    owners = Membership.objects.select_for_update().filter(
        organization_id=membership.organization_id, role=Role.OWNER
    )
    if len(owners) <= 1:
        raise ConflictError("An organization keeps at least one owner.")


@transaction.atomic
def membership_set_role(
    *, membership: Membership, role: str, actor: Membership | None
) -> Membership:
    """Change a member's role."""
    _check_can_manage(actor=actor, role=role, current=membership.role)
    _check_keeps_an_owner(membership=membership, new_role=role)
    before = membership.role
    membership.role = Role(role)
    membership.save(update_fields=["role"])
    if before != membership.role:
        audit_record(
            organization=membership.organization_id,
            action=Action.MEMBER_ROLE_CHANGED,
            actor=actor,
            target=membership.user,
            data={"from": before, "to": membership.role},
        )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: Membership | None) -> None:
    """Remove a member from the organization; their API tokens go with the membership."""
    _check_can_manage(actor=actor, role=membership.role, current=membership.role)
    _check_keeps_an_owner(membership=membership, new_role=None)
    audit_record(
        organization=membership.organization_id,
        action=Action.MEMBER_REMOVED,
        actor=actor,
        target=membership.user,
        data={"role": membership.role},
    )
    membership.delete()


def api_token_create(
    *,
    membership: Membership,
    name: str,
    role: str = "",
    scope: str = TokenScope.WRITE,
    created_by: User | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; returns it and its key, which is never retrievable again."""
    api_token_two_factor_check(membership=membership)
    if role and not role_at_least(membership.role, role):
        raise NotAllowedError(
            f"A token cannot have more than its member's role ({membership.role})."
        )
    key = api_key_generate()
    token = ApiToken(
        membership=membership,
        name=name or "API token",
        role=role,
        scope=TokenScope(scope),
        prefix=key[:12],
        key_hash=api_key_hash(key),
        created_by=created_by,
    )
    token.full_clean()
    token.save()
    audit_record(
        organization=membership.organization_id,
        action=Action.TOKEN_CREATED,
        actor=created_by,
        target=token,
        data={"member": membership.user.email, "ceiling": role or "member's role"},
    )
    return token, key


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke a token for good; revoking twice keeps the first time."""
    done = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    token.refresh_from_db(fields=["revoked_at"])
    if done:
        audit_record(
            organization=token.membership.organization_id,
            action=Action.TOKEN_REVOKED,
            target=token,
        )
    return token


def api_token_touch(*, token: ApiToken, every_seconds: int = 60) -> None:
    """Record that the token was used; at most one write a minute per token."""
    now = timezone.now()
    if token.last_used_at and (now - token.last_used_at).total_seconds() < every_seconds:
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now


def sequence_next(*, organization_id: int, name: str, count: int = 1) -> int:
    """Take the next `count` numbers of a per-organization sequence; returns the last of them.

    Gap-free and unique: call it inside the transaction that stores the
    numbered rows. The UPDATE holds the counter's row lock until that
    transaction ends, so concurrent callers queue up, and a rollback gives
    the numbers back.
    """
    with transaction.atomic(savepoint=False):
        number = _sequence_increment(organization_id, name, count)
        if number is None:
            try:
                with transaction.atomic():
                    Sequence.objects.create(
                        organization_id=organization_id, name=name, last_value=count
                    )
                    return count
            except IntegrityError:
                # Another transaction created the counter first; now it exists.
                number = _sequence_increment(organization_id, name, count)
        return number


def _sequence_increment(organization_id: int, name: str, count: int) -> int | None:
    # One round trip: UPDATE ... RETURNING (PostgreSQL, SQLite 3.35+).
    table = Sequence._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_value = last_value + %s"  # noqa: S608 (our table name)
            " WHERE organization_id = %s AND name = %s RETURNING last_value",
            [count, organization_id, name],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def validation_message(error: ValidationError) -> str:
    """One line from a Django ValidationError, for the API and commands."""
    if hasattr(error, "message_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items())
    return " ".join(error.messages)


# --- Invitations ------------------------------------------------------------------

INVITATION_LIFETIME = timedelta(days=7)


class InvitationError(TisketError):
    """The invitation link cannot be used; the message says why, in the invitee's words."""

    status_code = 410


def _invitation_token() -> tuple[str, str]:
    # 256 random bits, like an API key: a fast hash is enough to store it.
    token = secrets.token_urlsafe(32)
    return token, api_key_hash(token)


@transaction.atomic
def invitation_create(
    *, organization: Organization, email: str, role: str, actor: Membership | None
) -> tuple[Invitation, str]:
    """Invite a person by email with a role; returns the invitation and its link's token."""
    _check_can_manage(actor=actor, role=role)
    email = UserManager.normalize(email)
    if Membership.objects.filter(organization=organization, user__email=email).exists():
        raise ConflictError(f"{email} is already a member.")
    now = timezone.now()
    pending = Invitation.objects.select_for_update().filter(
        organization=organization,
        email=email,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=now,
    )
    if pending.exists():
        raise ConflictError(f"{email} has a pending invitation already; resend it instead.")
    token, token_hash = _invitation_token()
    invitation = Invitation(
        organization=organization,
        email=email,
        role=Role(role),
        invited_by=actor.user if actor is not None else None,
        token_hash=token_hash,
        created_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )
    invitation.full_clean()
    invitation.save()
    audit_record(
        organization=organization,
        action=Action.MEMBER_INVITED,
        actor=actor,
        target=invitation,
        data={"email": email, "role": invitation.role},
    )
    return invitation, token


@transaction.atomic
def invitation_resend(
    *, invitation: Invitation, actor: Membership | None
) -> tuple[Invitation, str]:
    """A new token and seven more days; the old link stops working."""
    _check_can_manage(actor=actor, role=invitation.role)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_pending:
        raise ConflictError("This invitation was accepted or revoked; it cannot be resent.")
    token, invitation.token_hash = _invitation_token()
    invitation.expires_at = timezone.now() + INVITATION_LIFETIME
    invitation.save(update_fields=["token_hash", "expires_at"])
    audit_record(
        organization=invitation.organization_id,
        action=Action.MEMBER_INVITATION_RESENT,
        actor=actor,
        target=invitation,
    )
    return invitation, token


def invitation_revoke(*, invitation: Invitation, actor: Membership | None) -> Invitation:
    """Revoke an invitation that was not accepted; its link stops working."""
    _check_can_manage(actor=actor, role=invitation.role)
    if invitation.accepted_at is not None:
        raise ConflictError("This invitation was accepted already.")
    done = Invitation.objects.filter(pk=invitation.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    invitation.refresh_from_db(fields=["revoked_at"])
    if done:
        audit_record(
            organization=invitation.organization_id,
            action=Action.MEMBER_INVITATION_REVOKED,
            actor=actor,
            target=invitation,
        )
    return invitation


def _check_invitation_usable(invitation: Invitation | None) -> Invitation:
    if invitation is None:
        raise InvitationError(
            "This invitation link is not valid. It may have been replaced by a newer one: "
            "use the link of the latest invitation mail."
        )
    if invitation.revoked_at is not None:
        raise InvitationError("This invitation was revoked. Ask an admin for a new one.")
    if invitation.accepted_at is not None:
        raise InvitationError("This invitation was used already. Log in to continue.")
    if invitation.is_expired():
        raise InvitationError("This invitation has expired. Ask an admin to send it again.")
    return invitation


def invitation_check(*, token: str) -> Invitation:
    """The invitation of a link's token; InvitationError when it is unknown or cannot be used."""
    invitation = (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(token_hash=api_key_hash(token))
        .first()
    )
    return _check_invitation_usable(invitation)


@transaction.atomic
def invitation_accept(
    *, token: str, user: User | None = None, full_name: str = "", password: str | None = None
) -> Membership:
    """Join the organization: as `user` (whose email must be the invited one), or as a new user.

    Without `user`, the invited address's account is created with this name and
    password, or, when it exists without a usable password (added by the API and
    never logged in), given them: the link went to that address, as a reset would.
    """
    invitation = _check_invitation_usable(
        Invitation.objects.select_for_update()
        .select_related("organization")
        .filter(token_hash=api_key_hash(token))
        .first()
    )
    if user is None:
        user, created = user_get_or_create(
            email=invitation.email, full_name=full_name, password=password
        )
        if not created:
            if user.has_usable_password():
                raise InvitationError("An account with this email exists: log in to accept.")
            user.full_name = full_name or user.full_name
            user.set_password(password)
            user.save(update_fields=["full_name", "password"])
    elif UserManager.normalize(user.email) != invitation.email:
        raise InvitationError(
            f"This invitation is for {invitation.email}; you are logged in as {user.email}."
        )
    if not user.is_active:
        raise InvitationError("This account is disabled.")
    membership, _ = Membership.objects.get_or_create(
        user=user, organization=invitation.organization, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    audit_record(
        organization=invitation.organization_id,
        action=Action.MEMBER_JOINED,
        actor=user,
        target=user,
        data={"role": membership.role},
    )
    return membership


# --- Login throttling ----------------------------------------------------------------


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


# --- Accounts ----------------------------------------------------------------------------

PROFILE_FIELDS = ("full_name", "handle", "signature", "timezone", "language")


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


def profile_update(*, user: User, **fields) -> User:
    """Change one's name, handle for mentions, signature, time zone or language."""
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"Not a profile field: {', '.join(sorted(unknown))}")
    if "handle" in fields:
        fields["handle"] = (fields["handle"] or "").strip().lower() or None
    changed = [k for k, v in fields.items() if getattr(user, k) != v]
    for key in changed:
        setattr(user, key, fields[key])
    user.full_clean(exclude=["password"])
    if changed:
        user.save(update_fields=changed)
        audit_record_for_user(user=user, action=Action.PROFILE_CHANGED, data={"fields": changed})
    return user


def sessions_end(*, user: User, keep: str | None = None, session_key: str | None = None) -> int:
    """End the user's browser sessions: one (`session_key`), or all but `keep`; returns how many."""
    sessions = UserSession.objects.filter(user=user)
    if session_key is not None:
        sessions = sessions.filter(session_key=session_key)
    if keep:
        sessions = sessions.exclude(session_key=keep)
    ended, _ = sessions.delete()
    if ended:
        audit_record_for_user(user=user, action=Action.SESSIONS_ENDED, data={"count": ended})
    return ended


def api_tokens_revoke_all(*, user: User) -> int:
    """Revoke every active token of the user, in all their organizations; returns how many."""
    tokens = list(
        ApiToken.objects.filter(membership__user=user, revoked_at__isnull=True).select_related(
            "membership"
        )
    )
    now = timezone.now()
    ApiToken.objects.filter(pk__in=[t.pk for t in tokens]).update(revoked_at=now)
    for token in tokens:
        audit_record(
            organization=token.membership.organization_id,
            action=Action.TOKEN_REVOKED,
            actor=user,
            target=token,
        )
    return len(tokens)
