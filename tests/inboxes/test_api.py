import pytest

from inboxes.models import Inbox
from tests.conftest import api_client


def test_an_admin_creates_an_inbox_with_its_provisioned_address(acme):
    response = api_client(acme.admin).post(
        "/api/v1/inboxes/",
        {
            "name": "billing",
            "color": "#aa3300",
            "extra_addresses": ["Invoices.Acme@in.tisket.test"],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["address"] == "billing.acme@in.tisket.test"
    assert body["extra_addresses"] == ["invoices.acme@in.tisket.test"]
    assert body["auto_ack_enabled"] is True
    assert body["max_message_bytes"] == 25 * 1024 * 1024


@pytest.mark.parametrize(
    "name", ["Support", "sup port", "-support", "support-", "a" * 31, "sup.port", "süpport", ""]
)
def test_a_bad_inbox_name_is_a_400_that_says_why(acme, name):
    response = api_client(acme.admin).post("/api/v1/inboxes/", {"name": name}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()
    assert not Inbox.objects.exists()


def test_an_inbox_name_is_unique_per_organization_only(acme, globex):
    assert (
        api_client(acme.admin)
        .post("/api/v1/inboxes/", {"name": "support"}, format="json")
        .status_code
        == 201
    )
    again = api_client(acme.admin).post("/api/v1/inboxes/", {"name": "support"}, format="json")
    assert again.status_code == 400
    assert "already has an inbox" in str(again.json())
    assert (
        api_client(globex.admin)
        .post("/api/v1/inboxes/", {"name": "support"}, format="json")
        .status_code
        == 201
    )


def test_an_extra_address_is_unique_across_the_installation(acme, globex, inbox):
    client = api_client(globex.admin)
    taken = client.post(
        "/api/v1/inboxes/", {"name": "x", "extra_addresses": ["help.globex@in.tisket.test"]},
        format="json",
    )  # fmt: skip
    assert taken.status_code == 201
    clash = client.post(
        "/api/v1/inboxes/",
        {"name": "y", "extra_addresses": ["HELP.globex@in.tisket.test"]},
        format="json",
    )
    assert clash.status_code == 409
    assert Inbox.objects.filter(organization=globex.org).count() == 1


def test_another_organizations_namespace_cannot_be_taken(acme, globex, inbox):
    """The attack: sales.<other-org>@ taken before the other organization makes its inbox."""
    client = api_client(acme.admin)
    squat = client.patch(
        f"/api/v1/inboxes/{inbox.pk}/",
        {"extra_addresses": ["sales.globex@in.tisket.test"]},
        format="json",
    )
    assert squat.status_code == 400
    assert "outside this organization's addresses" in str(squat.json())
    created = api_client(globex.admin).post("/api/v1/inboxes/", {"name": "sales"}, format="json")
    assert created.status_code == 201
    assert created.json()["address"] == "sales.globex@in.tisket.test"


def test_a_refused_address_says_nothing_of_who_has_it(acme, globex, globex_inbox, inbox):
    client = api_client(acme.admin)

    def refused(address: str) -> tuple[int, str]:
        response = client.patch(
            f"/api/v1/inboxes/{inbox.pk}/", {"extra_addresses": [address]}, format="json"
        )
        return response.status_code, str(response.json()).replace(address, "<address>")

    # Another organization's inbox, and an address nobody has: the same answer.
    assert refused(globex_inbox.address) == refused("nobody.globex@in.tisket.test")
    assert refused("help@taken-elsewhere.test") == refused("help@nobody-has-it.test")


def test_an_address_at_another_domain_is_for_the_installations_admins(acme, inbox):
    response = api_client(acme.admin).patch(
        f"/api/v1/inboxes/{inbox.pk}/", {"extra_addresses": ["help@acme.example"]}, format="json"
    )
    assert response.status_code == 400
    assert "not verified" in str(response.json())
    assert not inbox.extra_addresses.exists()
    # Added by the installation (Django admin), it stays whenever the tenant saves.
    inbox.extra_addresses.create(address="help@acme.example")
    kept = api_client(acme.admin).patch(
        f"/api/v1/inboxes/{inbox.pk}/",
        {"extra_addresses": ["help@acme.example", "desk.acme@in.tisket.test"]},
        format="json",
    )
    assert kept.status_code == 200, kept.content
    assert kept.json()["extra_addresses"] == ["desk.acme@in.tisket.test", "help@acme.example"]


def test_an_inbox_takes_back_its_provisioned_address(acme, globex, inbox):
    """Squatted before the namespace was enforced (or by an installation admin)."""
    inbox.extra_addresses.create(address="sales.globex@in.tisket.test")
    created = api_client(globex.admin).post("/api/v1/inboxes/", {"name": "sales"}, format="json")
    assert created.status_code == 201
    assert not inbox.extra_addresses.exists()


def test_agents_read_inboxes_and_only_admins_change_them(acme, inbox):
    agent = api_client(acme.agent)
    assert agent.get("/api/v1/inboxes/").status_code == 200
    response = agent.patch(f"/api/v1/inboxes/{inbox.pk}/", {"color": "#000000"}, format="json")
    assert response.status_code == 403
    admin = api_client(acme.admin)
    response = admin.patch(
        f"/api/v1/inboxes/{inbox.pk}/",
        {"auto_ack_enabled": False, "auto_ack_text": "Thanks!", "color": "#123456"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["auto_ack_text"] == "Thanks!"
    assert response.json()["name"] == "support"


def test_an_inbox_with_threads_cannot_be_deleted(acme, inbox):
    from tests.mail import deliver, make_mail

    deliver(make_mail())
    response = api_client(acme.admin).delete(f"/api/v1/inboxes/{inbox.pk}/")
    assert response.status_code == 409
    empty = api_client(acme.admin).post("/api/v1/inboxes/", {"name": "empty"}, format="json").json()
    assert api_client(acme.admin).delete(f"/api/v1/inboxes/{empty['id']}/").status_code == 204
