import pytest

from tisket import invitations, services
from tisket.errors import ConflictError, NotAllowedError
from tisket.models import Membership, Role, User, role_at_least, role_min


@pytest.mark.parametrize(
    ("role", "minimum", "expected"),
    [
        (Role.VIEWER, Role.VIEWER, True),
        (Role.VIEWER, Role.AGENT, False),
        (Role.AGENT, Role.VIEWER, True),
        (Role.SUPERVISOR, Role.AGENT, True),
        (Role.ADMIN, Role.OWNER, False),
        (Role.OWNER, Role.ADMIN, True),
    ],
)
def test_roles_are_ordered_viewer_to_owner(role, minimum, expected):
    assert role_at_least(role, minimum) is expected


def test_role_min_is_the_weakest():
    assert role_min(Role.OWNER, Role.AGENT, Role.ADMIN) == Role.AGENT


def test_agent_cannot_invite_members(acme):
    with pytest.raises(NotAllowedError):
        invitations.invitation_create(
            organization=acme.org, email="new@acme.test", role=Role.AGENT, actor=acme.agent
        )


def test_an_invitation_creates_no_user_and_no_membership(acme):
    invitation, _ = invitations.invitation_create(
        organization=acme.org, email="New@Acme.test", role=Role.AGENT, actor=acme.admin
    )
    assert invitation.email == "new@acme.test"
    assert not User.objects.filter(email="new@acme.test").exists()


def test_admin_cannot_grant_owner(acme):
    with pytest.raises(NotAllowedError):
        services.membership_set_role(membership=acme.agent, role=Role.OWNER, actor=acme.admin)


def test_admin_cannot_demote_an_owner(acme):
    with pytest.raises(NotAllowedError):
        services.membership_set_role(membership=acme.owner, role=Role.AGENT, actor=acme.admin)


def test_the_last_owner_cannot_be_demoted_or_removed(acme):
    with pytest.raises(ConflictError):
        services.membership_set_role(membership=acme.owner, role=Role.ADMIN, actor=acme.owner)
    with pytest.raises(ConflictError):
        services.membership_remove(membership=acme.owner, actor=None)
    acme.owner.refresh_from_db()
    assert acme.owner.role == Role.OWNER


def test_an_owner_hands_over_to_a_second_owner(acme):
    services.membership_set_role(membership=acme.admin, role=Role.OWNER, actor=acme.owner)
    services.membership_set_role(membership=acme.owner, role=Role.ADMIN, actor=acme.admin)
    assert set(
        Membership.objects.filter(organization=acme.org, role=Role.OWNER).values_list(
            "user__email", flat=True
        )
    ) == {"admin@acme.test"}


def test_inviting_an_existing_member_is_a_conflict(acme):
    with pytest.raises(ConflictError, match="already a member"):
        invitations.invitation_create(
            organization=acme.org, email="agent@acme.test", role=Role.VIEWER, actor=acme.admin
        )


def test_a_token_cannot_exceed_its_members_role(acme):
    with pytest.raises(NotAllowedError):
        services.api_token_create(membership=acme.agent, name="x", role=Role.ADMIN)


def test_a_demoted_member_demotes_their_tokens(acme):
    token, _ = services.api_token_create(membership=acme.admin, name="x")
    assert token.effective_role == Role.ADMIN
    services.membership_set_role(membership=acme.admin, role=Role.VIEWER, actor=acme.owner)
    token.membership.refresh_from_db()
    assert token.effective_role == Role.VIEWER


def test_a_tokens_acting_membership_is_capped_and_cannot_be_saved(acme):
    token, _ = services.api_token_create(membership=acme.owner, name="ro", role=Role.VIEWER)
    assert token.actor.role == Role.VIEWER
    assert not token.actor.has_role(Role.AGENT)
    with pytest.raises(TypeError):
        token.actor.save()
    acme.owner.refresh_from_db()
    assert acme.owner.role == Role.OWNER
