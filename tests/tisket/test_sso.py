"""Single sign-on through an organization's OpenID Connect provider, a real one on 127.0.0.1."""

import http.client
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from joserfc.jwk import RSAKey

from inboxes.domains import mail_domain_add
from inboxes.models import MailDomain
from tests.factories import PASSWORD, MembershipFactory, UserFactory
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, OidcProvider
from tisket.audit import Action
from tisket.lib.secrets_box import secret_open
from tisket.models import AuditEvent, Membership, Role, User
from tisket.sso.models import SsoProvider
from tisket.sso.services import sso_provider_save


@pytest.fixture(scope="module")
def idp():
    provider = OidcProvider().start()
    yield provider
    provider.stop()


@pytest.fixture
def sso(acme, idp) -> OidcProvider:
    """Acme signs in acme.test addresses through the test provider."""
    idp.reset()
    sso_provider_save(
        organization=acme.org,
        enabled=True,
        issuer=idp.issuer,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        allowed_domains=["acme.test"],
        required=False,
        proven_domains=["acme.test"],
    )
    return idp


def prove(organization, *names: str) -> None:
    """The organization has shown these domains are its own (their TXT record)."""
    for name in names:
        domain = mail_domain_add(organization=organization, name=name)
        MailDomain.objects.filter(pk=domain.pk).update(status=MailDomain.Status.VERIFIED)


def _claims(email: str, *, verified=True) -> dict:
    return {"sub": f"sub-{email}", "email": email, "email_verified": verified}


def _through_provider(client: Client, idp: OidcProvider, email: str) -> str:
    """Start at our page, let the provider authorize; returns the callback URL it sends back."""
    idp.login = _claims(email) if idp.login is None else idp.login
    start = client.post("/accounts/sso/", {"email": email})
    assert start.status_code == 302, start.content
    authorize = urlsplit(start["Location"])
    assert f"{authorize.scheme}://{authorize.netloc}" == idp.issuer
    query = parse_qs(authorize.query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    connection = http.client.HTTPConnection(authorize.hostname, authorize.port, timeout=5)
    connection.request("GET", f"{authorize.path}?{authorize.query}")
    answer = connection.getresponse()
    assert answer.status == 302
    back = urlsplit(answer.getheader("Location"))
    connection.close()
    return f"{back.path}?{back.query}"


def _sign_in(client: Client, idp: OidcProvider, email: str):
    return client.get(_through_provider(client, idp, email))


def _signed_in(client: Client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def _failure(acme, reason: str) -> AuditEvent:
    return AuditEvent.objects.get(
        organization=acme.org, action=Action.LOGIN_FAILED, data__reason=reason
    )


def test_a_member_signs_in_through_the_provider_with_pkce(acme, sso):
    client = Client()
    response = _sign_in(client, sso, "agent@acme.test")
    assert response.status_code == 302 and response["Location"] == "/"
    assert _signed_in(client) == acme.agent.user
    request = sso.token_requests[-1]
    assert request["grant_type"] == "authorization_code" and len(request["code_verifier"]) >= 43
    event = AuditEvent.objects.get(organization=acme.org, action=Action.LOGIN)
    assert event.data == {"method": "sso"} and event.actor == acme.agent.user


def test_the_email_matches_whatever_its_case(acme, sso):
    client = Client()
    sso.login = _claims("Agent@ACME.test")
    _sign_in(client, sso, "agent@acme.test")
    assert _signed_in(client) == acme.agent.user


def test_a_token_signed_by_another_key_is_refused(acme, sso):
    sso.tamper = {"key": RSAKey.generate_key(2048, parameters={"kid": "k1"})}
    client = Client()
    response = _sign_in(client, sso, "agent@acme.test")
    assert response.status_code == 403 and b"signature does not hold" in response.content
    assert _signed_in(client) is None
    assert _failure(acme, "signature").data["method"] == "sso"


def test_a_token_for_another_client_is_refused(acme, sso):
    sso.tamper = {"claims": {"aud": "some-other-app"}}
    client = Client()
    response = _sign_in(client, sso, "agent@acme.test")
    assert response.status_code == 403 and b"not for us" in response.content
    assert _signed_in(client) is None
    _failure(acme, "claims")


def test_a_token_from_another_issuer_is_refused(acme, sso):
    sso.tamper = {"claims": {"iss": "https://evil.example"}}
    client = Client()
    assert _sign_in(client, sso, "agent@acme.test").status_code == 403
    assert _signed_in(client) is None


def test_a_returned_state_works_once(acme, sso):
    client = Client()
    callback = _through_provider(client, sso, "agent@acme.test")
    assert client.get(callback).status_code == 302
    again = client.get(callback)
    assert again.status_code == 400 and b"stale or was used already" in again.content
    # Nor does it work in another browser (a stolen callback address).
    stranger = Client()
    assert stranger.get(callback).status_code == 400
    assert _signed_in(stranger) is None


def test_a_state_that_is_not_this_browsers_is_refused(acme, sso):
    client = Client()
    callback = _through_provider(client, sso, "agent@acme.test")
    forged = callback.replace("state=", "state=x")
    assert client.get(forged).status_code == 400
    assert _signed_in(client) is None


def test_a_nonce_that_is_not_this_sign_ins_is_refused(acme, sso):
    sso.tamper = {"claims": {"nonce": "replayed-nonce"}}
    client = Client()
    response = _sign_in(client, sso, "agent@acme.test")
    assert response.status_code == 403 and b"nonce" in response.content
    assert _signed_in(client) is None
    _failure(acme, "nonce")


def test_an_expired_token_is_refused(acme, sso):
    past = int(time.time()) - 7200
    sso.tamper = {"claims": {"iat": past, "exp": past + 300}}
    client = Client()
    response = _sign_in(client, sso, "agent@acme.test")
    assert response.status_code == 403 and b"expired" in response.content
    assert _signed_in(client) is None
    _failure(acme, "expired")


def test_an_unverified_email_is_refused(acme, sso):
    sso.login = _claims("agent@acme.test", verified=False)
    client = Client()
    response = _sign_in(client, sso, "agent@acme.test")
    assert response.status_code == 403 and b"has not verified" in response.content
    assert _signed_in(client) is None
    _failure(acme, "email_unverified")


def test_another_organizations_user_is_not_let_in_nor_made_a_member(acme, globex, sso):
    # Their address is in Acme's domain, but they belong to Globex only.
    outsider = MembershipFactory(
        organization=globex.org, role=Role.ADMIN, user=UserFactory(email="contractor@acme.test")
    )
    client = Client()
    response = _sign_in(client, sso, "contractor@acme.test")
    assert response.status_code == 403
    assert b"is not a member of Acme" in response.content
    assert _signed_in(client) is None
    assert not Membership.objects.filter(user=outsider.user, organization=acme.org).exists()
    assert _failure(acme, "unknown_member").data["email"] == "contractor@acme.test"


def test_an_unknown_email_gets_a_clear_page_and_no_account(acme, sso):
    client = Client()
    response = _sign_in(client, sso, "newcomer@acme.test")
    assert response.status_code == 403
    assert b"Ask one of its admins to invite you" in response.content
    assert not User.objects.filter(email__iexact="newcomer@acme.test").exists()


def test_a_provider_cannot_sign_in_an_address_outside_its_domains(acme, globex, sso):
    sso.login = _claims("agent@globex.test")  # the provider vouches for another domain
    client = Client()
    response = _sign_in(client, sso, "agent@acme.test")
    assert response.status_code == 403 and b"does not sign in agent@globex.test" in response.content
    assert _signed_in(client) is None


def test_a_refusal_at_the_provider_is_shown(acme, sso):
    client = Client()
    start = client.post("/accounts/sso/", {"email": "agent@acme.test"})
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    response = client.get("/accounts/sso/callback/", {"error": "access_denied", "state": state})
    assert response.status_code == 403 and b"access_denied" in response.content


def test_an_address_no_provider_speaks_for_is_told_so(acme, sso):
    response = Client().post("/accounts/sso/", {"email": "someone@elsewhere.test"})
    assert response.status_code == 400
    assert b"No organization here signs in elsewhere.test addresses" in response.content


def test_a_member_with_two_factor_still_gives_the_code(acme, sso):
    device = TOTPDevice.objects.create(user=acme.agent.user, name="app", confirmed=True)
    client = Client()
    response = _sign_in(client, sso, "agent@acme.test")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/verify/"
    assert _signed_in(client) is None
    code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    client.post("/accounts/login/verify/", {"code": f"{code:06d}"})
    assert _signed_in(client) == acme.agent.user
    assert client.session["tisket_sso_org"] == acme.org.pk
    login = AuditEvent.objects.get(organization=acme.org, action=Action.LOGIN)
    assert login.data == {"method": "sso+totp"}


def test_required_single_sign_on_refuses_members_passwords_but_not_the_owners(acme, sso):
    provider = SsoProvider.objects.get(organization=acme.org)
    provider.required = True
    provider.save(update_fields=["required"])
    refused = Client().post(
        "/accounts/login/", {"username": "agent@acme.test", "password": PASSWORD}
    )
    assert refused.status_code == 200
    assert "Acme signs its members in through single sign-on" in refused.content.decode()
    owner = Client()
    owner.post("/accounts/login/", {"username": "owner@acme.test", "password": PASSWORD})
    assert _signed_in(owner) == acme.owner.user


# --- The admin's settings page ----------------------------------------------------------------


def test_an_admin_sets_up_single_sign_on_and_the_secret_is_sealed(acme, idp, web):
    idp.reset()
    prove(acme.org, "acme.test", "acme.example")
    client = web(acme.admin)
    response = client.post(
        "/acme/settings/sso/",
        {
            "enabled": "on",
            "issuer": idp.issuer,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "allowed_domains": "acme.test, Acme.Example",
        },
    )
    assert response.status_code == 302
    provider = SsoProvider.objects.get(organization=acme.org)
    assert provider.allowed_domains == ["acme.test", "acme.example"]
    assert CLIENT_SECRET not in provider.client_secret_sealed
    assert secret_open(provider.client_secret_sealed) == CLIENT_SECRET
    event = AuditEvent.objects.get(organization=acme.org, action=Action.SSO_CHANGED)
    assert CLIENT_SECRET not in str(event.data) and event.data["issuer"] == idp.issuer
    # Saving again without a secret keeps the stored one.
    page = client.get("/acme/settings/sso/")
    assert CLIENT_SECRET.encode() not in page.content and b"stored" in page.content
    client.post(
        "/acme/settings/sso/",
        {
            "enabled": "on",
            "issuer": idp.issuer,
            "client_id": CLIENT_ID,
            "allowed_domains": "acme.test",
        },
    )
    provider.refresh_from_db()
    assert secret_open(provider.client_secret_sealed) == CLIENT_SECRET
    assert provider.allowed_domains == ["acme.test"]


def test_a_domain_the_organization_has_not_proven_is_refused(acme, globex, idp, web):
    """Else any organization could put its provider's login page in front of another's
    people: the sign-in page sends an address at the domain straight to it."""
    idp.reset()
    prove(globex.org, "acme.test")  # proven by another organization: not by this one
    prove(acme.org, "acme.example")
    form = {"enabled": "on", "issuer": idp.issuer, "client_id": CLIENT_ID}
    for domains in ("acme.test", "gmail.com", "acme.example, evilacme.example"):
        response = web(acme.admin).post("/acme/settings/sso/", form | {"allowed_domains": domains})
        assert response.status_code == 200 and b"Prove that" in response.content
    assert not SsoProvider.objects.filter(organization=acme.org).exists()
    response = web(acme.admin).post(
        "/acme/settings/sso/", form | {"allowed_domains": "acme.example, eu.acme.example"}
    )
    assert response.status_code == 302  # a subdomain of a proven domain is its owner's too


def test_an_issuer_that_does_not_answer_is_a_form_error(acme, web):
    from tests.smtp import free_port

    prove(acme.org, "acme.test")
    client = web(acme.admin)
    response = client.post(
        "/acme/settings/sso/",
        {
            "enabled": "on",
            "issuer": f"http://127.0.0.1:{free_port()}",
            "client_id": "x",
            "allowed_domains": "acme.test",
        },
    )
    assert response.status_code == 200 and b"discovery failed" in response.content
    assert not SsoProvider.objects.exists()


def test_an_issuer_inside_the_installations_network_is_refused(acme, web, settings):
    settings.TISKET_ALLOWED_SSO_HOSTS = []
    prove(acme.org, "acme.test")
    response = web(acme.admin).post(
        "/acme/settings/sso/",
        {
            "enabled": "on",
            "issuer": "https://127.0.0.1:9/",
            "client_id": "x",
            "allowed_domains": "acme.test",
        },
    )
    assert b"loopback" in response.content
    assert not SsoProvider.objects.exists()


def test_only_admins_of_the_organization_reach_its_sso_settings(acme, globex, web):
    assert web(acme.supervisor).get("/acme/settings/sso/").status_code == 403
    assert web(globex.admin).get("/acme/settings/sso/").status_code == 404


def test_a_single_sign_on_session_opens_only_the_organization_that_vouched(acme, globex, sso):
    # The person is also a member of Globex: Acme's provider does not vouch for them there.
    MembershipFactory(organization=globex.org, user=acme.agent.user, role=Role.ADMIN)
    client = Client()
    _sign_in(client, sso, "agent@acme.test")
    assert client.get("/").headers["Location"] == "/acme/"
    assert client.get("/acme/").status_code == 200
    elsewhere = client.get("/globex/settings/")
    assert elsewhere.status_code == 403
    assert "Log in again to open Globex" in elsewhere.content.decode()
    # A password sign-in of the same person lifts the binding.
    client.post("/accounts/logout/")
    client.post("/accounts/login/", {"username": "agent@acme.test", "password": PASSWORD})
    assert client.get("/globex/settings/").status_code == 200
