"""Settings: inboxes, their transport and mailbox, and the live checks against real servers."""

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from inboxes.imap import inbox_imap_set
from inboxes.models import Inbox, InboxAddress
from inboxes.services import inbox_create
from inboxes.transports import inbox_transport_set
from tests.mail import deliver, make_mail
from tests.smtp import Mailbox, free_port
from threads.models import InboundMail
from tisket.lib.secrets_box import secret_open

HTMX = {"HTTP_HX_REQUEST": "true"}


def _form(**overrides) -> dict:
    """What the edit form posts for an inbox on the default transport, without a mailbox."""
    data = {
        "display_name": "Acme Support",
        "color": "#3454d1",
        "is_active": "on",
        "auto_ack_enabled": "on",
        "auto_ack_text": "",
        "extra_addresses": "",
        "transport": "default",
        "smtp_host": "",
        "smtp_port": "587",
        "smtp_security": "starttls",
        "smtp_username": "",
        "smtp_password": "",
        "esp_name": "",
        "esp_settings": "",
        "imap_host": "",
        "imap_port": "993",
        "imap_security": "ssl",
        "imap_username": "",
        "imap_password": "",
        "imap_folder": "INBOX",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_list_shows_the_organizations_inboxes_only(acme, globex, inbox, globex_inbox, web):
    page = web(acme.admin).get("/acme/settings/inboxes/").content.decode()
    assert inbox.address in page
    assert globex_inbox.address not in page


def test_an_admin_creates_an_inbox_with_its_address(acme, web):
    response = web(acme.admin).post(
        "/acme/settings/inboxes/new/",
        _form(
            name="billing",
            display_name="Billing",
            extra_addresses="invoices.acme@in.tisket.test",
        ),
        follow=True,
    )
    assert b"Inbox billing created: billing.acme@in.tisket.test" in response.content
    inbox = Inbox.objects.get(name="billing")
    assert (inbox.organization, inbox.display_name) == (acme.org, "Billing")
    assert [a.address for a in inbox.extra_addresses.all()] == ["invoices.acme@in.tisket.test"]


@pytest.mark.parametrize(
    ("name", "message"),
    [("Bad Name!", b"lowercase letters"), ("support", b"already has an inbox named")],
)
def test_a_bad_or_taken_inbox_name_is_refused(acme, inbox, web, name, message):
    response = web(acme.admin).post("/acme/settings/inboxes/new/", _form(name=name))
    assert response.status_code == 200
    assert message in response.content
    assert Inbox.objects.filter(organization=acme.org).count() == 1


def test_an_admin_changes_the_colour_and_the_acknowledgement(acme, inbox, web):
    response = web(acme.admin).post(
        f"/acme/settings/inboxes/{inbox.pk}/",
        _form(color="#d92d20", auto_ack_text="Thanks {{ client_name }}, we are on it."),
        follow=True,
    )
    assert b"Inbox support saved." in response.content
    inbox.refresh_from_db()
    assert inbox.color == "#d92d20"
    assert inbox.auto_ack_enabled is True
    assert inbox.auto_ack_text == "Thanks {{ client_name }}, we are on it."
    web(acme.admin).post(f"/acme/settings/inboxes/{inbox.pk}/", _form(auto_ack_enabled=None))
    inbox.refresh_from_db()
    assert inbox.auto_ack_enabled is False


def test_a_bad_colour_is_refused_and_nothing_changes(acme, inbox, web):
    response = web(acme.admin).post(
        f"/acme/settings/inboxes/{inbox.pk}/", _form(color="red", display_name="Changed")
    )
    assert response.status_code == 200 and b"Use a colour such as #3454d1." in response.content
    inbox.refresh_from_db()
    assert (inbox.color, inbox.display_name) == ("#3454d1", "")


def test_an_acknowledgement_with_a_tag_is_refused(acme, inbox, web):
    response = web(acme.admin).post(
        f"/acme/settings/inboxes/{inbox.pk}/", _form(auto_ack_text="Hi {% if %}")
    )
    assert response.status_code == 200 and b"tags are not allowed" in response.content
    inbox.refresh_from_db()
    assert inbox.auto_ack_text == ""


def test_passwords_are_write_only_and_blank_keeps_them(acme, inbox, web):
    client = web(acme.admin)
    client.post(
        f"/acme/settings/inboxes/{inbox.pk}/",
        _form(
            transport="smtp",
            smtp_host="smtp.acme.example",
            smtp_username="desk",
            smtp_password="s3cret-smtp-4812",
            imap_host="imap.acme.example",
            imap_username="desk",
            imap_password="s3cret-imap-9931",
        ),
    )
    inbox.refresh_from_db()
    assert secret_open(inbox.smtp_password_sealed) == "s3cret-smtp-4812"
    assert secret_open(inbox.imap_password_sealed) == "s3cret-imap-9931"
    page = client.get(f"/acme/settings/inboxes/{inbox.pk}/").content.decode()
    assert "s3cret" not in page
    assert "stored; blank keeps it" in page
    # Saved again with the password fields blank: the secrets stay.
    client.post(
        f"/acme/settings/inboxes/{inbox.pk}/",
        _form(
            transport="smtp",
            smtp_host="smtp.acme.example",
            smtp_port="2525",
            smtp_username="desk",
            imap_host="imap.acme.example",
            imap_username="desk",
        ),
    )
    inbox.refresh_from_db()
    assert inbox.smtp_port == 2525
    assert secret_open(inbox.smtp_password_sealed) == "s3cret-smtp-4812"
    assert secret_open(inbox.imap_password_sealed) == "s3cret-imap-9931"


def test_an_smtp_transport_without_a_host_changes_nothing(acme, inbox, web):
    response = web(acme.admin).post(
        f"/acme/settings/inboxes/{inbox.pk}/",
        _form(transport="smtp", display_name="Changed", smtp_password="pw"),
    )
    assert response.status_code == 200
    assert b"An SMTP transport needs a host." in response.content
    inbox.refresh_from_db()
    assert (inbox.transport, inbox.display_name, inbox.smtp_password_sealed) == ("default", "", "")


def test_an_esp_anymail_does_not_know_or_bad_json_is_refused(acme, inbox, web):
    client = web(acme.admin)
    unknown = client.post(
        f"/acme/settings/inboxes/{inbox.pk}/", _form(transport="esp", esp_name="pigeon")
    )
    assert unknown.status_code == 200 and b"pigeon is not one of the available" in unknown.content
    bad = client.post(
        f"/acme/settings/inboxes/{inbox.pk}/",
        _form(transport="esp", esp_name="postmark", esp_settings="{token: 1"),
    )
    assert bad.status_code == 200 and b"This is not JSON" in bad.content
    inbox.refresh_from_db()
    assert inbox.transport == "default"


def test_an_esp_with_its_settings(acme, inbox, web):
    web(acme.admin).post(
        f"/acme/settings/inboxes/{inbox.pk}/",
        _form(transport="esp", esp_name="postmark", esp_settings='{"server_token": "tok-77"}'),
    )
    inbox.refresh_from_db()
    assert (inbox.transport, inbox.esp_name) == ("esp", "postmark")
    assert "tok-77" in secret_open(inbox.esp_settings_sealed)


def test_an_address_of_another_inbox_is_refused_and_nothing_changes(acme, inbox, globex_inbox, web):
    response = web(acme.admin).post(
        f"/acme/settings/inboxes/{inbox.pk}/",
        _form(extra_addresses=globex_inbox.address, display_name="Changed"),
    )
    assert response.status_code == 200
    assert b"outside this organization&#x27;s addresses" in response.content
    inbox.refresh_from_db()
    assert inbox.display_name == ""
    assert not InboxAddress.objects.filter(inbox=inbox).exists()


def test_another_organizations_inbox_is_404(acme, globex_inbox, web):
    client = web(acme.admin)
    assert client.get(f"/acme/settings/inboxes/{globex_inbox.pk}/").status_code == 404
    assert (
        client.post(
            f"/acme/settings/inboxes/{globex_inbox.pk}/", _form(color="#000000")
        ).status_code
        == 404
    )
    for action in ("test-smtp", "test-imap", "fetch", "delete"):
        url = f"/acme/settings/inboxes/{globex_inbox.pk}/{action}/"
        assert client.post(url, **HTMX).status_code == 404
    globex_inbox.refresh_from_db()
    assert globex_inbox.color == "#3454d1"


def test_an_empty_inbox_is_deleted_and_one_with_conversations_is_kept(acme, inbox, web):
    client = web(acme.admin)
    deliver(make_mail(), recipient=inbox.address)
    kept = client.post(f"/acme/settings/inboxes/{inbox.pk}/delete/", follow=True)
    assert b"holds threads" in kept.content
    assert Inbox.objects.filter(pk=inbox.pk).exists()
    empty = inbox_create(organization=acme.org, name="empty")
    client.post(f"/acme/settings/inboxes/{empty.pk}/delete/")
    assert not Inbox.objects.filter(pk=empty.pk).exists()


# --- Live checks ---------------------------------------------------------------------------


@pytest.fixture
def smtp_server():
    def check(server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"right-password"
        return AuthResult(success=ok, handled=False)

    controller = Controller(
        Mailbox(),
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=check,
        auth_require_tls=False,
    )
    controller.start()
    yield controller
    controller.stop()


def _own_smtp(inbox: Inbox, port: int, password: str) -> None:
    inbox_transport_set(
        inbox=inbox,
        transport="smtp",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        smtp_username="desk",
        smtp_password=password,
    )


def test_test_smtp_logs_in_and_says_so_as_a_fragment(acme, inbox, smtp_server, web):
    _own_smtp(inbox, smtp_server.port, "right-password")
    response = web(acme.admin).post(f"/acme/settings/inboxes/{inbox.pk}/test-smtp/", **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="check-result ok"' in body and "and logged in." in body
    assert "<html" not in body


def test_test_smtp_reports_a_wrong_password_and_a_closed_port(acme, inbox, smtp_server, web):
    client = web(acme.admin)
    _own_smtp(inbox, smtp_server.port, "wrong-password")
    wrong = client.post(f"/acme/settings/inboxes/{inbox.pk}/test-smtp/", **HTMX).content
    assert b"check-result fail" in wrong and b"refused the user name or password" in wrong
    _own_smtp(inbox, free_port(), "right-password")
    closed = client.post(f"/acme/settings/inboxes/{inbox.pk}/test-smtp/", **HTMX).content
    assert b"Refused: nothing accepts connections" in closed


def test_test_smtp_without_htmx_goes_back_to_the_inbox_with_a_message(acme, inbox, web):
    response = web(acme.admin).post(f"/acme/settings/inboxes/{inbox.pk}/test-smtp/", follow=True)
    assert response.redirect_chain[-1][0] == f"/acme/settings/inboxes/{inbox.pk}/"
    assert b"does not send through its own SMTP server" in response.content


def test_test_imap_and_fetch_now_read_the_real_mailbox(acme, inbox, imap_server, web):
    user = imap_server.user()
    inbox_imap_set(
        inbox=inbox,
        host="127.0.0.1",
        port=imap_server.port,
        security="none",
        username=user[0],
        password=user[1],
    )
    imap_server.deliver(user, make_mail(subject="by imap", message_id="<settings-1@c.test>"))
    client = web(acme.admin)
    tested = client.post(f"/acme/settings/inboxes/{inbox.pk}/test-imap/", **HTMX).content
    assert b"check-result ok" in tested and b"holds 1 mail(s)" in tested
    fetched = client.post(f"/acme/settings/inboxes/{inbox.pk}/fetch/", **HTMX).content
    assert b"Fetched 1 new mail(s)." in fetched
    assert InboundMail.objects.filter(source="imap").count() == 1
    again = client.post(f"/acme/settings/inboxes/{inbox.pk}/fetch/", **HTMX).content
    assert b"Fetched 0 new mail(s)." in again


def test_test_imap_reports_a_wrong_password(acme, inbox, imap_server, web):
    user = imap_server.user()
    inbox_imap_set(
        inbox=inbox,
        host="127.0.0.1",
        port=imap_server.port,
        security="none",
        username=user[0],
        password="wrong",
    )
    client = web(acme.admin)
    tested = client.post(f"/acme/settings/inboxes/{inbox.pk}/test-imap/", **HTMX).content
    assert b"check-result fail" in tested
    fetched = client.post(f"/acme/settings/inboxes/{inbox.pk}/fetch/", **HTMX).content
    assert b"check-result fail" in fetched


def test_fetch_now_without_a_mailbox_says_so(acme, inbox, web):
    response = web(acme.admin).post(f"/acme/settings/inboxes/{inbox.pk}/fetch/", **HTMX)
    assert b"This inbox has no IMAP mailbox." in response.content
