"""Real Postmark payloads posted to the real Anymail webhook URL."""

import base64
import json

import pytest
from django.test import Client

from inboxes.services import inbox_create, inbox_update
from tests.conftest import in_parallel, require_postgres
from tests.factories import OrganizationFactory
from tests.mail import CORPUS, make_mail
from threads.models import InboundMail, Message, Thread

URL = "/anymail/postmark/inbound/"
AUTH = "Basic " + base64.b64encode(b"tisket:webhook-secret").decode()


def payload(name: str = "postmark-inbound-test-payload.json") -> bytes:
    return (CORPUS / "django-anymail" / name).read_bytes()


@pytest.fixture
def postmark_inbox(inbox):
    # Postmark delivers to <hash>@inbound.postmarkapp.com: an extra address of the inbox.
    inbox_update(
        inbox=inbox,
        extra_addresses=["mailbox@inbound.postmarkapp.com"],
        outside_domain_allowed=True,
    )
    return inbox


def post(client: Client, body: bytes, auth: str = AUTH):
    return client.post(URL, body, content_type="application/json", HTTP_AUTHORIZATION=auth)


@pytest.mark.parametrize(
    "name", ["postmark-inbound-test-payload.json", "postmark-inbound-test-payload-with-raw.json"]
)
def test_a_postmark_payload_becomes_a_thread(
    client, postmark_inbox, django_capture_on_commit_callbacks, name
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, payload(name))
    assert response.status_code == 200
    mail = InboundMail.objects.get()
    assert mail.source == "anymail:postmark"
    assert mail.envelope_recipient == "mailbox+samplehash@inbound.postmarkapp.com"
    assert mail.status == InboundMail.Status.ACCEPTED, mail.reason
    thread = Thread.objects.get()
    assert thread.subject == "Test subject"
    assert thread.client_email == "support@postmarkapp.com"
    message = thread.messages.get()
    # Postmark's own reply stripping is used when it gives one.
    assert message.visible_text == "This is the reply text"
    assert "This is a test text body." in message.text
    participants = set(thread.participants.values_list("email", flat=True))
    assert not any("postmarkapp.com" in p and "mailbox" in p for p in participants)
    if "with-raw" not in name:  # the RawEmail of Postmark's check payload is shorter
        assert message.attachments.get().filename == "test.txt"
        assert {"firstcc@postmarkapp.com", "secondcc@postmarkapp.com"} <= participants


def test_the_same_payload_posted_five_times_is_stored_once(
    client, postmark_inbox, django_capture_on_commit_callbacks
):
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            assert post(client, payload()).status_code == 200
    assert Message.objects.count() == 1
    assert Thread.objects.count() == 1


@pytest.mark.parametrize(
    "auth",
    [
        "",
        "Basic " + base64.b64encode(b"tisket:wrong").decode(),
        "Basic " + base64.b64encode(b"nobody:webhook-secret").decode(),
    ],
)
def test_a_webhook_without_the_secret_is_refused_and_stores_nothing(client, postmark_inbox, auth):
    response = post(client, payload(), auth=auth)
    assert response.status_code in (400, 401, 403)
    assert not InboundMail.objects.exists()


def test_a_second_secret_is_accepted_while_rotating(
    client, postmark_inbox, django_capture_on_commit_callbacks
):
    old = "Basic " + base64.b64encode(b"old:rotated-out").decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, payload(), auth=old).status_code == 200
    assert Thread.objects.count() == 1


def test_a_35_mb_mail_is_accepted_through_the_webhook(
    client, inbox, django_capture_on_commit_callbacks
):
    big = b"\x89PNG\r\n\x1a\n" + b"x" * (35 * 1024 * 1024 - 8)
    raw = make_mail(attachments=[("scan.png", "image/png", big)])
    body = json.dumps(
        {
            "From": "jane@client.test",
            "FromFull": {"Email": "jane@client.test", "Name": "Jane"},
            "To": inbox.address,
            "ToFull": [{"Email": inbox.address, "Name": ""}],
            "OriginalRecipient": inbox.address,
            "Subject": "big scan",
            "RawEmail": raw.decode("ascii"),
            "Headers": [],
        }
    ).encode()
    assert len(body) > 45 * 1024 * 1024
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, body)
    assert response.status_code == 200
    mail = InboundMail.objects.get()
    assert mail.status == InboundMail.Status.ACCEPTED, mail.reason
    attachment = Message.objects.get().attachments.get()
    assert attachment.size == len(big)
    assert attachment.omitted_reason  # over the inbox's 25 MB: a note, the mail kept


def test_other_urls_keep_the_small_request_limit(client, db):
    response = client.post(
        "/api/v1/members/", b"x" * (3 * 1024 * 1024), content_type="application/json"
    )
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_posts_of_one_payload_store_one_message():
    require_postgres()
    org = OrganizationFactory(slug="acme", code="ACME")
    inbox = inbox_create(organization=org, name="support", auto_ack_enabled=False)
    inbox_update(
        inbox=inbox,
        extra_addresses=["mailbox@inbound.postmarkapp.com"],
        outside_domain_allowed=True,
    )
    body = payload()

    codes = in_parallel(lambda _: post(Client(), body).status_code, range(20), workers=20)
    assert codes == [200] * 20
    assert InboundMail.objects.count() == 1
    assert Message.objects.count() == 1


def test_webhooks_are_off_without_a_secret(client, settings, db):
    import importlib.util
    import sys

    settings.ANYMAIL = {}
    spec = importlib.util.find_spec("config.urls")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules["tests._urls_without_webhook_secret"] = module
    settings.ROOT_URLCONF = "tests._urls_without_webhook_secret"
    response = client.post(URL, payload(), content_type="application/json")
    assert response.status_code == 503
    assert "TISKET_WEBHOOK_SECRET" in response.json()["detail"]
    assert not InboundMail.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"",
        b"\xff\xfe{}",
        b"[]",
        b'"a mail"',
        b"null",
        b"{}",
        b'{"RecordType": "Inbound", "Subject": "no mail in it"}',
        b'{"RecordType": "Bounce", "RawEmail": "Subject: x\\r\\n\\r\\nx"}',
        b'{"RawEmail": 5}',
        b'{"RawEmail": "Subject: x\\r\\n\\r\\nx", "OriginalRecipient": ["a@b.test"]}',
        b'{"RawEmail": "Subject: x\\r\\n\\r\\nx", "OriginalRecipient": "a\\u0000@b.test"}',
        b'{"RawEmail": "Subject: x\\r\\n\\r\\nx", "StrippedTextReply": 5}',
        b'{"RawEmail": "Subject: x\\r\\n\\r\\nx", "Headers": "Return-Path"}',
        b'{"RawEmail": "Subject: x\\r\\n\\r\\nx", "Headers": [{"Name": 1, "Value": "x"}]}',
        b'{"FromFull": "a@b.test", "Headers": []}',
        b'{"FromFull": {"Email": "a@b.test"}, "ToFull": "c@d.test"}',
        b'{"FromFull": {"Email": "a@b.test"}, "Attachments": [{}]}',
        b'{"FromFull": {"Email": "a@b.test"}, "Headers": [{"Value": "x"}]}',
    ],
)
def test_a_malformed_postmark_payload_is_a_json_400_and_nothing_stored(
    client, postmark_inbox, body
):
    client.raise_request_exception = False
    response = post(client, body)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"].startswith("Not a Postmark inbound payload.")
    assert not InboundMail.objects.exists()


def test_a_malformed_postmark_payload_still_needs_the_webhook_secret(client, postmark_inbox):
    response = post(client, b"not json", auth="Basic " + base64.b64encode(b"x:y").decode())
    assert response.status_code == 400
    assert "Not a Postmark" not in response.content.decode()
