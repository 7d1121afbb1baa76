"""Settings: members and roles, and invitations from the mail to the new member."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from tests.factories import PASSWORD, UserFactory
from threads.models import OutboundMail, Suppression
from tisket import invitations, services
from tisket.models import Invitation, Membership, Role, User

LINK = re.compile(r"https?://[^\s]+/accounts/invitations/([\w-]+)/")


def _invite(client, email="newbie@example.com", role="agent", **kwargs):
    return client.post("/acme/settings/members/", {"email": email, "role": role}, **kwargs)


def _link_path(text: str) -> str:
    match = LINK.search(text)
    assert match, text
    return f"/accounts/invitations/{match.group(1)}/"


# --- Members and roles ---------------------------------------------------------------------


def test_the_members_page_lists_members_with_roles_and_no_one_elses(acme, globex, web):
    page = web(acme.admin).get("/acme/settings/members/").content.decode()
    assert "agent@acme.test" in page and "owner@acme.test" in page
    assert "globex.test" not in page


def test_an_admin_changes_an_agents_role(acme, web):
    response = web(acme.admin).post(
        f"/acme/settings/members/{acme.agent.pk}/role/", {"role": "supervisor"}, follow=True
    )
    assert b"is now Supervisor" in response.content
    acme.agent.refresh_from_db()
    assert acme.agent.role == Role.SUPERVISOR


def test_an_admin_cannot_make_an_owner(acme, web):
    response = web(acme.admin).post(
        f"/acme/settings/members/{acme.agent.pk}/role/", {"role": "owner"}, follow=True
    )
    assert b"Only an owner can grant" in response.content
    acme.agent.refresh_from_db()
    assert acme.agent.role == Role.AGENT


def test_an_admin_cannot_demote_or_remove_an_owner(acme, web):
    client = web(acme.admin)
    client.post(f"/acme/settings/members/{acme.owner.pk}/role/", {"role": "agent"})
    client.post(f"/acme/settings/members/{acme.owner.pk}/remove/")
    acme.owner.refresh_from_db()
    assert acme.owner.role == Role.OWNER


def test_the_admin_sees_no_owner_option_and_no_control_on_an_owners_row(acme, web):
    page = web(acme.admin).get("/acme/settings/members/").content.decode()
    assert '<option value="owner"' not in page
    assert f"/acme/settings/members/{acme.owner.pk}/role/" not in page
    owner_page = web(acme.owner).get("/acme/settings/members/").content.decode()
    assert '<option value="owner"' in owner_page


def test_an_owner_makes_an_owner(acme, web):
    web(acme.owner).post(f"/acme/settings/members/{acme.admin.pk}/role/", {"role": "owner"})
    acme.admin.refresh_from_db()
    assert acme.admin.role == Role.OWNER


def test_the_last_owner_cannot_be_demoted(acme, web):
    response = web(acme.owner).post(
        f"/acme/settings/members/{acme.owner.pk}/role/", {"role": "admin"}, follow=True
    )
    assert b"keeps at least one owner" in response.content
    acme.owner.refresh_from_db()
    assert acme.owner.role == Role.OWNER


def test_an_unknown_role_changes_nothing(acme, web):
    response = web(acme.admin).post(
        f"/acme/settings/members/{acme.agent.pk}/role/", {"role": "god"}, follow=True
    )
    assert b"Choose a role from the list." in response.content
    acme.agent.refresh_from_db()
    assert acme.agent.role == Role.AGENT


def test_an_admin_removes_a_member_and_their_tokens(acme, web):
    services.api_token_create(membership=acme.agent, name="script")
    response = web(acme.admin).post(f"/acme/settings/members/{acme.agent.pk}/remove/", follow=True)
    assert b"is no longer a member" in response.content
    assert not Membership.objects.filter(pk=acme.agent.pk).exists()


def test_an_admin_who_removes_themselves_lands_outside_the_settings(acme, web):
    response = web(acme.admin).post(f"/acme/settings/members/{acme.admin.pk}/remove/")
    assert response.status_code == 302 and response["Location"] == "/"


def test_another_organizations_member_is_404(acme, globex, web):
    client = web(acme.admin)
    assert (
        client.post(
            f"/acme/settings/members/{globex.agent.pk}/role/", {"role": "viewer"}
        ).status_code
        == 404
    )
    assert client.post(f"/acme/settings/members/{globex.agent.pk}/remove/").status_code == 404
    globex.agent.refresh_from_db()
    assert globex.agent.role == Role.AGENT


def test_role_changes_need_a_post(acme, web):
    assert web(acme.admin).get(f"/acme/settings/members/{acme.agent.pk}/role/").status_code == 405


# --- Invitations: sending ---------------------------------------------------------------------


def test_inviting_queues_a_mail_with_a_link_and_stores_only_a_hash(
    acme, web, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _invite(
            web(acme.admin), email="Newbie@Example.com", role="supervisor", follow=True
        )
    assert b"Invitation sent to newbie@example.com" in response.content
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.invited_by) == (
        "newbie@example.com",
        Role.SUPERVISOR,
        acme.admin.user,
    )
    assert (
        timedelta(days=6, hours=23)
        < invitation.expires_at - invitation.created_at
        <= timedelta(days=7)
    )
    outbound = OutboundMail.objects.get()
    assert outbound.to == ["newbie@example.com"] and outbound.inbox is None
    assert "Acme" in outbound.subject
    token = _link_path(outbound.text).split("/")[-2]
    assert token not in invitation.token_hash and len(invitation.token_hash) == 64
    assert [m.to for m in mail.outbox] == [["newbie@example.com"]]
    assert "newbie@example.com" in response.content.decode()  # listed as pending


def test_inviting_a_member_is_refused(acme, web):
    response = _invite(web(acme.admin), email="agent@acme.test")
    assert response.status_code == 200
    assert b"already a member" in response.content
    assert not Invitation.objects.exists()


def test_inviting_twice_says_to_resend(acme, web):
    client = web(acme.admin)
    _invite(client)
    response = _invite(client)
    assert response.status_code == 200
    assert b"resend it instead" in response.content
    assert Invitation.objects.count() == 1


def test_a_bad_address_is_refused_and_nothing_is_sent(acme, web):
    response = _invite(web(acme.admin), email="not an address")
    assert response.status_code == 200
    assert b"Enter a valid email address." in response.content
    assert not Invitation.objects.exists() and not OutboundMail.objects.exists()


def test_an_address_that_bounces_is_invited_but_not_mailed(acme, web):
    Suppression.objects.create(
        organization=acme.org,
        address="bouncy@example.com",
        reason="bounced",
        until=timezone.now() + timedelta(days=1),
    )
    response = _invite(web(acme.admin), email="bouncy@example.com", follow=True)
    assert b"bounced recently: no mail was sent" in response.content
    assert Invitation.objects.filter(email="bouncy@example.com").exists()
    assert not OutboundMail.objects.exists()


def test_an_admin_who_demotes_themselves_lands_on_the_organizations_home(acme, web):
    response = web(acme.admin).post(
        f"/acme/settings/members/{acme.admin.pk}/role/", {"role": "agent"}
    )
    assert response["Location"] == "/acme/"
    acme.admin.refresh_from_db()
    assert acme.admin.role == Role.AGENT


def test_an_admin_cannot_invite_an_owner(acme, web):
    response = _invite(web(acme.admin), role="owner")
    assert response.status_code == 200
    assert not Invitation.objects.exists()


def test_a_supervisor_cannot_invite(acme, web):
    assert _invite(web(acme.supervisor)).status_code == 403
    assert not Invitation.objects.exists()


# --- Invitations: accepting ----------------------------------------------------------------


def test_a_new_person_accepts_the_mailed_link_and_becomes_a_member_with_the_role(
    acme, client, web, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _invite(web(acme.admin), email="newbie@example.com", role="supervisor")
    path = _link_path(mail.outbox[0].body)
    client.logout()
    page = client.get(path)
    assert page.status_code == 200
    assert b"Create your account" in page.content and b"Acme" in page.content
    response = client.post(
        path,
        {"full_name": "New Bie", "password": PASSWORD, "password_again": PASSWORD},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/acme/"
    user = User.objects.get(email="newbie@example.com")
    assert user.full_name == "New Bie" and user.check_password(PASSWORD)
    assert Membership.objects.get(user=user, organization=acme.org).role == Role.SUPERVISOR
    assert Invitation.objects.get().accepted_at is not None
    # The link was used: it says so, and makes no second membership.
    client.logout()
    again = client.get(path)
    assert again.status_code == 410 and b"used already" in again.content


def test_a_weak_or_mismatched_password_is_refused_and_nobody_joins(acme, client):
    _, token = invitations.invitation_create(
        organization=acme.org, email="newbie@example.com", role="agent", actor=acme.admin
    )
    path = f"/accounts/invitations/{token}/"
    weak = client.post(path, {"full_name": "N", "password": "123", "password_again": "123"})
    assert weak.status_code == 200 and b"too short" in weak.content
    differ = client.post(
        path, {"full_name": "N", "password": PASSWORD, "password_again": PASSWORD + "x"}
    )
    assert differ.status_code == 200 and b"The two passwords differ." in differ.content
    assert not User.objects.filter(email="newbie@example.com").exists()
    assert Invitation.objects.get().accepted_at is None


def test_an_existing_user_logs_in_and_accepts(acme, globex, client):
    _, token = invitations.invitation_create(
        organization=acme.org, email=globex.agent.user.email, role="viewer", actor=acme.admin
    )
    path = f"/accounts/invitations/{token}/"
    page = client.get(path).content.decode()
    assert "log in to accept" in page and f"/accounts/login/?next={path}" in page.replace(
        "%2F", "/"
    )
    client.post("/accounts/login/", {"username": globex.agent.user.email, "password": PASSWORD})
    assert b"Join Acme" in client.get(path).content
    response = client.post(path)
    assert response.status_code == 302 and response["Location"] == "/acme/"
    membership = Membership.objects.get(user=globex.agent.user, organization=acme.org)
    assert membership.role == Role.VIEWER


def test_another_logged_in_user_cannot_take_someone_elses_invitation(acme, globex, web):
    _, token = invitations.invitation_create(
        organization=acme.org, email="newbie@example.com", role="agent", actor=acme.admin
    )
    client = web(globex.agent)
    path = f"/accounts/invitations/{token}/"
    assert b"but this invitation is for newbie@example.com" in client.get(path).content
    client.post(path)
    assert not Membership.objects.filter(organization=acme.org, user=globex.agent.user).exists()
    assert Invitation.objects.get().accepted_at is None


def test_an_expired_link_is_refused(acme, client):
    _, token = invitations.invitation_create(
        organization=acme.org, email="late@example.com", role="agent", actor=None
    )
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        page = client.get(f"/accounts/invitations/{token}/")
        assert page.status_code == 410 and b"has expired" in page.content
        client.post(
            f"/accounts/invitations/{token}/",
            {"full_name": "L", "password": PASSWORD, "password_again": PASSWORD},
        )
    assert not User.objects.filter(email="late@example.com").exists()


def test_a_revoked_link_is_refused(acme, web, client):
    invitation, token = invitations.invitation_create(
        organization=acme.org, email="gone@example.com", role="agent", actor=None
    )
    response = web(acme.admin).post(
        f"/acme/settings/invitations/{invitation.pk}/revoke/", follow=True
    )
    assert b"is revoked" in response.content
    client.logout()
    page = client.get(f"/accounts/invitations/{token}/")
    assert page.status_code == 410 and b"was revoked" in page.content


def test_an_unknown_link_is_refused(db, client):
    page = client.get("/accounts/invitations/not-a-token/")
    assert page.status_code == 410 and b"not valid" in page.content


def test_resending_kills_the_old_link_and_mails_a_new_one(
    acme, web, client, django_capture_on_commit_callbacks
):
    admin = web(acme.admin)
    with django_capture_on_commit_callbacks(execute=True):
        _invite(admin)
    old = _link_path(mail.outbox[0].body)
    invitation = Invitation.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(f"/acme/settings/invitations/{invitation.pk}/resend/", follow=True)
    assert b"the earlier link no longer works" in response.content
    new = _link_path(mail.outbox[1].body)
    assert new != old
    client.logout()
    assert client.get(old).status_code == 410
    assert client.get(new).status_code == 200


def test_resending_an_expired_invitation_gives_seven_more_days(acme, web, client):
    invitation, _ = invitations.invitation_create(
        organization=acme.org, email="late@example.com", role="agent", actor=None
    )
    later = timezone.now() + timedelta(days=10)
    with time_machine.travel(later):
        web(acme.admin).post(f"/acme/settings/invitations/{invitation.pk}/resend/")
    invitation.refresh_from_db()
    assert invitation.expires_at > later + timedelta(days=6)


def test_another_organizations_invitation_is_404(acme, globex, web):
    invitation, _ = invitations.invitation_create(
        organization=globex.org, email="x@example.com", role="agent", actor=None
    )
    client = web(acme.admin)
    assert client.post(f"/acme/settings/invitations/{invitation.pk}/revoke/").status_code == 404
    assert client.post(f"/acme/settings/invitations/{invitation.pk}/resend/").status_code == 404
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_a_user_without_a_password_sets_one_through_the_invitation(acme, client):
    UserFactory(email="silent@example.com", password=None)
    user = User.objects.get(email="silent@example.com")
    user.set_unusable_password()
    user.save()
    _, token = invitations.invitation_create(
        organization=acme.org, email="silent@example.com", role="agent", actor=None
    )
    response = client.post(
        f"/accounts/invitations/{token}/",
        {"full_name": "Silent", "password": PASSWORD, "password_again": PASSWORD},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize("role", ["supervisor", "agent", "viewer"])
def test_only_admins_resend_or_revoke(acme, web, role):
    invitation, _ = invitations.invitation_create(
        organization=acme.org, email="x@example.com", role="agent", actor=None
    )
    client = web(acme.member(role))
    assert client.post(f"/acme/settings/invitations/{invitation.pk}/revoke/").status_code == 403
    assert client.post(f"/acme/settings/invitations/{invitation.pk}/resend/").status_code == 403
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_inviting_a_user_of_another_tenant_reads_like_inviting_a_stranger(acme, globex, web):
    client = web(acme.admin)
    known = _invite(client, email=globex.agent.user.email, follow=True).content.decode()
    unknown = _invite(client, email="nobody@example.com", follow=True).content.decode()
    assert f"Invitation sent to {globex.agent.user.email}." in known
    assert "Invitation sent to nobody@example.com." in unknown
    assert not Membership.objects.filter(organization=acme.org, user=globex.agent.user).exists()
