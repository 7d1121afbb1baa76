"""Real Postmark payloads posted to the real Anymail webhook URL."""

import base64
import json
import re

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
        # As the mail wrote them (secondCc@), compared case-insensitively.
        assert {"firstcc@postmarkapp.com", "secondcc@postmarkapp.com"} <= {
            p.lower() for p in participants
        }


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


def esp_post(client: Client, url: str, body: bytes, auth: str = AUTH, content_type=None):
    return client.post(
        url, body, content_type=content_type or "application/json", HTTP_AUTHORIZATION=auth
    )


NOT_JSON = [b"not json", b"", b"\xff\xfe{}", b"null", b'"a mail"', b"5", b"[1, 2]"]
MALFORMED = {
    "/anymail/amazon_ses/inbound/": [
        *NOT_JSON,
        b"{}",
        b'{"Type": "Notification"}',
        b'{"Type": "Notification", "Message": "not json"}',
        b'{"Type": "Notification", "Message": "{\\"notificationType\\": \\"Received\\"}"}',
        b'{"Type": "Notification", "Message": "{\\"notificationType\\": \\"Received\\",'
        b' \\"mail\\": 5, \\"receipt\\": {}}"}',
        b'{"Type": "Notification", "Message": "[]"}',
        b'{"Type": "SubscriptionConfirmation"}',
    ],
    "/anymail/amazon_ses/tracking/": [
        *NOT_JSON,
        b"{}",
        b'{"Type": "Notification", "Message": "not json"}',
        b'{"Type": "Notification", "Message": "{\\"eventType\\": \\"Bounce\\"}"}',
        b'{"Type": "Notification", "Message": "{\\"eventType\\": \\"Bounce\\", \\"mail\\": 5}"}',
    ],
    "/anymail/sendgrid/tracking/": [
        *NOT_JSON,
        b"[5]",
        b'[{"event": "bounce", "timestamp": "soon"}]',
        b'[{"event": ["bounce"]}]',
    ],
    "/anymail/sparkpost/inbound/": [
        *NOT_JSON,
        b"[5]",
        b'[{"msys": 5}]',
        b'[{"msys": {"relay_message": {}}}]',
        b'[{"msys": {"relay_message": {"content": {"email_rfc822": 5}}}}]',
        b'[{"msys": {"relay_message": {"content": {"email_rfc822": "x",'
        b' "email_rfc822_is_base64": true}}}}]',
    ],
    "/anymail/sparkpost/tracking/": [
        *NOT_JSON,
        b"[5]",
        b'[{"msys": 5}]',
        b'[{"msys": {"message_event": 5}}]',
    ],
    "/anymail/mailjet/inbound/": [
        *NOT_JSON,
        b"[]",
        b'{"Headers": 5}',
        b'{"Headers": {"Subject": 5}, "Parts": 5}',
        b'{"Parts": [5]}',
        b'{"Sender": 5, "Recipient": ["a@b.test"]}',
    ],
    "/anymail/mailjet/tracking/": [
        *NOT_JSON,
        b"{}",
        b"[5]",
        b'{"event": "bounce", "time": "soon"}',
        b'[{"event": ["bounce"]}]',
    ],
    "/anymail/brevo/tracking/": [
        *NOT_JSON,
        b"[]",
        b'{"items": 5}',
    ],
    "/anymail/postmark/tracking/": [
        *NOT_JSON,
        b"[]",
        b'{"RecordType": "Delivery", "DeliveredAt": 5}',
    ],
    "/anymail/resend/tracking/": [
        *NOT_JSON,
        b"{}",
        b"[]",
        b'{"type": "email.bounced", "data": 5}',
    ],
    "/anymail/mailtrap/tracking/": [
        *NOT_JSON,
        b"[]",
        b'{"events": 5}',
        b'{"events": [5]}',
        b'{"events": [{"event": "bounce", "timestamp": "soon"}]}',
    ],
}  # fmt: skip
TABLE = [(url, body) for url, bodies in MALFORMED.items() for body in bodies]


@pytest.mark.parametrize(("url", "body"), TABLE)
def test_a_malformed_esp_payload_is_a_json_400_and_nothing_stored(
    client, postmark_inbox, url, body
):
    client.raise_request_exception = False
    response = esp_post(client, url, body)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert re.match(r"(Not an? .+|The .+ refused the post\.) .", response.json()["detail"])
    assert not InboundMail.objects.exists()


ESP_URLS = [
    *MALFORMED,
    "/anymail/mailgun/inbound/",
    "/anymail/mailgun/tracking/",
    "/anymail/brevo/inbound/",
    "/anymail/resend/inbound/",
    "/anymail/mandrill/",
]


@pytest.mark.parametrize("url", ESP_URLS)
def test_a_malformed_esp_payload_still_needs_the_webhook_secret(client, postmark_inbox, url):
    client.raise_request_exception = False
    response = esp_post(client, url, b"not json", auth="Basic " + base64.b64encode(b"x:y").decode())
    assert response.status_code == 400
    assert response.json() == {"detail": "Bad request."}


@pytest.mark.parametrize(
    ("url", "setting"),
    [
        ("/anymail/mailgun/inbound/", "MAILGUN_WEBHOOK_SIGNING_KEY"),
        ("/anymail/mailgun/tracking/", "MAILGUN_WEBHOOK_SIGNING_KEY"),
        ("/anymail/brevo/inbound/", "BREVO_API_KEY"),
        ("/anymail/resend/inbound/", "RESEND_API_KEY"),
        ("/anymail/mandrill/", "MANDRILL_WEBHOOK_KEY"),
    ],
)
def test_an_esp_webhook_missing_its_own_key_is_a_json_503_naming_it(
    client, postmark_inbox, url, setting
):
    client.raise_request_exception = False
    response = esp_post(client, url, b"{}")
    assert response.status_code == 503
    assert "is not configured" in response.json()["detail"]
    assert setting in response.json()["detail"]
    assert not InboundMail.objects.exists()


def test_a_brevo_inbound_payload_posted_to_its_tracking_url_is_a_400(client, postmark_inbox):
    response = esp_post(client, "/anymail/brevo/tracking/", b'{"items": [{"Uuid": ["x"]}]}')
    assert response.status_code == 400
    assert "inbound" in response.json()["detail"]


def test_a_well_formed_esp_payload_still_becomes_a_thread(
    client, inbox, django_capture_on_commit_callbacks
):
    body = json.dumps(
        {"Sender": "jane@client.test", "Recipient": inbox.address, "Headers": {}, "Parts": [],
         "Text-part": "Hello", "Subject": "Cannot log in", "From": "jane@client.test",
         "To": inbox.address}
    ).encode()  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = esp_post(client, "/anymail/mailjet/inbound/", body)
    assert response.status_code == 200
    mail = InboundMail.objects.get()
    assert mail.source == "anymail:mailjet"
    assert mail.envelope_recipient == inbox.address
