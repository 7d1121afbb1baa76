"""The Domains settings page and /api/v1/domains/: admins only, private keys never shown."""

import pytest

from inboxes import domains, services
from inboxes.models import MailDomain
from tests.conftest import api_client
from tests.inboxes.conftest import publish


def test_an_admin_adds_checks_rotates_and_removes_a_domain_through_the_api(acme, zone):
    client = api_client(acme.admin)
    created = client.post("/api/v1/domains/", {"name": "ClientCorp.com"}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["name"] == "clientcorp.com" and body["status"] == "pending"
    records = {r["purpose"]: r for r in body["records"]}
    assert records["ownership"]["name"] == "_tisket.clientcorp.com"
    assert records["dkim"]["name"] == f"{body['dkim_selector']}._domainkey.clientcorp.com"
    assert records["dkim"]["value"].startswith("v=DKIM1; k=rsa; p=MIIBIjAN")  # RSA 2048
    text = created.content.decode()
    domain = MailDomain.objects.get()
    assert "PRIVATE" not in text and domain.dkim_private_sealed not in text
    assert "sealed" not in text

    publish(zone, domain)
    checked = client.post(f"/api/v1/domains/{domain.pk}/check/")
    assert checked.status_code == 200
    assert checked.json()["status"] == "verified"
    assert [c["ok"] for c in checked.json()["checks"]] == [True] * 5

    rotated = client.post(f"/api/v1/domains/{domain.pk}/rotate-dkim/").json()
    assert rotated["dkim_next_selector"]
    assert {r["purpose"] for r in rotated["records"]} == {"ownership", "dkim", "dkim-next"}
    again = client.post(f"/api/v1/domains/{domain.pk}/rotate-dkim/")
    assert again.status_code == 409 and "waiting" in again.json()["detail"].lower()

    assert client.delete(f"/api/v1/domains/{domain.pk}/").status_code == 204
    assert not MailDomain.objects.exists()


def test_a_bad_domain_is_a_400_with_a_message(acme):
    client = api_client(acme.admin)
    response = client.post("/api/v1/domains/", {"name": "not a domain"}, format="json")
    assert response.status_code == 400
    assert "domain" in response.content.decode()
    assert not MailDomain.objects.exists()


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_domains_are_for_admins(acme, role):
    domains.mail_domain_add(organization=acme.org, name="clientcorp.com")
    client = api_client(acme.member(role))
    assert client.get("/api/v1/domains/").status_code == 403
    assert client.post("/api/v1/domains/", {"name": "x.test"}, format="json").status_code == 403


def test_the_domain_list_costs_the_same_for_many_domains(acme, django_assert_max_num_queries):
    client = api_client(acme.admin)
    for i in range(6):
        MailDomain.objects.create(
            organization=acme.org,
            name=f"d{i}.test",
            token="t",
            dkim_selector="s",
            dkim_public="AAAA",
            dkim_private_sealed="x",
        )
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/domains/")
    assert len(response.json()["results"]) == 6


def test_an_inbox_sends_from_a_verified_address_set_through_the_api(acme, zone, inbox):
    domain = domains.mail_domain_add(organization=acme.org, name="clientcorp.com")
    client = api_client(acme.admin)
    refused = client.patch(
        f"/api/v1/inboxes/{inbox.pk}/",
        {"extra_addresses": ["support@clientcorp.com"]},
        format="json",
    )
    assert refused.status_code == 400
    publish(zone, domain)
    domains.mail_domain_check(domain=domain)
    response = client.patch(
        f"/api/v1/inboxes/{inbox.pk}/",
        {"extra_addresses": ["support@clientcorp.com"], "from_address": "support@clientcorp.com"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["from_address"] == "support@clientcorp.com"
    bad = client.patch(
        f"/api/v1/inboxes/{inbox.pk}/", {"from_address": "x@elsewhere.test"}, format="json"
    )
    assert bad.status_code == 400


def test_the_domain_pages_show_checks_and_records_but_no_secret(acme, zone, web, inbox):
    client = web(acme.admin)
    listed = client.get("/acme/settings/domains/")
    assert listed.status_code == 200 and b"No domain yet" in listed.content
    added = client.post("/acme/settings/domains/", {"name": "clientcorp.com"})
    domain = MailDomain.objects.get()
    assert added.status_code == 302 and added["Location"].endswith(f"/domains/{domain.pk}/")
    refused = client.post("/acme/settings/domains/", {"name": "clientcorp"})
    assert refused.status_code == 200 and b"not a domain name" in refused.content

    publish(zone, domain)
    assert client.post(f"/acme/settings/domains/{domain.pk}/check/").status_code == 302
    services.inbox_update(inbox=inbox, extra_addresses=["support@clientcorp.com"])
    page = client.get(f"/acme/settings/domains/{domain.pk}/").content.decode()
    assert "The TXT record _tisket.clientcorp.com holds this domain&#x27;s token" in page
    assert domain.dkim_selector in page and domain.dkim_public in page
    assert "PRIVATE" not in page and domain.dkim_private_sealed not in page

    sent = client.post(
        f"/acme/settings/domains/{domain.pk}/sender/",
        {"inbox": inbox.pk, "address": "support@clientcorp.com"},
    )
    assert sent.status_code == 302
    inbox.refresh_from_db()
    assert inbox.from_address == "support@clientcorp.com"
    assert client.post(f"/acme/settings/domains/{domain.pk}/rotate-dkim/").status_code == 302
    assert client.post(f"/acme/settings/domains/{domain.pk}/delete/").status_code == 302
    inbox.refresh_from_db()
    assert inbox.from_address == "" and not MailDomain.objects.exists()


def test_an_agent_cannot_open_the_domain_pages(acme, web):
    domain = domains.mail_domain_add(organization=acme.org, name="clientcorp.com")
    client = web(acme.agent)
    assert client.get("/acme/settings/domains/").status_code in (403, 404)
    assert client.post(f"/acme/settings/domains/{domain.pk}/delete/").status_code in (403, 404)
    assert MailDomain.objects.exists()
