"""Schemathesis over /api/schema/: every operation, generated input, no 5xx, as documented."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from config.wsgi import application
from tests.conftest import make_cast
from tisket import services


@schemathesis.serializer("message/rfc822")
def rfc822(ctx, value) -> bytes:
    """Generated raw mail: whatever bytes the generator made (the endpoint checks them)."""
    return value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogateescape")


schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    # Calling the WSGI app directly fires request_finished, which would close
    # the connection that holds the test's transaction; Django's test client
    # disconnects the same handler for the same reason.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def owner_key(db) -> str:
    cast = make_cast("acme", "ACME")
    return services.api_token_create(membership=cast.owner, name="fuzz")[1]


@schema.parametrize()
@hypothesis_settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_within_its_schema(case, owner_key):
    case.call_and_validate(
        headers={"Authorization": f"Token {owner_key}", "Host": "127.0.0.1"},
        checks=[not_a_server_error, response_schema_conformance],
    )


def test_the_schema_builds_without_a_warning(tmp_path):
    from django.core.management import call_command

    # --fail-on-warn turns drf-spectacular's warnings (a name collision, an
    # unresolvable serializer) into a failed command.
    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert "openapi: 3" in (tmp_path / "schema.yml").read_text()
