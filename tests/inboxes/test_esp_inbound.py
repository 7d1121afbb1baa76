"""Mail in through Postmark for a verified custom domain (TISKET_ESP_PROVISIONING): a server
per domain at Postmark, against a stand-in for its API on 127.0.0.1, and the MX record
checked against a DNS server on 127.0.0.1."""

import json
import logging
from urllib.parse import urlsplit

import pytest

from inboxes import domains, esp_domains, services
from inboxes.esp_domains import EspProvisioningError, mail_domain_esp_sync
from inboxes.models import MailDomain
from tests.conftest import api_client
from tests.inboxes.conftest import publish
from tests.inboxes.test_esp_domains import postmark  # noqa: F401 (a fixture)
from tests.mail import make_mail
from threads.models import Thread

INBOUND_MX = "inbound.postmarkapp.com"


def verified(cast, zone, name: str = "clientcorp.com") -> MailDomain:
    """A domain of the organization, its records published (no MX yet) and checked."""
    domain = domains.mail_domain_add(organization=cast.org, name=name)
    publish(zone, domain, mx=False)
    return domains.mail_domain_check(domain=domain)


def page_of(client, domain: MailDomain, slug: str = "acme"):
    return client.get(f"/{slug}/settings/domains/{domain.pk}/")


def hook_url(settings) -> str:
    site = urlsplit(settings.SITE_URL)
    return f"{site.scheme}://tisket:webhook-secret@{site.netloc}/anymail/postmark/inbound/"


def test_a_domain_that_verifies_gets_one_server_at_postmark_receiving_for_it(
    acme,
    web,
    zone,
    settings,
    postmark,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    client = web(acme.admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/acme/settings/domains/", {"name": "clientcorp.com"})
    domain = MailDomain.objects.get()
    # Not the organization's yet: Postmark is asked to send for it, not to receive its mail.
    assert postmark.servers == {} and domain.esp_id and not domain.esp_inbound_id
    assert "Once the domain verifies" in page_of(client, domain).content.decode()

    publish(zone, domain, mx=False)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/acme/settings/domains/{domain.pk}/check/")
    [server] = postmark.servers.values()
    site = urlsplit(settings.SITE_URL).hostname
    assert server["Name"] == f"Tisket {site} acme clientcorp.com"
    assert server["InboundHookUrl"] == hook_url(settings)
    assert server["InboundDomain"] == "clientcorp.com" and server["RawEmailEnabled"] is True
    domain.refresh_from_db()
    assert domain.esp_inbound_id == str(server["ID"]) and domain.esp_inbound_error == ""
    assert domain.esp_inbound_address == server["InboundAddress"]

    text = page_of(client, domain).content.decode()
    assert "Mail in through Postmark" in text and INBOUND_MX in text
    assert server["InboundAddress"] in text and "not checked yet" in text

    client.post(f"/acme/settings/domains/{domain.pk}/check/")
    domain.refresh_from_db()
    assert domain.inbound_mx_ok is False and not domain.mx_routes_here
    assert "not in DNS yet" in page_of(client, domain).content.decode()

    zone.mx["clientcorp.com"] = [INBOUND_MX]
    client.post(f"/acme/settings/domains/{domain.pk}/check/")
    domain.refresh_from_db()
    # Postmark's MX brings the domain's mail to Tisket: replies may go to its addresses too.
    assert domain.inbound_mx_ok is True and domain.mx_routes_here
    text = page_of(client, domain).content.decode()
    assert "not in DNS yet" not in text and "names Postmark: mail to it reaches Tisket" in text
    assert len(postmark.servers) == 1


def test_asking_again_never_makes_a_second_server(acme, zone, postmark):  # noqa: F811
    domain = verified(acme, zone)
    mail_domain_esp_sync(domain=domain)
    before = len(postmark.requests)
    mail_domain_esp_sync(domain=domain)
    assert ("GET", "/servers/7001", {}) in postmark.requests[before:]
    assert not [r for r in postmark.requests[before:] if r[0] == "POST" and r[1] == "/servers"]
    assert list(postmark.servers) == [7001]


def test_the_hourly_check_sets_up_a_domain_that_verifies_once(
    acme,
    zone,
    postmark,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    domain = domains.mail_domain_add(organization=acme.org, name="clientcorp.com")
    publish(zone, domain, mx=False)
    with django_capture_on_commit_callbacks(execute=True):
        domains.mail_domains_check_all()
    assert [r[:2] for r in postmark.requests if r[0] == "POST"] == [
        ("POST", "/domains"),
        ("POST", "/servers"),
    ]
    domain.refresh_from_db()
    assert domain.status == MailDomain.Status.VERIFIED and domain.esp_inbound_id == "7001"


def test_a_server_made_but_not_recorded_is_found_by_its_name(acme, zone, postmark):  # noqa: F811
    domain = verified(acme, zone)
    mail_domain_esp_sync(domain=domain)
    # As if the answer had been lost (a timeout, a worker that died before storing the id).
    MailDomain.objects.filter(pk=domain.pk).update(esp_inbound_id="", esp_inbound_address="")
    before = len(postmark.requests)
    synced = mail_domain_esp_sync(domain=domain)
    assert synced.esp_inbound_id == "7001" and list(postmark.servers) == [7001]
    assert [r[1].split("?")[0] for r in postmark.requests[before:] if "servers" in r[1]] == [
        "/servers"
    ]
    assert postmark.requests[-1][0] == "GET"


def test_a_server_changed_or_removed_at_postmark_is_put_right(
    acme,
    zone,
    settings,
    postmark,  # noqa: F811
):
    domain = verified(acme, zone)
    mail_domain_esp_sync(domain=domain)
    postmark.servers[7001]["InboundHookUrl"] = "https://old:secret@desk.example.com/anymail/"
    mail_domain_esp_sync(domain=domain)
    assert postmark.requests[-1][:2] == ("PUT", "/servers/7001")
    assert postmark.servers[7001]["InboundHookUrl"] == hook_url(settings)

    postmark.servers.clear()
    again = mail_domain_esp_sync(domain=domain)
    assert again.esp_inbound_id == "7002" and list(postmark.servers) == [7002]


@pytest.mark.parametrize("by", ["page", "api"])
def test_removing_the_domain_deletes_its_server(
    acme,
    web,
    zone,
    postmark,  # noqa: F811
    django_capture_on_commit_callbacks,
    by,
):
    domain = verified(acme, zone)
    mail_domain_esp_sync(domain=domain)
    with django_capture_on_commit_callbacks(execute=True):
        if by == "page":
            web(acme.admin).post(f"/acme/settings/domains/{domain.pk}/delete/")
        else:
            response = api_client(acme.admin).delete(f"/api/v1/domains/{domain.pk}/")
            assert response.status_code == 204
    assert not MailDomain.objects.exists()
    assert postmark.servers == {} and postmark.requests[-1][:2] == ("DELETE", "/servers/7001")


def test_a_server_postmark_will_not_delete_is_left_for_the_admins_and_logged(
    acme,
    zone,
    caplog,
    postmark,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    domain = verified(acme, zone)
    mail_domain_esp_sync(domain=domain)
    postmark.may_delete = False
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        domains.mail_domain_delete(domain=domain)
    assert not MailDomain.objects.exists() and list(postmark.servers) == [7001]
    assert "Postmark server 7001 of a removed domain not deleted" in caplog.text


def test_a_server_made_for_a_domain_removed_meanwhile_is_deleted(
    acme,
    zone,
    monkeypatch,
    postmark,  # noqa: F811
):
    domain = verified(acme, zone)
    made = esp_domains._inbound_server

    def removed_while_asking(asked: MailDomain) -> dict:
        server = made(asked)
        MailDomain.objects.filter(pk=asked.pk).delete()
        return server

    monkeypatch.setattr(esp_domains, "_inbound_server", removed_while_asking)
    with pytest.raises(EspProvisioningError, match="removed meanwhile"):
        mail_domain_esp_sync(domain=domain)
    assert postmark.servers == {} and postmark.requests[-1][:2] == ("DELETE", "/servers/7001")


@pytest.mark.parametrize(
    ("answer", "told"),
    [
        ((500, {"Message": "secret-word at db-7.internal"}), "problem on its side"),
        ((401, {"ErrorCode": 10, "Message": "secret-word"}), "refused the installation"),
        ((422, {"ErrorCode": 606, "Message": "secret-word"}), "webhook address"),
    ],
)
def test_a_failure_leaves_the_domain_usable_by_hand_and_is_told_by_its_class(
    acme,
    web,
    zone,
    inbox,
    postmark,  # noqa: F811
    answer,
    told,
):
    domain = verified(acme, zone)
    postmark.fail_with = answer
    client = web(acme.admin)
    response = client.post(f"/acme/settings/domains/{domain.pk}/esp/", follow=True)
    assert told in response.content.decode()
    domain.refresh_from_db()
    assert told in domain.esp_inbound_error and "secret-word" not in domain.esp_inbound_error
    assert domain.status == MailDomain.Status.VERIFIED and not domain.esp_inbound_id
    text = page_of(client, domain).content.decode()
    assert "secret-word" not in text and INBOUND_MX not in text

    # The manual path: an address on the domain, sending from it, mail forwarded or routed in.
    services.inbox_update(inbox=inbox, extra_addresses=["support@clientcorp.com"])
    domains.inbox_from_set(inbox=inbox, address="support@clientcorp.com")
    assert domains.inbox_sender(inbox).address == "support@clientcorp.com"

    postmark.fail_with = None
    assert mail_domain_esp_sync(domain=domain).esp_inbound_error == ""


def test_a_domain_postmark_receives_on_another_server_is_told_so(
    acme,
    zone,
    postmark,  # noqa: F811
):
    postmark.add_server("someone else's", InboundDomain="clientcorp.com")
    domain = verified(acme, zone)
    with pytest.raises(EspProvisioningError, match="already receives this domain's mail"):
        mail_domain_esp_sync(domain=domain)
    domain.refresh_from_db()
    assert not domain.esp_inbound_id and len(postmark.servers) == 1


def test_without_a_webhook_secret_no_server_is_made(acme, zone, settings, postmark):  # noqa: F811
    settings.ANYMAIL = {k: v for k, v in settings.ANYMAIL.items() if k != "WEBHOOK_SECRET"}
    domain = verified(acme, zone)
    with pytest.raises(EspProvisioningError, match="no webhook secret"):
        mail_domain_esp_sync(domain=domain)
    assert postmark.servers == {}


@pytest.mark.parametrize("delivered_to", ["the domain's address", "the server's address"])
def test_mail_routed_through_postmark_lands_in_the_domains_organization(
    delivered_to,
    acme,
    globex,
    zone,
    inbox,
    globex_inbox,
    client,
    postmark,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    domain = verified(acme, zone)
    services.inbox_update(inbox=inbox, extra_addresses=["support@clientcorp.com"])
    theirs = verified(globex, zone, name="globex.example")
    services.inbox_update(inbox=globex_inbox, extra_addresses=["help@globex.example"])
    domain = mail_domain_esp_sync(domain=domain)
    mail_domain_esp_sync(domain=theirs)
    assert len(postmark.servers) == 2

    # Through the MX record, or forwarded to the server's own address (the To stays the mail's).
    recipient = (
        "support@clientcorp.com"
        if delivered_to == "the domain's address"
        else domain.esp_inbound_address
    )
    raw = make_mail(to="support@clientcorp.com", subject="Through Postmark")
    body = {"OriginalRecipient": recipient, "Headers": [], "RawEmail": raw.decode()}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/anymail/postmark/inbound/",
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION="Basic dGlza2V0OndlYmhvb2stc2VjcmV0",  # tisket:webhook-secret
        )
    assert response.status_code == 200
    thread = Thread.objects.get()
    assert (thread.organization_id, thread.inbox_id) == (acme.org.pk, inbox.pk)


def test_another_organizations_domain_is_not_found(
    acme,
    globex,
    web,
    zone,
    postmark,  # noqa: F811
):
    theirs = verified(globex, zone, name="globex.example")
    mail_domain_esp_sync(domain=theirs)
    asked = len(postmark.requests)
    client = web(acme.admin)
    assert page_of(client, theirs).status_code == 404
    assert client.post(f"/acme/settings/domains/{theirs.pk}/esp/").status_code == 404
    assert client.post(f"/acme/settings/domains/{theirs.pk}/delete/").status_code == 404
    api = api_client(acme.admin)
    assert api.get(f"/api/v1/domains/{theirs.pk}/").status_code == 404
    assert api.delete(f"/api/v1/domains/{theirs.pk}/").status_code == 404
    assert len(postmark.requests) == asked and list(postmark.servers) == [7001]
    assert MailDomain.objects.filter(pk=theirs.pk).exists()


def test_the_api_shows_the_mx_record_to_publish(acme, zone, postmark):  # noqa: F811
    domain = verified(acme, zone)
    api = api_client(acme.admin)
    assert api.get(f"/api/v1/domains/{domain.pk}/").json()["esp_inbound_mx"] is None
    domain = mail_domain_esp_sync(domain=domain)
    zone.mx["clientcorp.com"] = [INBOUND_MX]
    domains.mail_domain_check(domain=domain)
    body = api.get(f"/api/v1/domains/{domain.pk}/").json()
    assert body["esp_inbound_mx"] == {
        "type": "MX",
        "name": "clientcorp.com",
        "value": INBOUND_MX,
        "purpose": "inbound",
        "priority": 10,
        "ok": True,
    }
    assert body["esp_inbound_address"].endswith("@inbound.postmarkapp.com")
    assert body["esp_inbound_error"] == ""


def test_without_the_setting_a_verified_domain_is_not_received_at_postmark(acme, web, zone):
    domain = verified(acme, zone)
    assert domain.status == MailDomain.Status.VERIFIED
    assert "inbound_mx" not in {c["key"] for c in domain.checks}
    assert "Mail in through" not in page_of(web(acme.admin), domain).content.decode()


def test_the_api_asks_postmark_again_and_tells_a_failure_by_its_class(
    acme,
    globex,
    zone,
    postmark,  # noqa: F811
):
    domain = verified(acme, zone)
    api = api_client(acme.admin)
    body = api.post(f"/api/v1/domains/{domain.pk}/esp/").json()
    assert body["esp_inbound_mx"]["value"] == INBOUND_MX and list(postmark.servers) == [7001]

    postmark.fail_with = (500, {"Message": "secret-word"})
    response = api.post(f"/api/v1/domains/{domain.pk}/esp/")
    assert response.status_code == 409 and "problem on its side" in response.json()["detail"]
    assert "secret-word" not in response.content.decode()

    postmark.fail_with = None
    theirs = verified(globex, zone, name="globex.example")
    asked = len(postmark.requests)
    assert api.post(f"/api/v1/domains/{theirs.pk}/esp/").status_code == 404
    assert len(postmark.requests) == asked


def test_the_webhook_secret_in_the_servers_hook_is_never_shown_to_the_tenant(
    acme,
    web,
    zone,
    postmark,  # noqa: F811
):
    domain = mail_domain_esp_sync(domain=verified(acme, zone))
    [server] = postmark.servers.values()
    assert "webhook-secret" in server["InboundHookUrl"]  # Postmark's, the installation's
    page = page_of(web(acme.admin), domain).content.decode()
    answer = api_client(acme.admin).get(f"/api/v1/domains/{domain.pk}/").content.decode()
    listed = api_client(acme.admin).get("/api/v1/domains/").content.decode()
    for text in (page, answer, listed):
        assert server["InboundAddress"] in text
        assert "webhook-secret" not in text and "anymail" not in text
