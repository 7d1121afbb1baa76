"""Members API: a person joins by accepting an invitation, never by being added."""

import re

from django.test import Client

from tests.conftest import api_client
from tests.factories import PASSWORD
from threads.models import OutboundMail
from tisket.models import Invitation, Membership, Role

LINK = re.compile(r"https?://[^\s]+(/accounts/invitations/[\w-]+/)")


def _invite(client, email: str, role: str = "agent"):
    return client.post("/api/v1/members/", {"email": email, "role": role}, format="json")


def _link_path(email: str) -> str:
    outbound = OutboundMail.objects.filter(to=[email]).latest("pk")
    return LINK.search(outbound.text).group(1)


def _same_shape(body: dict) -> dict:
    return {k: v for k, v in body.items() if k not in {"id", "email", "created_at", "expires_at"}}


def test_inviting_a_user_of_another_tenant_answers_like_an_unknown_address(acme, globex):
    client = api_client(acme.admin)
    known = _invite(client, globex.agent.user.email)
    unknown = _invite(client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 202
    assert _same_shape(known.json()) == _same_shape(unknown.json())
    assert known.json()["email"] == globex.agent.user.email
    assert OutboundMail.objects.count() == 2


def test_an_invited_user_is_not_a_member_until_they_accept(acme, globex):
    response = _invite(api_client(acme.admin), globex.agent.user.email, role="viewer")
    assert response.status_code == 202
    assert not Membership.objects.filter(organization=acme.org, user=globex.agent.user).exists()
    assert api_client(globex.agent).get("/api/v1/organization/").json()["slug"] == "globex"

    browser = Client()
    browser.post("/accounts/login/", {"username": globex.agent.user.email, "password": PASSWORD})
    assert browser.post(_link_path(globex.agent.user.email)).status_code == 302
    joined = Membership.objects.get(organization=acme.org, user=globex.agent.user)
    assert joined.role == Role.VIEWER


def test_another_user_cannot_accept_an_invitation_made_by_the_api(acme, globex):
    _invite(api_client(acme.admin), "newbie@example.com")
    browser = Client()
    browser.force_login(globex.agent.user)
    page = browser.post(_link_path("newbie@example.com"))
    assert b"this invitation is for newbie@example.com" in page.content
    assert not Membership.objects.filter(organization=acme.org, user=globex.agent.user).exists()
    assert Invitation.objects.get().accepted_at is None


def test_inviting_a_member_of_the_organization_is_a_409(acme):
    response = _invite(api_client(acme.admin), acme.agent.user.email)
    assert response.status_code == 409
    assert "already a member" in response.json()["detail"]


def test_admins_list_resend_and_revoke_invitations(acme):
    client = api_client(acme.admin)
    invited = _invite(client, "newbie@example.com").json()
    first_link = _link_path("newbie@example.com")
    listed = client.get("/api/v1/invitations/").json()["results"]
    assert [i["email"] for i in listed] == ["newbie@example.com"]
    assert listed[0]["invited_by"] == "admin@acme.test"

    resent = client.post(f"/api/v1/invitations/{invited['id']}/resend/")
    assert resent.status_code == 202 and resent.json()["mailed"] is True
    assert Client().get(first_link).status_code == 410
    assert Client().get(_link_path("newbie@example.com")).status_code == 200

    assert client.delete(f"/api/v1/invitations/{invited['id']}/").status_code == 204
    assert Client().get(_link_path("newbie@example.com")).status_code == 410
    assert client.get("/api/v1/invitations/").json()["results"] == []


def test_an_admin_cannot_revoke_an_owners_invitation(acme):
    invited = _invite(api_client(acme.owner), "boss@example.com", role="owner").json()
    response = api_client(acme.admin).delete(f"/api/v1/invitations/{invited['id']}/")
    assert response.status_code == 403
    assert Invitation.objects.get().revoked_at is None


def test_another_organizations_invitation_cannot_be_named(acme, globex):
    theirs = _invite(api_client(globex.admin), "newbie@example.com").json()
    client = api_client(acme.admin)
    assert client.get(f"/api/v1/invitations/{theirs['id']}/").status_code == 404
    assert client.delete(f"/api/v1/invitations/{theirs['id']}/").status_code == 404
    assert client.get("/api/v1/invitations/").json()["results"] == []
