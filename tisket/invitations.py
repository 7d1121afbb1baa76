"""Invitations: a person asked by email to join an organization with a role, and their
acceptance."""

import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from tisket.audit import Action, audit_record
from tisket.errors import ConflictError, TisketError
from tisket.lib.apikeys import api_key_hash
from tisket.models import (
    Invitation,
    Membership,
    Organization,
    Role,
    User,
    UserManager,
)
from tisket.services import _check_can_manage, user_get_or_create

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
