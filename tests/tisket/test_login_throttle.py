"""Login throttling: guesses of one account from one address slow down hard; others barely."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from tests.conftest import api_client
from tests.factories import PASSWORD, UserFactory
from tisket.models import LoginThrottle

A, B = "198.51.100.7", "203.0.113.9"


def _login(email: str, password: str, address: str, url: str = "/accounts/login/"):
    return Client(REMOTE_ADDR=address).post(url, {"username": email, "password": password})


def _fail(email: str, address: str, times: int, url: str = "/accounts/login/") -> None:
    for _ in range(times):
        assert _login(email, "wrong password", address, url).status_code in (200, 429)


def _alert(response) -> str:
    return re.search(r'role="alert">(.*?)</div>', response.content.decode()).group(1)


@pytest.fixture
def alice(db):
    return UserFactory(email="alice@acme.test")


def test_five_failures_from_one_address_throttle_that_account_there(alice):
    _fail(alice.email, A, 5)
    response = _login(alice.email, PASSWORD, A)
    assert response.status_code == 429
    assert b"Too many failed attempts" in response.content
    assert "_auth_user_id" not in response.wsgi_request.session


def test_the_same_account_still_logs_in_from_another_address(alice):
    _fail(alice.email, A, 5)
    response = _login(alice.email, PASSWORD, B)
    assert response.status_code == 302


def test_a_known_address_logs_in_despite_many_failures_from_elsewhere(alice, settings):
    settings.TISKET_LOGIN_SOFT_FAILURES = 5
    assert _login(alice.email, PASSWORD, B).status_code == 302
    for n in range(10):
        _fail(alice.email, f"192.0.2.{n}", 1)
    assert _login(alice.email, PASSWORD, "192.0.2.99").status_code == 429  # a stranger's address
    assert _login(alice.email, PASSWORD, B).status_code == 302


def test_an_unknown_account_is_throttled_exactly_like_a_real_one(alice):
    _fail(alice.email, A, 5)
    _fail("nobody@acme.test", A, 5)
    real = _login(alice.email, "wrong password", A)
    unknown = _login("nobody@acme.test", "wrong password", A)
    assert real.status_code == unknown.status_code == 429
    assert _alert(real) == _alert(unknown)
    assert "Too many failed attempts" in _alert(real)


def test_the_wait_ends_and_doubles_with_each_further_failure(alice):
    now = timezone.now()
    _fail(alice.email, A, 5)
    with time_machine.travel(now + timedelta(seconds=61)):
        _fail(alice.email, A, 1)  # the sixth failure: two minutes now
    with time_machine.travel(now + timedelta(seconds=61 + 100)):
        assert _login(alice.email, PASSWORD, A).status_code == 429
    with time_machine.travel(now + timedelta(seconds=61 + 121)):
        assert _login(alice.email, PASSWORD, A).status_code == 302


def test_a_success_restarts_the_count(alice):
    _fail(alice.email, A, 4)
    assert _login(alice.email, PASSWORD, A).status_code == 302
    _fail(alice.email, A, 4)
    assert _login(alice.email, PASSWORD, A).status_code == 302


def test_one_address_guessing_many_accounts_is_slowed(db, settings):
    settings.TISKET_LOGIN_SOFT_FAILURES = 8
    for n in range(8):
        _fail(f"user{n}@acme.test", A, 1)
    bob = UserFactory(email="bob@acme.test")
    assert _login(bob.email, PASSWORD, A).status_code == 429
    assert _login(bob.email, PASSWORD, B).status_code == 302


def test_the_stored_keys_are_not_the_typed_names(alice):
    _fail(alice.email, A, 1)
    stored = " ".join(LoginThrottle.objects.values_list("key_hash", flat=True))
    assert "alice" not in stored and A not in stored


def test_the_admin_login_is_throttled_too(alice):
    alice.is_staff = alice.is_superuser = True
    alice.save(update_fields=["is_staff", "is_superuser"])
    _fail(alice.email, A, 5, url="/admin/login/")
    response = _login(alice.email, PASSWORD, A, url="/admin/login/")
    assert response.status_code == 429
    assert b"Too many failed attempts" in response.content
    assert _login(alice.email, PASSWORD, B, url="/admin/login/").status_code == 302


def test_api_tokens_are_not_affected(acme):
    client = api_client(acme.agent)
    _fail(acme.agent.user.email, "127.0.0.1", 10)
    assert client.get("/api/v1/me/", REMOTE_ADDR="127.0.0.1").status_code == 200


def test_behind_the_proxy_the_address_is_the_last_forwarded_hop(alice, settings):
    settings.TISKET_BEHIND_PROXY = True
    proxy = "10.0.0.2"

    def login(forwarded: str, password: str):
        return Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=forwarded).post(
            "/accounts/login/", {"username": alice.email, "password": password}
        )

    for n in range(5):
        login(f"6.6.6.{n}, {A}", "wrong password")  # a forged first hop changes nothing
    assert login(A, PASSWORD).status_code == 429
    assert login(B, PASSWORD).status_code == 302
