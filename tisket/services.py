"""Writes of the core: organizations, members, API tokens, sequences."""

import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from tisket.audit import Action, audit_record, audit_record_for_user
from tisket.errors import ConflictError, NotAllowedError
from tisket.lib.apikeys import api_key_generate, api_key_hash
from tisket.models import (
    ApiToken,
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
    portal_company_view: bool | None = None,
) -> Organization:
    """Rename an organization, change its time zone or its sign-in rule; slug and code stay."""
    fields = {
        k: v
        for k, v in {
            "name": name,
            "timezone": timezone,
            "require_two_factor": require_two_factor,
            "restrict_agents_to_queues": restrict_agents_to_queues,
            "portal_company_view": portal_company_view,
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


def api_token_revoke(*, token: ApiToken, actor: Membership | None = None) -> ApiToken:
    """Revoke a token for good; revoking twice keeps the first time.

    A member revokes their own tokens; an admin those of members up to admin; only an
    owner those of an owner (as only an owner changes an owner's role)."""
    if actor is not None and actor.pk != token.membership_id:
        if not actor.has_role(Role.ADMIN):
            raise NotAllowedError("Only admins revoke another member's token.")
        if token.membership.role == Role.OWNER and actor.role != Role.OWNER:
            raise NotAllowedError("Only an owner can revoke an owner's token.")
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


# --- Accounts ----------------------------------------------------------------------------

PROFILE_FIELDS = ("full_name", "handle", "signature", "timezone", "language")


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
