"""Settings pages: who may open them, the organization form, API tokens, and constant queries."""

import itertools
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inboxes.services import inbox_create
from sla import services as sla_services
from tests.conftest import Cast
from tests.factories import MembershipFactory
from threads.models import Suppression
from tickets import macros, queues
from tisket import invitations, services
from tisket.lib.apikeys import api_key_hash
from tisket.models import ApiToken, Role


@pytest.fixture
def objects(acme, inbox) -> dict:
    """One object of each kind in Acme, for the pages that show one."""
    calendar = sla_services.calendar_create(organization=acme.org, name="Office")
    policy = sla_services.policy_create(organization=acme.org, name="Standard", calendar=calendar)
    customer = sla_services.customer_save(organization=acme.org, name="Initech", policy=policy)
    queue = queues.queue_create(organization=acme.org, name="Support", actor=None)
    macro = macros.macro_save(organization=acme.org, actor=None, name="Thanks", body="Thanks!")
    suppression = Suppression.objects.create(
        organization=acme.org,
        address="gone@client.test",
        reason="bounced",
        until=timezone.now() + timedelta(days=1),
    )
    return {
        "suppression": suppression.pk,
        "inbox": inbox.pk,
        "queue": queue.pk,
        "macro": macro.pk,
        "calendar": calendar.pk,
        "policy": policy.pk,
        "customer": customer.pk,
    }


PAGES = [
    ("settings:general", None),
    ("settings:members", None),
    ("settings:inboxes", None),
    ("settings:inbox-new", None),
    ("settings:suppressions", None),
    ("settings:inbox", "inbox"),
    ("settings:queues", None),
    ("settings:queue-new", None),
    ("settings:queue", "queue"),
    ("settings:macros", None),
    ("settings:macro-new", None),
    ("settings:macro", "macro"),
    ("settings:sla", None),
    ("settings:calendar-new", None),
    ("settings:calendar", "calendar"),
    ("settings:policy-new", None),
    ("settings:policy", "policy"),
    ("settings:customer-new", None),
    ("settings:customer", "customer"),
    ("settings:tokens", None),
]


def _url(name: str, cast: Cast, objects: dict, param: str | None) -> str:
    return reverse(name, args=[cast.org.slug, *([objects[param]] if param else [])])


@pytest.mark.parametrize(("name", "param"), PAGES, ids=[n for n, _ in PAGES])
def test_admins_and_owners_open_every_settings_page(acme, objects, web, name, param):
    url = _url(name, acme, objects, param)
    for member in (acme.admin, acme.owner):
        response = web(member).get(url)
        assert response.status_code == 200, (member.role, url)
        assert b'class="settings-nav"' in response.content


@pytest.mark.parametrize(("name", "param"), PAGES, ids=[n for n, _ in PAGES])
def test_supervisors_agents_and_viewers_are_refused_every_settings_page(
    acme, objects, web, name, param
):
    url = _url(name, acme, objects, param)
    for member in (acme.supervisor, acme.agent, acme.viewer):
        client = web(member)
        assert client.get(url).status_code == 403, (member.role, url)
        assert client.post(url, {"name": "x"}).status_code == 403, (member.role, url)


ACTIONS = [
    ("settings:member-role", "member"),
    ("settings:member-remove", "member"),
    ("settings:inbox-delete", "inbox"),
    ("settings:inbox-test-smtp", "inbox"),
    ("settings:inbox-test-imap", "inbox"),
    ("settings:inbox-fetch", "inbox"),
    ("settings:queue-delete", "queue"),
    ("settings:macro-delete", "macro"),
    ("settings:calendar-import-holidays", "calendar"),
    ("settings:calendar-delete", "calendar"),
    ("settings:policy-delete", "policy"),
    ("settings:customer-delete", "customer"),
    ("settings:token-revoke", "token"),
    ("settings:suppression-lift", "suppression"),
]


@pytest.mark.parametrize(("name", "param"), ACTIONS, ids=[n for n, _ in ACTIONS])
def test_actions_refuse_a_supervisor_and_change_nothing(acme, objects, web, name, param):
    token, _ = services.api_token_create(membership=acme.agent, name="script")
    objects = {**objects, "member": acme.agent.pk, "token": token.pk}
    response = web(acme.supervisor).post(_url(name, acme, objects, param), {"role": "viewer"})
    assert response.status_code == 403
    acme.agent.refresh_from_db()
    token.refresh_from_db()
    assert acme.agent.role == Role.AGENT
    assert token.revoked_at is None
    assert Suppression.objects.filter(pk=objects["suppression"]).exists()


def test_the_settings_link_shows_for_admins_only(acme, web):
    settings_url = reverse("settings:general", args=["acme"]).encode()
    assert settings_url in web(acme.admin).get("/acme/members/").content
    assert settings_url not in web(acme.supervisor).get("/acme/members/").content


# --- General ---------------------------------------------------------------------------------


def test_an_admin_renames_the_organization_and_sets_its_time_zone(acme, web):
    client = web(acme.admin)
    response = client.post(
        "/acme/settings/", {"name": "Acme Corp", "timezone": "Europe/Paris"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/acme/settings/"
    assert b"Organization saved." in response.content
    acme.org.refresh_from_db()
    assert (acme.org.name, acme.org.timezone) == ("Acme Corp", "Europe/Paris")


def test_an_unknown_time_zone_is_refused_with_a_clear_message(acme, web):
    before = (acme.org.name, acme.org.timezone)
    response = web(acme.admin).post("/acme/settings/", {"name": "New", "timezone": "Mars/Olympus"})
    assert response.status_code == 200
    assert b"is not a known time zone" in response.content
    acme.org.refresh_from_db()
    assert (acme.org.name, acme.org.timezone) == before


def test_a_blank_name_is_refused(acme, web):
    response = web(acme.admin).post("/acme/settings/", {"name": " ", "timezone": "UTC"})
    assert response.status_code == 200
    assert b"This field is required." in response.content


# --- API tokens -------------------------------------------------------------------------------


def test_an_admin_sees_every_token_of_the_organization_and_none_of_another(acme, globex, web):
    services.api_token_create(membership=acme.agent, name="agent script")
    services.api_token_create(membership=globex.admin, name="their script")
    page = web(acme.admin).get("/acme/settings/tokens/").content.decode()
    assert "agent script" in page
    assert "their script" not in page


def test_creating_a_token_shows_its_key_once_and_stores_only_its_hash(acme, web):
    client = web(acme.admin)
    response = client.post("/acme/settings/tokens/", {"name": "Export", "role": "viewer"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    key = response.context["key"]
    assert key.startswith("tsk_") and key in response.content.decode()
    token = ApiToken.objects.get(name="Export")
    assert (token.membership, token.role, token.key_hash) == (
        acme.admin,
        Role.VIEWER,
        api_key_hash(key),
    )
    assert key not in client.get("/acme/settings/tokens/").content.decode()


def test_a_token_cannot_be_created_above_ones_own_role(acme, web):
    response = web(acme.admin).post("/acme/settings/tokens/", {"name": "Root", "role": "owner"})
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content
    assert not ApiToken.objects.filter(name="Root").exists()


def test_a_token_needs_a_name(acme, web):
    response = web(acme.admin).post("/acme/settings/tokens/", {"name": ""})
    assert response.status_code == 200
    assert not ApiToken.objects.exists()


def test_an_admin_revokes_a_members_token(acme, web):
    token, _ = services.api_token_create(membership=acme.agent, name="script")
    response = web(acme.admin).post(f"/acme/settings/tokens/{token.pk}/revoke/", follow=True)
    assert b"The token script is revoked." in response.content
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_an_admin_cannot_revoke_an_owners_token_an_owner_can(acme, web):
    token, _ = services.api_token_create(membership=acme.owner, name="owners")
    response = web(acme.admin).post(f"/acme/settings/tokens/{token.pk}/revoke/", follow=True)
    assert b"Only an owner" in response.content
    token.refresh_from_db()
    assert token.revoked_at is None
    web(acme.owner).post(f"/acme/settings/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_another_organizations_token_is_404_and_stays_active(acme, globex, web):
    token, _ = services.api_token_create(membership=globex.admin, name="theirs")
    response = web(acme.admin).post(f"/acme/settings/tokens/{token.pk}/revoke/")
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoking_needs_a_post(acme, web):
    token, _ = services.api_token_create(membership=acme.agent, name="script")
    assert web(acme.admin).get(f"/acme/settings/tokens/{token.pk}/revoke/").status_code == 405


# --- Constant query counts ------------------------------------------------------------------

_serial = itertools.count()


def _grow_members(cast: Cast, n: int) -> None:
    for i in (next(_serial) for _ in range(n)):
        member = MembershipFactory(organization=cast.org, role=Role.AGENT)
        services.api_token_create(membership=member, name=f"t{i}")
        invitations.invitation_create(
            organization=cast.org, email=f"new{i}@acme.test", role="agent", actor=None
        )


def _grow_inboxes(cast: Cast, n: int) -> None:
    from inboxes.services import inbox_set_addresses

    for i in (next(_serial) for _ in range(n)):
        inbox = inbox_create(organization=cast.org, name=f"box{i}")
        inbox_set_addresses(
            inbox=inbox, addresses=[f"b{i}@client{i}.test"], outside_domain_allowed=True
        )


def _grow_queues(cast: Cast, n: int) -> None:
    for i in (next(_serial) for _ in range(n)):
        inbox = inbox_create(organization=cast.org, name=f"q{i}")
        queues.queue_create(
            organization=cast.org,
            name=f"Queue {i}",
            actor=None,
            members=[cast.agent, cast.agent2],
            inboxes=[inbox],
        )


def _grow_macros(cast: Cast, n: int) -> None:
    queue = queues.queue_create(organization=cast.org, name=f"M{next(_serial)}", actor=None)
    for i in (next(_serial) for _ in range(n)):
        macros.macro_save(
            organization=cast.org,
            actor=None,
            name=f"Macro {i}",
            body="Hello {{ client_name }}",
            actions={"queue": queue.pk, "status": "open", "tags_add": ["a"]},
        )


def _grow_sla(cast: Cast, n: int) -> None:
    for i in (next(_serial) for _ in range(n)):
        calendar = sla_services.calendar_create(organization=cast.org, name=f"Cal {i}")
        sla_services.calendar_import_holidays(calendar=calendar, country="FR", years=[2025])
        policy = sla_services.policy_create(
            organization=cast.org,
            name=f"Policy {i}",
            calendar=calendar,
            targets={"urgent": {"first_response_minutes": 30}, "low": {"resolution_minutes": 60}},
        )
        sla_services.customer_save(
            organization=cast.org, name=f"Customer {i}", policy=policy, domains=[f"c{i}.test"]
        )


LISTS = [
    ("settings:members", _grow_members),
    ("settings:tokens", _grow_members),
    ("settings:inboxes", _grow_inboxes),
    ("settings:queues", _grow_queues),
    ("settings:macros", _grow_macros),
    ("settings:sla", _grow_sla),
]


@pytest.mark.parametrize(("name", "grow"), LISTS, ids=[n for n, _ in LISTS])
def test_list_pages_run_the_same_queries_for_few_and_many_rows(acme, web, name, grow):
    client = web(acme.admin)
    url = reverse(name, args=["acme"])
    client.get(url)  # warm the session and caches

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    grow(acme, 1)
    few = count()
    grow(acme, 12)
    assert count() == few
