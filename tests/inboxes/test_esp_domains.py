"""Custom domains set up at Postmark through its Domains API (TISKET_ESP_PROVISIONING),
against a stand-in for the API on 127.0.0.1."""

import pytest

from inboxes import domains
from inboxes.esp_domains import EspProvisioningError, mail_domain_esp_sync
from inboxes.models import MailDomain
from tests.conftest import api_client
from tests.postmark import TOKEN, serve


@pytest.fixture
def postmark(settings):
    fake, server = serve()
    settings.TISKET_ESP_PROVISIONING = "postmark"
    settings.TISKET_POSTMARK_ACCOUNT_TOKEN = TOKEN
    settings.TISKET_POSTMARK_API_URL = fake.url
    settings.TISKET_DOMAIN_CHECK_DEADLINE = 5
    yield fake
    server.shutdown()
    server.server_close()


def page_of(client, domain: MailDomain) -> str:
    return client.get(f"/acme/settings/domains/{domain.pk}/").content.decode()


def test_a_new_domain_is_set_up_at_postmark_and_shows_its_records(
    acme, web, postmark, django_capture_on_commit_callbacks
):
    client = web(acme.admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/acme/settings/domains/", {"name": "ClientCorp.com"})
    domain = MailDomain.objects.get()
    assert postmark.requests[0] == (
        "POST",
        "/domains",
        {"Name": "clientcorp.com", "ReturnPathDomain": "pm-bounces.clientcorp.com"},
    )
    assert domain.esp_id == "36735" and domain.esp_error == ""
    records = {r["purpose"]: r for r in domain.esp_records}
    assert records["dkim"]["name"] == "20261204120000pm._domainkey.clientcorp.com"
    assert records["dkim"]["value"].startswith("k=rsa;p=MIGf")
    assert records["return_path"] == {
        "purpose": "return_path",
        "type": "CNAME",
        "name": "pm-bounces.clientcorp.com",
        "value": "pm.mtasv.net",
        "ok": False,
    }
    page = page_of(client, domain)
    assert "At Postmark" in page and "pm-bounces.clientcorp.com" in page
    assert "not seen by Postmark yet" in page

    postmark.published.add("clientcorp.com")
    asked = client.post(f"/acme/settings/domains/{domain.pk}/esp/", follow=True)
    assert "Postmark sees every record of clientcorp.com." in asked.content.decode()
    assert [r[:2] for r in postmark.requests[1:]] == [
        ("PUT", "/domains/36735/verifyDkim"),
        ("PUT", "/domains/36735/verifyReturnPath"),
    ]
    domain.refresh_from_db()
    assert all(r["ok"] for r in domain.esp_records)
    assert "not seen by Postmark yet" not in page_of(client, domain)


def test_a_domain_already_at_postmark_is_found_there_not_refused(acme, postmark):
    postmark.add("clientcorp.com")
    domain = domains.mail_domain_add(organization=acme.org, name="clientcorp.com")
    synced = mail_domain_esp_sync(domain=domain)
    assert synced.esp_id == "36735"
    assert [r[0] for r in postmark.requests] == ["POST", "GET", "GET"]


def test_a_domain_removed_at_postmark_is_set_up_again(acme, postmark):
    domain = domains.mail_domain_add(organization=acme.org, name="clientcorp.com")
    mail_domain_esp_sync(domain=domain)
    postmark.domains.clear()
    domain.refresh_from_db()
    again = mail_domain_esp_sync(domain=domain)
    assert again.esp_id == "36735" and postmark.requests[-1][:2] == ("POST", "/domains")


@pytest.mark.parametrize(
    ("answer", "told"),
    [
        ((401, {"ErrorCode": 10, "Message": "secret-word"}), "refused the installation"),
        ((422, {"ErrorCode": 503, "Message": "secret-word"}), "public mail domains"),
        ((422, {"ErrorCode": 700, "Message": "secret-word"}), "refused the request"),
        ((429, {"ErrorCode": 429, "Message": "secret-word"}), "slow down"),
        ((500, {"Message": "secret-word at db-7.internal"}), "problem on its side"),
    ],
)
def test_a_failure_is_told_by_its_class_never_in_postmarks_words(acme, web, postmark, answer, told):
    domain = domains.mail_domain_add(organization=acme.org, name="clientcorp.com")
    postmark.fail_with = answer
    client = web(acme.admin)
    response = client.post(f"/acme/settings/domains/{domain.pk}/esp/", follow=True)
    text = response.content.decode()
    assert response.status_code == 200 and told in text
    assert "secret-word" not in text
    domain.refresh_from_db()
    assert told in domain.esp_error and "secret-word" not in domain.esp_error
    assert domain.esp_id == "" and domain.esp_checked_at is not None


def test_an_unreachable_api_is_told_as_such(acme, settings):
    settings.TISKET_ESP_PROVISIONING = "postmark"
    settings.TISKET_POSTMARK_ACCOUNT_TOKEN = TOKEN
    settings.TISKET_POSTMARK_API_URL = "http://127.0.0.1:9"  # nothing listens there
    settings.TISKET_DOMAIN_CHECK_DEADLINE = 3
    domain = domains.mail_domain_add(organization=acme.org, name="clientcorp.com")
    with pytest.raises(EspProvisioningError, match="could not be reached"):
        mail_domain_esp_sync(domain=domain)


def test_the_hourly_check_asks_postmark_again(acme, postmark, zone):
    domain = domains.mail_domain_add(organization=acme.org, name="clientcorp.com")
    assert domains.mail_domains_check_all() == 1
    domain.refresh_from_db()
    assert domain.esp_id and not any(r["ok"] for r in domain.esp_records)
    postmark.published.add("clientcorp.com")
    domains.mail_domains_check_all()
    domain.refresh_from_db()
    assert all(r["ok"] for r in domain.esp_records)


def test_without_the_setting_nothing_is_asked_of_postmark(acme, web, settings):
    assert settings.TISKET_ESP_PROVISIONING == ""
    domain = domains.mail_domain_add(organization=acme.org, name="clientcorp.com")
    client = web(acme.admin)
    assert "At Postmark" not in page_of(client, domain)
    response = client.post(f"/acme/settings/domains/{domain.pk}/esp/", follow=True)
    assert "does not set domains up at its ESP" in response.content.decode()
    domain.refresh_from_db()
    assert domain.esp_checked_at is None


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_only_admins_ask_postmark(acme, web, postmark, role):
    domain = domains.mail_domain_add(organization=acme.org, name="clientcorp.com")
    client = web(acme.member(role))
    assert client.post(f"/acme/settings/domains/{domain.pk}/esp/").status_code in (403, 404)
    assert postmark.requests == []


def test_the_api_shows_what_postmark_asks_for(acme, postmark):
    domain = domains.mail_domain_add(organization=acme.org, name="clientcorp.com")
    mail_domain_esp_sync(domain=domain)
    body = api_client(acme.admin).get(f"/api/v1/domains/{domain.pk}/").json()
    assert [(r["purpose"], r["ok"]) for r in body["esp_records"]] == [
        ("dkim", False),
        ("return_path", False),
    ]
    assert body["esp_error"] == "" and body["esp_checked_at"]
