from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.conftest import api_client
from tisket import services
from tisket.models import ApiToken, Role


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_valid_token_acts_as_its_member_in_its_organization(acme):
    _, key = services.api_token_create(membership=acme.agent, name="script")
    response = _client(key).get("/api/v1/me/")
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["email"] == "agent@acme.test"
    assert body["organization"]["slug"] == "acme"
    assert body["role"] == "agent"


def test_bearer_is_accepted_too(acme):
    _, key = services.api_token_create(membership=acme.agent, name="script")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/me/").status_code == 200


@pytest.mark.parametrize(
    "header", [None, "Token", "Token nope", "Token tsk_wrong", "Basic dXNlcjpwYXNz", "Token a b"]
)
def test_missing_or_invalid_credentials_get_401(db, header):
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["detail"]


def test_a_revoked_token_gets_401_with_a_reason(acme):
    token, key = services.api_token_create(membership=acme.agent, name="script")
    services.api_token_revoke(token=token)
    response = _client(key).get("/api/v1/me/")
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_a_token_of_a_deactivated_user_gets_401(acme):
    _, key = services.api_token_create(membership=acme.agent, name="script")
    acme.agent.user.is_active = False
    acme.agent.user.save(update_fields=["is_active"])
    assert _client(key).get("/api/v1/me/").status_code == 401


def test_a_token_dies_with_its_membership(acme):
    _, key = services.api_token_create(membership=acme.agent, name="script")
    services.membership_remove(membership=acme.agent, actor=acme.admin)
    assert _client(key).get("/api/v1/me/").status_code == 401


def test_only_a_hash_of_the_key_is_stored(acme):
    token, key = services.api_token_create(membership=acme.agent, name="script")
    stored = ApiToken.objects.get(pk=token.pk)
    assert key not in {stored.key_hash, stored.prefix, stored.name}
    assert key.startswith(stored.prefix)


def test_last_used_is_recorded_at_most_once_a_minute(acme):
    token, key = services.api_token_create(membership=acme.agent, name="script")
    client = _client(key)
    client.get("/api/v1/me/")
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    client.get("/api/v1/me/")
    token.refresh_from_db()
    assert token.last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=5))
    client.get("/api/v1/me/")
    token.refresh_from_db()
    assert token.last_used_at > first - timedelta(minutes=5)
    assert token.last_used_at <= timezone.now()


def test_a_token_role_caps_its_member(acme):
    client = api_client(acme.admin, role=Role.VIEWER)
    assert client.get("/api/v1/members/").status_code == 200
    response = client.post("/api/v1/members/", {"email": "x@acme.test"}, format="json")
    assert response.status_code == 403


def test_a_token_sees_only_its_own_organization(acme, globex):
    client = api_client(acme.owner)
    emails = {m["user"]["email"] for m in client.get("/api/v1/members/").json()["results"]}
    assert emails == {
        f"{n}@acme.test" for n in ("owner", "admin", "supervisor", "agent", "agent2", "viewer")
    }
    assert client.get(f"/api/v1/members/{globex.agent.pk}/").status_code == 404
    assert client.get("/api/v1/organization/").json()["slug"] == "acme"


def test_a_token_cannot_mint_a_stronger_token(acme):
    client = api_client(acme.owner, role=Role.AGENT)
    response = client.post("/api/v1/tokens/", {"name": "x", "role": "admin"}, format="json")
    assert response.status_code == 403
    response = client.post("/api/v1/tokens/", {"name": "y"}, format="json")
    assert response.status_code == 201
    assert response.json()["effective_role"] == "agent"
    assert response.json()["key"].startswith("tsk_")


def test_throttling_answers_429_past_the_rate(acme, monkeypatch):
    from tisket.api_auth import TokenRateThrottle

    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"token": "3/minute"})
    client = api_client(acme.agent)
    codes = [client.get("/api/v1/me/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_revoking_a_token_answers_200_with_the_token_as_the_schema_says(acme, client):
    token, _ = services.api_token_create(membership=acme.agent, name="old script")
    response = api_client(acme.agent).delete(f"/api/v1/tokens/{token.pk}/")
    assert response.status_code == 200
    assert response.json()["revoked_at"]
    schema = client.get("/api/schema/?format=json").json()
    assert set(schema["paths"]["/api/v1/tokens/{id}/"]["delete"]["responses"]) >= {"200"}
    assert "204" not in schema["paths"]["/api/v1/tokens/{id}/"]["delete"]["responses"]


def test_the_schema_documents_the_errors_of_every_operation(client, db):
    schema = client.get("/api/schema/?format=json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            documented = set(operation["responses"])
            assert {"400", "401", "403", "404", "429"} <= documented, (method, path)
            if method != "get":
                assert {"409", "413", "415"} <= documented, (method, path)
    assert schema["components"]["schemas"]["Error"]["required"] == ["detail"]
