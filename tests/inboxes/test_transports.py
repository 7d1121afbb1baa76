"""Each inbox's own SMTP server or ESP account, with its secrets sealed."""

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography.fernet import Fernet

from inboxes.models import Inbox
from inboxes.transports import inbox_connection, inbox_transport_set
from tests.conftest import api_client
from tests.mail import deliver, make_mail
from tests.smtp import Mailbox, free_port
from threads import outbound
from threads.models import Thread
from tisket.lib import netguard


def _connection(inbox: Inbox):
    with netguard.deadline(5) as limit:
        return inbox_connection(inbox, limit=limit)


def _server(**kwargs) -> tuple[Controller, Mailbox]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    return controller, mailbox


@pytest.fixture
def own_server():
    def check(server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"right-password"
        return AuthResult(success=ok, handled=False)

    controller, mailbox = _server(authenticator=check, auth_require_tls=False)
    yield controller, mailbox
    controller.stop()


def _use_own_smtp(inbox: Inbox, port: int, password: str = "right-password") -> Inbox:
    return inbox_transport_set(
        inbox=inbox,
        transport="smtp",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        smtp_username="desk",
        smtp_password=password,
    )


def test_secrets_are_sealed_at_rest_and_never_shown(acme, inbox):
    response = api_client(acme.admin).patch(
        f"/api/v1/inboxes/{inbox.pk}/",
        {
            "transport": "smtp",
            "smtp_host": "smtp.acme.test",
            "smtp_username": "desk",
            "smtp_password": "s3cret-pw-4812",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.content.decode()
    assert "s3cret-pw-4812" not in body
    assert response.json()["smtp_password_set"] is True
    inbox.refresh_from_db()
    assert "s3cret-pw-4812" not in inbox.smtp_password_sealed
    assert _connection(inbox).password == "s3cret-pw-4812"
    # A change of something else keeps the stored secret.
    api_client(acme.admin).patch(f"/api/v1/inboxes/{inbox.pk}/", {"smtp_port": 2525}, format="json")
    inbox.refresh_from_db()
    assert (inbox.smtp_port, _connection(inbox).password) == (2525, "s3cret-pw-4812")


def test_keys_rotate_without_losing_secrets(acme, inbox, settings):
    old = Fernet.generate_key().decode()
    settings.TISKET_ENCRYPTION_KEYS = [old]
    inbox_transport_set(inbox=inbox, transport="smtp", smtp_host="h", smtp_password="pw")
    settings.TISKET_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old]
    inbox.refresh_from_db()
    assert _connection(inbox).password == "pw"


def test_an_inbox_sends_through_its_own_server(acme, inbox, own_server, settings):
    controller, mailbox = own_server
    default, default_box = _server()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", default.port
    try:
        _use_own_smtp(inbox, controller.port)
        deliver(make_mail())
        _, row = outbound.reply_send_skipping_ticket(
            thread=Thread.objects.get(), author=acme.agent, body="Hi"
        )
        assert outbound.outbox_send(outbound_id=row.pk).status == "sent"
    finally:
        default.stop()
    assert [r for r, _ in mailbox.received] == [["jane@client.test"]]
    assert default_box.received == []


def test_testing_the_connection_names_what_went_wrong(acme, inbox, own_server):
    controller, _ = own_server
    client = api_client(acme.admin)
    url = f"/api/v1/inboxes/{inbox.pk}/test-smtp/"

    def check() -> dict:
        return client.post(url).json()

    assert check() == {
        "ok": False,
        "message": "This inbox does not send through its own SMTP server.",
    }
    _use_own_smtp(inbox, controller.port)
    assert check() == {
        "ok": True,
        "message": f"Connected to 127.0.0.1:{controller.port} and logged in.",
    }
    _use_own_smtp(inbox, controller.port, password="wrong")
    assert check()["message"].startswith("Authentication:")
    _use_own_smtp(inbox, free_port())
    assert check()["message"].startswith("Refused:")
    inbox_transport_set(inbox=inbox, transport="smtp", smtp_host="nowhere.invalid", smtp_port=25)
    assert check()["message"].startswith("DNS:")
    assert api_client(acme.agent).post(url).status_code == 403


def test_an_esp_account_per_inbox(acme, inbox):
    response = api_client(acme.admin).patch(
        f"/api/v1/inboxes/{inbox.pk}/",
        {"transport": "esp", "esp_name": "postmark", "esp_settings": {"server_token": "tok-991"}},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert "tok-991" not in response.content.decode()
    inbox.refresh_from_db()
    connection = _connection(inbox)
    assert type(connection).__module__ == "anymail.backends.postmark"
    assert connection.server_token == "tok-991"
    bad = api_client(acme.admin).patch(
        f"/api/v1/inboxes/{inbox.pk}/", {"transport": "esp", "esp_name": "pigeon"}, format="json"
    )
    assert bad.status_code == 400
    assert "pigeon" in str(bad.json())
