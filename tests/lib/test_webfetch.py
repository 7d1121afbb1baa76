"""Guarded JSON fetches from a server a tenant names: the test OIDC provider plays the server."""

import pytest

from tests.oidc_provider import OidcProvider
from tisket.lib.webfetch import FetchError, fetch_json, url_check

ALLOWED = ["127.0.0.1"]


@pytest.fixture(scope="module")
def server():
    provider = OidcProvider().start()
    yield provider
    provider.stop()


def _get(url: str, allowed=ALLOWED) -> dict:
    return fetch_json(url, allowed=allowed, seconds=5, setting="TISKET_ALLOWED_SSO_HOSTS")


def test_a_json_object_is_returned(server):
    assert _get(f"{server.issuer}/.well-known/openid-configuration")["issuer"] == server.issuer


def test_an_error_answer_names_its_status_and_oauth_error_only(server):
    with pytest.raises(FetchError, match=r"HTTP 404 \(not_found\)"):
        _get(f"{server.issuer}/nothing-here")


def test_a_redirect_is_not_followed(server):
    query = "client_id=tisket-acme&response_type=code&code_challenge_method=S256"
    with pytest.raises(FetchError, match="HTTP 302"):
        _get(f"{server.issuer}/authorize?{query}&code_challenge=x&state=s&redirect_uri=http://a/")


def test_an_inside_address_is_refused_unless_allowed(server):
    with pytest.raises(FetchError, match="must use https"):
        _get(f"{server.issuer}/jwks", allowed=[])
    https = server.issuer.replace("http://", "https://")
    with pytest.raises(FetchError, match=r"loopback.*TISKET_ALLOWED_SSO_HOSTS"):
        _get(f"{https}/jwks", allowed=[])


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "https://user:pw@example.com/", "javascript:alert(1)", "https:///"],
)
def test_only_plain_web_addresses_are_fetched(url):
    with pytest.raises(FetchError):
        url_check(url, allowed=ALLOWED)
