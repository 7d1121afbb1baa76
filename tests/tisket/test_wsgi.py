"""The WSGI application as a server calls it: the webhook lane and the rest of the site."""

import base64
import io
import json
from wsgiref.util import setup_testing_defaults

import pytest

from config.wsgi import WebhookHandler, application
from inboxes.services import inbox_create
from tests.factories import OrganizationFactory
from tests.mail import make_mail
from threads.models import InboundMail

URL = "/anymail/postmark/inbound/"
AUTH = "Basic " + base64.b64encode(b"tisket:webhook-secret").decode()

pytestmark = pytest.mark.django_db(transaction=True)  # the handler opens and closes connections


def call(method: str, path: str, body: bytes = b"", **headers: str) -> tuple[int, dict, bytes]:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "HTTP_HOST": "testserver",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        **{f"HTTP_{name.upper()}": value for name, value in headers.items()},
    }
    setup_testing_defaults(environ)
    started = {}

    def start_response(status, response_headers, exc_info=None):
        started.update(status=int(status.split()[0]), headers=dict(response_headers))

    response = application(environ, start_response)
    try:
        content = b"".join(response)
    finally:
        response.close()  # as a server does: Django's request_finished
    return started["status"], started["headers"], content


def postmark(raw: bytes, recipient: str) -> bytes:
    return json.dumps(
        {"OriginalRecipient": recipient, "Headers": [], "RawEmail": raw.decode("ascii")}
    ).encode()


@pytest.fixture
def support():
    org = OrganizationFactory(slug="acme", code="ACME")
    return inbox_create(organization=org, name="support", auto_ack_enabled=False)


def test_a_webhook_post_takes_the_lane_and_its_mail_becomes_a_thread(support):
    status, headers, _ = call(
        "POST", URL, postmark(make_mail(), support.address), authorization=AUTH
    )

    assert status == 200
    mail = InboundMail.objects.get()
    assert mail.status == InboundMail.Status.ACCEPTED, mail.reason
    assert mail.thread.reference == "THD-ACME-001"
    # The lane keeps the security middleware and skips the page-only kind.
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "X-Frame-Options" not in headers


def test_the_rest_of_the_site_keeps_its_whole_middleware(support):
    status, headers, _ = call("GET", "/accounts/login/")

    assert status == 200
    assert headers["X-Frame-Options"] == "DENY"
    assert "csrftoken" in headers.get("Set-Cookie", "")


@pytest.mark.parametrize(
    ("auth", "host", "status"),
    [
        ("", "testserver", 400),
        ("Basic " + base64.b64encode(b"tisket:wrong").decode(), "testserver", 400),
        (AUTH, "evil.example", 400),  # host validation still applies
    ],
)
def test_the_lane_refuses_what_the_site_refuses_and_stores_nothing(support, auth, host, status):
    body = postmark(make_mail(), support.address)
    got, _, _ = call("POST", URL, body, authorization=auth, host=host)

    assert got == status
    assert not InboundMail.objects.exists()


def test_the_lane_keeps_the_inbound_size_limit(support, settings):
    settings.TISKET_INBOUND_MAX_REQUEST_BYTES = 1000
    body = postmark(make_mail(body="x" * 2000), support.address)

    status, _, content = call("POST", URL, body, authorization=AUTH)

    assert status == 413
    assert "too large" in json.loads(content)["detail"]
    assert not InboundMail.objects.exists()


def test_other_methods_and_unknown_webhook_paths_get_the_usual_answers(support):
    assert call("GET", URL, authorization=AUTH)[0] == 405
    assert call("POST", "/anymail/nosuchesp/inbound/", b"{}", authorization=AUTH)[0] == 404


@pytest.mark.parametrize(
    "path", ["/anymail/", "/anymail/members/", "/anymail/settings/", "/anymail/quarantine/"]
)
def test_the_lane_knows_only_the_webhooks(support, path):
    # "anymail" is a reserved slug; through the lane no page of the site answers.
    status, _, content = call("GET", path)

    assert status == 404
    assert json.loads(content) == {"detail": "Not found."}


def test_the_lane_redirects_to_https_as_the_site_does(support, settings):
    settings.SECURE_SSL_REDIRECT = True
    lane = WebhookHandler()  # middleware reads its settings when the handler is built
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": URL,
        "HTTP_HOST": "testserver",
        "wsgi.input": io.BytesIO(b""),
    }
    setup_testing_defaults(environ)
    started = {}
    response = lane(environ, lambda status, headers: started.update(status=status, h=headers))
    response.close()

    assert started["status"].startswith("301")
    assert dict(started["h"])["Location"] == f"https://testserver{URL}"
    assert not InboundMail.objects.exists()
