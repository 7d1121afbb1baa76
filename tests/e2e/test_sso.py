"""Single sign-on in a browser: an admin sets the provider up, a member signs in through it."""

import pytest

from tests.e2e.conftest import shot
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, OidcProvider
from tests.tisket.test_sso import prove
from tisket.sso.models import SsoProvider


@pytest.fixture(scope="module")
def idp():
    provider = OidcProvider().start()
    yield provider
    provider.stop()


def test_an_admin_sets_up_single_sign_on_and_a_member_signs_in_through_it(acme, login, idp):
    idp.reset()
    prove(acme.org, "acme.test")
    admin = login(acme.admin)
    admin.goto("/acme/settings/sso/")
    admin.get_by_label("Members may sign in through this provider").check()
    admin.get_by_label("Issuer URL").fill(idp.issuer)
    admin.get_by_label("Client ID").fill(CLIENT_ID)
    admin.get_by_label("Client secret").fill(CLIENT_SECRET)
    admin.get_by_label("Email domains").fill("acme.test")
    admin.get_by_role("button", name="Save").click()
    admin.get_by_text("Single sign-on saved.").wait_for()
    shot(admin, "settings-sso")
    assert SsoProvider.objects.get(organization=acme.org).enabled

    idp.login = {"sub": "42", "email": "agent@acme.test", "email_verified": True}
    member = login(None)
    member.goto("/accounts/login/")
    member.get_by_role("link", name="Sign in with single sign-on").click()
    member.get_by_label("Work email").fill("agent@acme.test")
    shot(member, "sso-start")
    member.get_by_role("button", name="Continue").click()
    member.wait_for_url("**/acme/")
    assert member.errors == [] and admin.errors == [] and member.dialogs == []
