import io
import re
import subprocess
import sys

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from tests.processes import ROOT, installation
from tisket.models import ApiToken, Membership, Organization, Role, User


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_org_create_makes_the_organization_and_prints_a_generated_password(db):
    out, _ = run(
        "org_create", "acme", "--name", "Acme Inc", "--owner", "Boss@Acme.test", "--no-input"
    )
    organization = Organization.objects.get(slug="acme")
    assert organization.code == "ACME"
    assert organization.name == "Acme Inc"
    password = re.search(r"Password for boss@acme.test: (\S+)", out).group(1)
    user = authenticate(username="boss@acme.test", password=password)
    assert user is not None
    assert Membership.objects.get(user=user, organization=organization).role == Role.OWNER


def test_org_create_with_an_existing_user_keeps_their_password(db):
    User.objects.create_user("boss@acme.test", "old password 123")
    out, _ = run(
        "org_create", "acme", "--name", "Acme", "--code", "AC1", "--owner", "boss@acme.test"
    )
    assert "password is unchanged" in out
    assert authenticate(username="boss@acme.test", password="old password 123")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Bad Slug!", "--name", "X"], "slug"),
        (["admin", "--name", "X"], "reserved"),
        (["acme2", "--name", "X", "--code", "acme-1"], "code"),
        (["acme3", "--name", "X", "--timezone", "Mars/Base"], "time zone"),
    ],
)
def test_org_create_refuses_bad_input_in_one_line_and_stores_nothing(db, args, message):
    with pytest.raises(CommandError, match=message):
        run("org_create", *args, "--owner", "boss@acme.test", "--no-input")
    assert not Organization.objects.exists()
    assert not User.objects.exists()


def test_org_create_refuses_a_taken_slug(db):
    run("org_create", "acme", "--name", "Acme", "--owner", "a@acme.test", "--no-input")
    with pytest.raises(CommandError, match="slug"):
        run("org_create", "acme", "--name", "Other", "--owner", "b@other.test", "--no-input")
    assert Organization.objects.count() == 1


def test_org_create_derives_a_free_code(db):
    run("org_create", "acme", "--name", "Acme", "--owner", "a@acme.test", "--no-input")
    run("org_create", "acme-1", "--name", "Acme One", "--owner", "a@acme.test", "--no-input")
    assert set(Organization.objects.values_list("code", flat=True)) == {"ACME", "ACME1"}


def test_token_create_prints_a_working_key_once(acme):
    out, err = run("token_create", "agent@acme.test", "acme")
    key = out.strip()
    assert key.startswith("tsk_")
    assert "shown only now" in err
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/me/").json()["user"]["email"] == "agent@acme.test"


def test_token_create_with_a_role_caps_the_token(acme):
    out, _ = run("token_create", "admin@acme.test", "acme", "--role", "viewer", "--name", "ro")
    assert ApiToken.objects.get(name="ro").effective_role == Role.VIEWER
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {out.strip()}")
    assert client.post("/api/v1/members/", {"email": "x@y.test"}, format="json").status_code == 403


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody@acme.test", "acme"], "not a member"),
        (["agent@acme.test", "globex"], "not a member"),
        (["agent@acme.test", "acme", "--role", "owner"], "more than its member's role"),
    ],
)
def test_token_create_refuses_in_one_line(acme, args, message):
    with pytest.raises(CommandError, match=message):
        run("token_create", *args)
    assert not ApiToken.objects.exists()


def test_a_command_error_exits_non_zero_with_one_line(migrated_sqlite, tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "token_create", "nobody@x.test", "nowhere"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=installation(migrated_sqlite, tmp_path),
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "CommandError: nobody@x.test is not a member of an organization 'nowhere'."
    ]
