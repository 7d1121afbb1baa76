"""Two-factor sign-in: enrolment, a login's second step, recovery codes, an organization's rule."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import PASSWORD
from tisket import two_factor
from tisket.audit import Action
from tisket.models import AuditEvent, Organization

CODE = re.compile(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>")


def _code(device: TOTPDevice, at=None) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    if at is not None:
        totp.time = at.timestamp()
    return f"{totp.token():06d}"


def _enrol(client: Client, user) -> list[str]:
    page = client.get("/accounts/two-factor/")
    assert b"<svg" in page.content  # the QR code, inline
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post("/accounts/two-factor/", {"action": "enable", "code": _code(device)})
    assert response.status_code == 200
    return CODE.findall(response.content.decode())


def _password_step(client: Client, email: str) -> None:
    response = client.post("/accounts/login/", {"username": email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/verify/"


def test_enrolment_shows_ten_recovery_codes_once_and_stores_none_of_them(acme, web):
    client = web(acme.agent)
    codes = _enrol(client, acme.agent.user)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert two_factor.two_factor_enabled(user=acme.agent.user)
    stored = set(StaticToken.objects.values_list("token", flat=True))
    assert not stored & {c.replace("-", "") for c in codes} and not stored & set(codes)
    again = client.get("/accounts/two-factor/")
    assert not CODE.findall(again.content.decode())
    assert b"10 unused recovery codes left" in again.content
    enabled = AuditEvent.objects.filter(action=Action.TWO_FACTOR_ENABLED, organization=acme.org)
    assert enabled.exists()


def test_a_wrong_code_does_not_turn_it_on(acme, web):
    client = web(acme.agent)
    client.get("/accounts/two-factor/")
    response = client.post("/accounts/two-factor/", {"action": "enable", "code": "000000"})
    assert b"That code is not right" in response.content
    assert not two_factor.two_factor_enabled(user=acme.agent.user)


def test_login_asks_the_second_factor_and_refuses_a_wrong_or_replayed_code(acme, web):
    _enrol(web(acme.agent), acme.agent.user)
    device = TOTPDevice.objects.get(user=acme.agent.user)
    start = timezone.now() + timedelta(minutes=1)
    with time_machine.travel(start, tick=False) as clock:
        client = Client()
        _password_step(client, "agent@acme.test")
        assert client.get("/acme/").status_code == 302  # not signed in yet
        wrong = client.post("/accounts/login/verify/", {"code": "123456"})
        assert b"That code is not right" in wrong.content
        assert AuditEvent.objects.filter(action=Action.TWO_FACTOR_FAILED).exists()
        clock.shift(timedelta(seconds=3))  # django-otp's wait after a wrong code
        code = _code(device, at=timezone.now())
        assert client.post("/accounts/login/verify/", {"code": code}).status_code == 302
        assert client.get("/acme/").status_code == 200
        login = AuditEvent.objects.get(action=Action.LOGIN, organization=acme.org)
        assert login.data == {"method": "password+totp"}

        # The same code, a second time within its window: refused.
        replay = Client()
        _password_step(replay, "agent@acme.test")
        refused = replay.post("/accounts/login/verify/", {"code": code})
        assert b"That code is not right" in refused.content
        assert replay.get("/acme/").status_code == 302


def test_a_recovery_code_works_once(acme, web):
    codes = _enrol(web(acme.agent), acme.agent.user)
    client = Client()
    _password_step(client, "agent@acme.test")
    response = client.post("/accounts/login/verify/", {"code": codes[0].upper()}, follow=True)
    assert b"9 left" in response.content
    assert client.get("/acme/").status_code == 200
    assert AuditEvent.objects.filter(action=Action.RECOVERY_CODE_USED).exists()

    again = Client()
    _password_step(again, "agent@acme.test")
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        refused = again.post("/accounts/login/verify/", {"code": codes[0]})
    assert b"That code is not right" in refused.content
    assert again.get("/acme/").status_code == 302


def test_the_second_step_expires_and_gives_up_after_five_wrong_codes(acme, web):
    _enrol(web(acme.agent), acme.agent.user)
    client = Client()
    _password_step(client, "agent@acme.test")
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        late = client.post("/accounts/login/verify/", {"code": "123456"})
    assert late["Location"] == "/accounts/login/"
    _password_step(client, "agent@acme.test")
    answers = [client.post("/accounts/login/verify/", {"code": "12345x"}) for _ in range(5)]
    assert answers[-1].status_code == 302 and answers[-1]["Location"] == "/accounts/login/"
    assert client.get("/accounts/login/verify/")["Location"] == "/accounts/login/"


def test_the_second_step_never_follows_a_foreign_next(acme, web):
    _enrol(web(acme.agent), acme.agent.user)
    device = TOTPDevice.objects.get(user=acme.agent.user)
    client = Client()
    client.post(
        "/accounts/login/?next=https://evil.test/",
        {"username": "agent@acme.test", "password": PASSWORD, "next": "https://evil.test/"},
    )
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        response = client.post("/accounts/login/verify/", {"code": _code(device, timezone.now())})
    assert "evil.test" not in response["Location"]


def test_admins_own_login_page_sends_two_factor_accounts_to_ours(acme, web, client):
    acme.agent.user.is_staff = True
    acme.agent.user.save(update_fields=["is_staff"])
    _enrol(web(acme.agent), acme.agent.user)
    fresh = Client()
    response = fresh.post(
        "/admin/login/", {"username": "agent@acme.test", "password": PASSWORD, "next": "/admin/"}
    )
    assert b"signs in with two factors" in response.content
    assert fresh.get("/admin/").status_code == 302


def test_renewing_codes_and_turning_off_need_a_code(acme, web):
    client = web(acme.agent)
    old = _enrol(client, acme.agent.user)
    device = TOTPDevice.objects.get(user=acme.agent.user)
    refused = client.post(
        "/accounts/two-factor/", {"action": "renew", "code": "000000"}, follow=True
    )
    assert b"nothing changed" in refused.content
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        renewed = client.post(
            "/accounts/two-factor/", {"action": "renew", "code": _code(device, timezone.now())}
        )
    new = CODE.findall(renewed.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        client.post("/accounts/two-factor/", {"action": "disable", "code": new[0]})
    assert not two_factor.two_factor_enabled(user=acme.agent.user)
    assert AuditEvent.objects.filter(action=Action.TWO_FACTOR_DISABLED).exists()


def test_an_organization_can_require_it_and_admins_see_who_has_it(acme, web):
    admin = web(acme.admin)
    response = admin.post(
        "/acme/settings/",
        {"name": "Acme", "timezone": acme.org.timezone, "require_two_factor": "on"},
    )
    assert response.status_code == 302
    assert Organization.objects.get(pk=acme.org.pk).require_two_factor
    event = AuditEvent.objects.get(action=Action.ORGANIZATION_CHANGED)
    assert event.data == {"require_two_factor": True}

    agent = Client()
    agent.force_login(acme.agent.user)
    blocked = agent.get("/acme/")
    assert blocked.status_code == 302 and blocked["Location"] == "/accounts/two-factor/"
    _enrol(agent, acme.agent.user)
    assert agent.get("/acme/").status_code == 200
    # Turning it off is refused while the organization requires it.
    device = TOTPDevice.objects.get(user=acme.agent.user)
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        off = agent.post(
            "/accounts/two-factor/",
            {"action": "disable", "code": _code(device, timezone.now())},
            follow=True,
        )
    assert b"requires two-factor sign-in; it stays on" in off.content

    Organization.objects.filter(pk=acme.org.pk).update(require_two_factor=False)
    members = web(acme.admin).get("/acme/settings/members/").content.decode()
    row = re.search(rf'id="member-{acme.agent.pk}".*?</tr>', members, re.S).group(0)
    assert ">2FA<" in row
    row = re.search(rf'id="member-{acme.agent2.pk}".*?</tr>', members, re.S).group(0)
    assert "No 2FA" in row


# --- API tokens under the organization's requirement ---------------------------------------


def _require(acme) -> None:
    Organization.objects.filter(pk=acme.org.pk).update(require_two_factor=True)


def test_a_member_without_two_factor_gets_no_new_token_but_keeps_the_old_ones(acme):
    from tests.conftest import api_client

    client = api_client(acme.agent)  # made before the organization required it
    _require(acme)
    assert client.get("/api/v1/me/").status_code == 200
    refused = client.post("/api/v1/tokens/", {"name": "another"}, format="json")
    assert refused.status_code == 403
    assert "requires two-factor sign-in" in refused.json()["detail"]
    assert acme.agent.api_tokens.count() == 1


def test_a_member_with_two_factor_still_creates_tokens(acme, web):
    from tests.conftest import api_client

    client = api_client(acme.agent)
    _enrol(web(acme.agent), acme.agent.user)
    _require(acme)
    created = client.post("/api/v1/tokens/", {"name": "another"}, format="json")
    assert created.status_code == 201 and created.json()["key"].startswith("tsk_")


def test_the_installation_cannot_make_a_token_that_skips_the_requirement(acme, client):
    from django.core.management import CommandError, call_command
    from django.urls import reverse

    from tests.factories import UserFactory

    _require(acme)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post(
        reverse("admin:tisket_apitoken_add"), {"membership": acme.agent.pk, "name": "x", "role": ""}
    )
    assert (
        response.status_code == 200 and "requires two-factor sign-in" in response.content.decode()
    )
    with pytest.raises(CommandError, match="requires two-factor sign-in"):
        call_command("token_create", "agent@acme.test", "acme")
    assert not acme.agent.api_tokens.exists()
