"""Reads of the core. Every lookup of a tenant's object goes through a scoped selector."""

from django.db.models import QuerySet
from django.http import Http404

from tisket.lib.apikeys import api_key_hash
from tisket.models import ApiToken, Invitation, McpCall, Membership, Organization, User


def organizations_for_user(*, user: User) -> QuerySet[Organization]:
    return Organization.objects.filter(memberships__user=user).order_by("name")


def membership_for_user(*, user: User, organization_slug: str) -> Membership:
    """The user's membership in the organization; 404 when there is none, as if it did not exist."""
    try:
        return Membership.objects.select_related("organization").get(
            user=user, organization__slug=organization_slug
        )
    except Membership.DoesNotExist:
        raise Http404("No such organization.") from None


def members_list(*, organization: Organization) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("user__email")
    )


def member_get(*, organization: Organization, pk: int) -> Membership:
    try:
        return members_list(organization=organization).get(pk=pk)
    except (Membership.DoesNotExist, ValueError, TypeError):
        raise Http404("No such member.") from None


def api_tokens_list(*, organization: Organization) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(membership__organization=organization).select_related(
        "membership__user"
    )


def api_token_get(*, organization: Organization, pk: int) -> ApiToken:
    try:
        return api_tokens_list(organization=organization).get(pk=pk)
    except (ApiToken.DoesNotExist, ValueError, TypeError):
        raise Http404("No such token.") from None


def api_token_for_key(*, key: str) -> ApiToken | None:
    return (
        ApiToken.objects.select_related("membership__user", "membership__organization")
        .filter(key_hash=api_key_hash(key))
        .first()
    )


def mcp_calls_list(*, organization: Organization) -> QuerySet[McpCall]:
    """The organization's MCP tool calls, the latest first."""
    return McpCall.objects.filter(organization=organization).order_by("-created_at", "-id")


def invitations_pending(*, organization: Organization) -> QuerySet[Invitation]:
    """Invitations neither accepted nor revoked, expired ones included (they can be resent)."""
    return (
        Invitation.objects.filter(
            organization=organization, accepted_at__isnull=True, revoked_at__isnull=True
        )
        .select_related("invited_by")
        .order_by("email", "-created_at")
    )


def invitation_get(*, organization: Organization, pk: int) -> Invitation:
    try:
        return invitations_pending(organization=organization).get(pk=pk)
    except (Invitation.DoesNotExist, ValueError, TypeError):
        raise Http404("No such invitation.") from None
