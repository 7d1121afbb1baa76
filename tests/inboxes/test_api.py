import pytest

from inboxes.models import Inbox
from tests.conftest import api_client


def test_an_admin_creates_an_inbox_with_its_provisioned_address(acme):
    response = api_client(acme.admin).post(
        "/api/v1/inboxes/",
        {"name": "billing", "color": "#aa3300", "extra_addresses": ["Billing@Acme-Corp.test"]},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["address"] == "billing.acme@in.tisket.test"
    assert body["extra_addresses"] == ["billing@acme-corp.test"]
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
        "/api/v1/inboxes/", {"name": "x", "extra_addresses": [inbox.address]}, format="json"
    )
    assert taken.status_code == 409
    api_client(acme.admin).patch(
        f"/api/v1/inboxes/{inbox.pk}/", {"extra_addresses": ["help@shared.test"]}, format="json"
    )
    clash = client.post(
        "/api/v1/inboxes/", {"name": "y", "extra_addresses": ["HELP@shared.test"]}, format="json"
    )
    assert clash.status_code == 409
    assert Inbox.objects.filter(organization=globex.org).count() == 0


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
