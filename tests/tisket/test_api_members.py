import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import api_client
from tests.factories import MembershipFactory
from tisket import services
from tisket.models import Invitation, Membership, Role

READ = [Role.VIEWER, Role.AGENT, Role.SUPERVISOR, Role.ADMIN, Role.OWNER]


@pytest.mark.parametrize("role", READ)
def test_every_member_reads_the_member_list(acme, role):
    response = api_client(acme.member(role)).get("/api/v1/members/")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 6


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.VIEWER, 403),
        (Role.AGENT, 403),
        (Role.SUPERVISOR, 403),
        (Role.ADMIN, 202),
        (Role.OWNER, 202),
    ],
)
def test_only_admins_and_owners_invite_members(acme, role, expected):
    response = api_client(acme.member(role)).post(
        "/api/v1/members/", {"email": "new@acme.test", "role": "agent"}, format="json"
    )
    assert response.status_code == expected, response.content
    assert Invitation.objects.filter(email="new@acme.test").exists() is (expected == 202)
    assert not Membership.objects.filter(user__email="new@acme.test").exists()


def test_a_viewer_cannot_write_anything(acme):
    client = api_client(acme.viewer)
    assert client.patch(f"/api/v1/members/{acme.agent.pk}/", {"role": "viewer"}).status_code == 403
    assert client.delete(f"/api/v1/members/{acme.agent.pk}/").status_code == 403
    assert client.patch("/api/v1/organization/", {"name": "X"}, format="json").status_code == 403


def test_an_agent_cannot_change_roles(acme):
    response = api_client(acme.agent).patch(
        f"/api/v1/members/{acme.agent2.pk}/", {"role": "admin"}, format="json"
    )
    assert response.status_code == 403
    acme.agent2.refresh_from_db()
    assert acme.agent2.role == Role.AGENT


def test_an_admin_changes_a_role_and_removes_a_member(acme):
    client = api_client(acme.admin)
    response = client.patch(
        f"/api/v1/members/{acme.agent2.pk}/", {"role": "supervisor"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["role"] == "supervisor"
    assert client.delete(f"/api/v1/members/{acme.agent2.pk}/").status_code == 204
    assert not Membership.objects.filter(pk=acme.agent2.pk).exists()


def test_an_admin_granting_owner_gets_403_with_a_reason(acme):
    response = api_client(acme.admin).patch(
        f"/api/v1/members/{acme.agent.pk}/", {"role": "owner"}, format="json"
    )
    assert response.status_code == 403
    assert "owner" in response.json()["detail"]


def test_removing_the_last_owner_is_a_409(acme):
    response = api_client(acme.owner).delete(f"/api/v1/members/{acme.owner.pk}/")
    assert response.status_code == 409
    assert "at least one owner" in response.json()["detail"]


@pytest.mark.parametrize(
    "payload",
    [{"email": "not-an-email"}, {"email": "x@acme.test", "role": "emperor"}, {}],
)
def test_bad_member_input_is_a_400_that_names_the_field(acme, payload):
    response = api_client(acme.admin).post("/api/v1/members/", payload, format="json")
    assert response.status_code == 400
    assert set(response.json()) & {"email", "role"}


def test_the_member_list_takes_a_constant_number_of_queries(acme):
    client = api_client(acme.admin)
    client.get("/api/v1/members/")  # warm up the token's last-used write
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/members/")
    MembershipFactory.create_batch(30, organization=acme.org)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/api/v1/members/")
    assert len(response.json()["results"]) == 36
    assert len(many) == len(few)


def test_the_member_list_is_cursor_paginated(acme):
    MembershipFactory.create_batch(10, organization=acme.org)
    client = api_client(acme.admin)
    first = client.get("/api/v1/members/?page_size=10").json()
    second = client.get(first["next"]).json()
    assert len(first["results"]) == 10
    assert len(second["results"]) == 6
    assert not {m["id"] for m in first["results"]} & {m["id"] for m in second["results"]}


def test_organization_is_updated_by_admins_with_a_valid_timezone(acme):
    client = api_client(acme.admin)
    response = client.patch("/api/v1/organization/", {"timezone": "Mars/Olympus"}, format="json")
    assert response.status_code == 400
    response = client.patch(
        "/api/v1/organization/", {"name": "Acme Europe", "timezone": "Europe/Berlin"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["timezone"] == "Europe/Berlin"
    assert response.json()["slug"] == "acme"


def test_members_see_only_their_own_tokens_and_admins_see_all(acme):
    api_client(acme.agent2)  # a token of another member
    agent = api_client(acme.agent)
    tokens = agent.get("/api/v1/tokens/").json()["results"]
    assert {t["member"] for t in tokens} == {"agent@acme.test"}
    admin_tokens = api_client(acme.admin).get("/api/v1/tokens/").json()["results"]
    assert {t["member"] for t in admin_tokens} >= {"agent@acme.test", "agent2@acme.test"}
    other = next(t for t in admin_tokens if t["member"] == "agent2@acme.test")
    assert agent.delete(f"/api/v1/tokens/{other['id']}/").status_code == 404


def test_a_member_revokes_their_own_token(acme):
    client = api_client(acme.agent)
    token_id = client.get("/api/v1/me/").json()["token"]["id"]
    response = client.delete(f"/api/v1/tokens/{token_id}/")
    assert response.status_code == 200
    assert response.json()["revoked_at"]
    assert client.get("/api/v1/me/").status_code == 401


# --- A token capped below its member's role acts with the cap -------------------------------


def test_a_viewer_capped_admin_token_lists_only_its_own_tokens(acme):
    api_client(acme.agent)  # a token of another member
    capped = api_client(acme.admin, role=Role.VIEWER)
    tokens = capped.get("/api/v1/tokens/").json()["results"]
    assert {t["member"] for t in tokens} == {"admin@acme.test"}


def test_a_viewer_capped_admin_token_cannot_revoke_another_members_token(acme):
    token, _ = services.api_token_create(membership=acme.agent, name="theirs")
    capped = api_client(acme.admin, role=Role.VIEWER)
    response = capped.delete(f"/api/v1/tokens/{token.pk}/")
    assert response.status_code == 404
    assert response.json()["detail"]
    token.refresh_from_db()
    assert token.is_active


def test_an_uncapped_admin_token_still_revokes_another_members_token(acme):
    token, _ = services.api_token_create(membership=acme.agent, name="theirs")
    response = api_client(acme.admin).delete(f"/api/v1/tokens/{token.pk}/")
    assert response.status_code == 200
    token.refresh_from_db()
    assert not token.is_active


def test_an_admin_capped_owner_token_cannot_make_an_owner(acme):
    response = api_client(acme.owner, role=Role.ADMIN).patch(
        f"/api/v1/members/{acme.agent.pk}/", {"role": "owner"}, format="json"
    )
    assert response.status_code == 403
    assert "owner" in response.json()["detail"]
    acme.agent.refresh_from_db()
    assert acme.agent.role == Role.AGENT


def test_an_admin_capped_owner_token_cannot_demote_or_remove_an_owner(acme):
    services.membership_set_role(membership=acme.admin, role=Role.OWNER, actor=None)
    capped = api_client(acme.owner, role=Role.ADMIN)
    demote = capped.patch(f"/api/v1/members/{acme.admin.pk}/", {"role": "agent"}, format="json")
    assert demote.status_code == 403
    assert capped.delete(f"/api/v1/members/{acme.admin.pk}/").status_code == 403
    acme.admin.refresh_from_db()
    assert acme.admin.role == Role.OWNER


def test_an_admin_capped_owner_token_cannot_invite_an_owner(acme):
    response = api_client(acme.owner, role=Role.ADMIN).post(
        "/api/v1/members/", {"email": "boss@acme.test", "role": "owner"}, format="json"
    )
    assert response.status_code == 403
    assert "owner" in response.json()["detail"]


def test_a_capped_token_leaves_its_members_role_as_it_was(acme):
    capped = api_client(acme.owner, role=Role.ADMIN)
    assert (
        capped.patch(
            f"/api/v1/members/{acme.agent.pk}/", {"role": "supervisor"}, format="json"
        ).status_code
        == 200
    )
    acme.owner.refresh_from_db()
    assert acme.owner.role == Role.OWNER


def test_an_admin_token_cannot_revoke_an_owners_token(acme):
    token, _ = services.api_token_create(membership=acme.owner, name="owners")
    response = api_client(acme.admin).delete(f"/api/v1/tokens/{token.pk}/")
    assert response.status_code == 403
    assert "owner" in response.json()["detail"]
    token.refresh_from_db()
    assert token.is_active
    assert api_client(acme.owner).delete(f"/api/v1/tokens/{token.pk}/").status_code == 200
