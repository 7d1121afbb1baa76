"""A tenant's own mail servers: nothing inside is reachable, the peer's words never come back,
a dripping server never holds a worker, and an ESP account is the tenant's alone."""

import json
import re
from pathlib import Path

import anymail.backends
import pytest
from aiosmtpd.controller import Controller

from config.celery import app
from inboxes.imap import imap_lease_take, imap_test, inbox_imap_set
from inboxes.models import Inbox
from inboxes.transports import ESP_ACCOUNTS, inbox_connection, inbox_transport_set, smtp_test
from tests.conftest import api_client
from tests.mail import deliver, make_mail
from tests.peers import ImapPeer, Peer, TlsPeer, self_signed_certificate
from tests.smtp import Mailbox, free_port
from threads import outbound
from threads.models import Thread
from tickets.intake.mailboxes import MailboxBusy, MailboxError, mailbox_poll
from tisket.lib import netguard
from tisket.lib.secrets_box import secret_seal

# Names an attacker types to reach the installation's own network.
INSIDE = [
    "127.0.0.1",
    "localhost",
    "::1",
    "2130706433",  # 127.0.0.1 as one decimal number
    "0x7f000001",
    "::ffff:127.0.0.1",
    "169.254.169.254",  # the cloud metadata service
    "10.1.2.3",
    "192.168.0.1",
    "0.0.0.0",  # noqa: S104 (a target here, not a bind)
]
SECRET = b"internal-SECRET-7731"


@pytest.fixture
def nothing_inside_allowed(settings):
    settings.TISKET_ALLOWED_MAIL_HOSTS = []


def _smtp(inbox: Inbox, host: str, port: int) -> Inbox:
    return inbox_transport_set(
        inbox=inbox, transport="smtp", smtp_host=host, smtp_port=port, smtp_security="none"
    )


def _imap(inbox: Inbox, host: str, port: int) -> Inbox:
    return inbox_imap_set(
        inbox=inbox, host=host, port=port, security="none", username="u", password="p"
    )


def _reply(acme) -> int:
    deliver(make_mail())
    _, row = outbound.reply_send_skipping_ticket(
        thread=Thread.objects.get(), author=acme.agent, body="Hi"
    )
    return row.pk


@pytest.mark.parametrize("host", INSIDE)
def test_a_tenant_smtp_host_inside_the_installation_is_refused(
    acme, inbox, nothing_inside_allowed, host
):
    with Peer(b"220 " + SECRET + b"\r\n") as peer:
        _smtp(inbox, host, peer.port)
        ok, message = smtp_test(inbox=inbox)
    assert not ok
    assert message.startswith("Not allowed:"), message
    assert peer.connections == 0


@pytest.mark.parametrize("host", INSIDE)
def test_a_tenant_imap_host_inside_the_installation_is_refused(
    acme, inbox, nothing_inside_allowed, host
):
    with Peer(b"* OK " + SECRET + b"\r\n") as peer:
        _imap(inbox, host, peer.port)
        tested = imap_test(inbox=inbox)
        fetched = api_client(acme.admin).post(f"/api/v1/inboxes/{inbox.pk}/fetch-now/").json()
    assert not tested[0] and tested[1].startswith("Not allowed:"), tested
    assert not fetched["ok"] and fetched["message"].startswith("Not allowed:"), fetched
    assert peer.connections == 0


def test_sending_through_a_host_inside_the_installation_fails_without_connecting(
    acme, inbox, nothing_inside_allowed
):
    with Peer(b"220 " + SECRET + b"\r\n") as peer:
        _smtp(inbox, "localhost", peer.port)
        sent = outbound.outbox_send(outbound_id=_reply(acme))
    assert sent.status == "failed"
    assert sent.last_error.startswith("Not allowed:")
    assert peer.connections == 0


def test_the_installation_may_allow_an_internal_relay_by_network_or_name(acme, inbox, settings):
    controller = Controller(Mailbox(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        _smtp(inbox, "localhost", controller.port)
        settings.TISKET_ALLOWED_MAIL_HOSTS = []
        assert smtp_test(inbox=inbox)[0] is False
        settings.TISKET_ALLOWED_MAIL_HOSTS = ["127.0.0.0/8"]
        assert smtp_test(inbox=inbox) == (True, f"Connected to localhost:{controller.port}.")
        settings.TISKET_ALLOWED_MAIL_HOSTS = ["localhost"]
        assert smtp_test(inbox=inbox)[0] is True
    finally:
        controller.stop()


def test_a_peers_words_never_reach_the_tenant(acme, inbox):
    # What an internal HTTP service or Redis would answer to a stray connection.
    greeting = b"HTTP/1.1 400 Bad Request\r\nServer: " + SECRET + b"\r\n\r\n"
    with Peer(greeting) as peer:
        _smtp(inbox, "127.0.0.1", peer.port)
        _imap(inbox, "127.0.0.1", peer.port)
        client = api_client(acme.admin)
        answers = [
            client.post(f"/api/v1/inboxes/{inbox.pk}/test-smtp/").json(),
            client.post(f"/api/v1/inboxes/{inbox.pk}/test-imap/").json(),
            client.post(f"/api/v1/inboxes/{inbox.pk}/fetch-now/").json(),
        ]
        sent = outbound.outbox_send(outbound_id=_reply(acme))
    assert peer.connections >= 4
    for answer in answers:
        assert answer["ok"] is False
        assert SECRET.decode() not in answer["message"], answer
    inbox.refresh_from_db()
    assert SECRET.decode() not in inbox.imap_last_error
    assert SECRET.decode() not in sent.last_error
    assert "400 Bad Request" in sent.error_detail  # for the installation's admins
    thread = Thread.objects.get()
    page = api_client(acme.agent).get(f"/api/v1/threads/{thread.reference}/").content
    assert SECRET not in page


def test_a_dripping_imap_server_is_cut_off_at_the_polls_deadline(acme, inbox, settings):
    settings.TISKET_MAIL_POLL_DEADLINE = 1
    drip = 0.05  # far inside every per-read timeout: only a total deadline ends it
    with Peer(b"* OK " + b"x" * 100_000, drip=drip) as peer:
        _imap(inbox, "127.0.0.1", peer.port)
        with pytest.raises(MailboxError) as failure:
            mailbox_poll(inbox=inbox)
        sent_by_then = peer.bytes_sent
    assert str(failure.value).startswith("Timeout:")
    # Bounded work: about the deadline's worth of bytes, not the 100,000 on offer nor the
    # default deadline's worth; tenfold, as a busy machine may be late to end the read.
    assert sent_by_then <= 10 * settings.TISKET_MAIL_POLL_DEADLINE / drip
    inbox.refresh_from_db()
    assert inbox.imap_last_error.startswith("Timeout:")
    assert inbox.imap_poll_lease_until is None  # the next poll may start


def test_a_dripping_smtp_server_is_cut_off_at_the_sends_deadline(acme, inbox, settings):
    settings.TISKET_MAIL_SEND_DEADLINE = 1
    drip = 0.05
    with Peer(b"220 " + b"x" * 100_000, drip=drip) as peer:
        _smtp(inbox, "127.0.0.1", peer.port)
        sent = outbound.outbox_send(outbound_id=_reply(acme))
        sent_by_then = peer.bytes_sent
    assert sent.status == "pending"  # a timeout is temporary: tried again later
    assert sent.last_error.startswith("Timeout:")
    assert sent_by_then <= 10 * settings.TISKET_MAIL_SEND_DEADLINE / drip  # as above


@pytest.fixture
def certificate(tmp_path, monkeypatch):
    """A self-signed certificate for 127.0.0.1 that this process trusts (SSL_CERT_FILE)."""
    cert = self_signed_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", cert[0])
    return cert


@pytest.mark.parametrize("over", ["imap-ssl", "imap-poll-ssl", "smtp-starttls", "smtp-ssl"])
def test_a_server_dripping_inside_tls_is_cut_off_at_the_deadline(
    acme, inbox, settings, certificate, over
):
    """TLS wraps the socket the deadline watches: the deadline must still end the talk."""
    settings.TISKET_MAIL_TEST_DEADLINE = settings.TISKET_MAIL_POLL_DEADLINE = 1
    drip, plain = 0.05, []
    if over == "smtp-starttls":
        plain = [b"220 hi\r\n", b"250-hi\r\n250 STARTTLS\r\n", b"220 go\r\n"]
    with TlsPeer(b"x" * 100_000, cert=certificate, drip=drip, plain=plain) as peer:
        if over.startswith("imap"):
            _imap(inbox, "127.0.0.1", peer.port)
            Inbox.objects.filter(pk=inbox.pk).update(imap_security="ssl")
            inbox.refresh_from_db()
            if over == "imap-ssl":
                ok, message = imap_test(inbox=inbox)
            else:
                with pytest.raises(MailboxError) as failure:
                    mailbox_poll(inbox=inbox)
                ok, message = False, str(failure.value)
        else:
            _smtp(inbox, "127.0.0.1", peer.port)
            security = "starttls" if over == "smtp-starttls" else "ssl"
            Inbox.objects.filter(pk=inbox.pk).update(smtp_security=security)
            inbox.refresh_from_db()
            ok, message = smtp_test(inbox=inbox)
        sent_by_then = peer.bytes_sent
    assert not ok
    assert message.startswith("Timeout:"), message
    assert sent_by_then <= 10 * 1 / drip  # tenfold the deadline's worth, as above


def test_an_imap_server_without_uidvalidity_is_a_clear_failure_not_a_500(acme, inbox):
    with ImapPeer(uidvalidity=False) as peer:
        _imap(inbox, "127.0.0.1", peer.port)
        answer = api_client(acme.admin).post(f"/api/v1/inboxes/{inbox.pk}/test-imap/")
        with pytest.raises(MailboxError, match="UIDVALIDITY"):
            mailbox_poll(inbox=inbox)
    assert answer.status_code == 200
    assert answer.json()["ok"] is False and "UIDVALIDITY" in answer.json()["message"]
    inbox.refresh_from_db()
    assert "UIDVALIDITY" in inbox.imap_last_error


def test_a_mail_larger_than_any_edge_takes_is_left_in_the_mailbox(acme, inbox, settings):
    settings.TISKET_INBOUND_MAX_REQUEST_BYTES = 1000
    with ImapPeer(stated_size=80 * 1024 * 1024) as peer:
        _imap(inbox, "127.0.0.1", peer.port)
        assert mailbox_poll(inbox=inbox) == 0
    assert peer.body_fetches == 0


def test_a_literal_larger_than_any_edge_takes_is_refused_before_it_is_read(acme, inbox):
    """The server's {n} would have imaplib allocate n bytes at once."""
    with ImapPeer(stated_size=20, literal_size=2**40) as peer:
        _imap(inbox, "127.0.0.1", peer.port)
        with pytest.raises(MailboxError):
            mailbox_poll(inbox=inbox)
    assert peer.body_fetches == 1


def test_one_poll_per_mailbox_at_a_time(acme, inbox):
    with Peer(b"* OK ready\r\n") as peer:
        _imap(inbox, "127.0.0.1", peer.port)
        assert imap_lease_take(inbox=inbox, seconds=60)  # another worker's poll
        with pytest.raises(MailboxBusy):
            mailbox_poll(inbox=inbox)
        answer = api_client(acme.admin).post(f"/api/v1/inboxes/{inbox.pk}/fetch-now/").json()
    assert answer["ok"] is False and "already running" in answer["message"]
    assert peer.connections == 0


def test_every_task_has_time_limits_and_mail_work_has_queues_of_its_own(settings):
    app.loader.import_default_modules()  # every app's tasks module, as a worker does
    ours = {
        name: task
        for name, task in app.tasks.items()
        if name.split(".")[0] in {"tisket", "inboxes", "sla", "kb", "threads", "tickets"}
    }
    assert ours
    for name, task in ours.items():
        soft = task.soft_time_limit or settings.CELERY_TASK_SOFT_TIME_LIMIT
        hard = task.time_limit or settings.CELERY_TASK_TIME_LIMIT
        assert soft and hard and soft < hard, name

    def queue(name: str) -> str:
        return app.amqp.router.route({}, name)["queue"].name

    assert queue("tickets.tasks.inbound_mail_process") == "ingest"
    assert queue("threads.tasks.outbox_send_task") == "outbound"
    assert queue("tickets.tasks.mailbox_poll_task") == "poll"
    assert queue("tickets.tasks.sla_sweep_task") == "sla"
    assert ours["tickets.tasks.mailbox_poll_task"].soft_time_limit < 300


def test_an_esp_account_takes_only_its_own_credential_keys(acme, inbox):
    client = api_client(acme.admin)
    response = client.patch(
        f"/api/v1/inboxes/{inbox.pk}/",
        {
            "transport": "esp",
            "esp_name": "postmark",
            "esp_settings": {"server_token": "tok", "api_url": "http://127.0.0.1:9/"},
        },
        format="json",
    )
    assert response.status_code == 400
    assert "api_url" in json.dumps(response.json())
    missing = client.patch(
        f"/api/v1/inboxes/{inbox.pk}/",
        {"transport": "esp", "esp_name": "postmark", "esp_settings": {}},
        format="json",
    )
    assert missing.status_code == 400 and "server_token" in json.dumps(missing.json())
    for esp in ("postal", "amazon_ses", "unisender_go"):  # endpoints or ambient credentials
        refused = client.patch(
            f"/api/v1/inboxes/{inbox.pk}/",
            {"transport": "esp", "esp_name": esp, "esp_settings": {"api_key": "k"}},
            format="json",
        )
        assert refused.status_code == 400, esp
    inbox.refresh_from_db()
    assert (inbox.transport, inbox.esp_settings_sealed) == ("default", "")


def test_an_esp_account_never_falls_back_to_the_installations(acme, inbox, settings):
    """The attack as run: no token of the tenant's, the endpoint pointed at a server of theirs."""
    with Peer(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}") as peer:
        attacker = f"http://127.0.0.1:{peer.port}/"
        settings.ANYMAIL = {
            **settings.ANYMAIL,
            "POSTMARK_SERVER_TOKEN": "installation-token",
            "POSTMARK_API_URL": attacker,
        }
        # As stored before the allow-list existed.
        Inbox.objects.filter(pk=inbox.pk).update(
            transport="esp",
            esp_name="postmark",
            esp_settings_sealed=secret_seal(json.dumps({"api_url": attacker})),
        )
        sent = outbound.outbox_send(outbound_id=_reply(acme))
        assert sent.status == "failed"
        assert sent.last_error.startswith("Configuration:")
        assert peer.connections == 0

        inbox_transport_set(
            inbox=inbox,
            transport="esp",
            esp_name="postmark",
            esp_settings={"server_token": "tenant-token"},
        )
        with netguard.deadline(5) as limit:
            connection = inbox_connection(inbox, limit=limit)
    assert connection.server_token == "tenant-token"
    assert connection.api_url == "https://api.postmarkapp.com/"


@pytest.mark.parametrize("esp", sorted(ESP_ACCOUNTS))
def test_no_setting_of_the_installations_reaches_an_inbox_account(inbox, settings, esp):
    """Every setting the ESP's backend reads is set installation-wide to a marker: none leaks."""
    sources = Path(anymail.backends.__file__).parent
    names = set()
    for module in ("base", "base_requests", esp):
        text = (sources / f"{module}.py").read_text()
        names |= set(re.findall(r'get_anymail_setting\(\s*"(\w+)"', text))
    marker = "installation-marker"
    settings.ANYMAIL = {f"{esp.upper()}_{name.upper()}": marker for name in names} | {
        # The global ones too: a Bcc archive of the installation's, its debugging.
        "SEND_DEFAULTS": {"bcc": [f"{marker}@archive.test"], "metadata": {"m": marker}},
        "DEBUG_API_REQUESTS": True,
        "IGNORE_RECIPIENT_STATUS": True,
        "IGNORE_UNSUPPORTED_FEATURES": True,
    }
    account = ESP_ACCOUNTS[esp]
    inbox_transport_set(
        inbox=inbox,
        transport="esp",
        esp_name=esp,
        esp_settings={key: f"tenant-{key}" for key in account.required},
    )
    with netguard.deadline(5) as limit:
        connection = inbox_connection(inbox, limit=limit)
    leaked = {k: v for k, v in vars(connection).items() if marker in repr(v)}
    assert leaked == {}
    assert not connection.debug_api_requests and not connection.ignore_recipient_status
    assert not connection.ignore_unsupported_features


def test_an_inbox_smtp_server_never_gets_the_installations_login(inbox, settings):
    settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = "installation", "installation-pw"
    settings.EMAIL_SSL_CERTFILE = "/installation/client.pem"
    _smtp(inbox, "smtp.acme.example", 587)
    with netguard.deadline(5) as limit:
        connection = inbox_connection(inbox, limit=limit)
    assert (connection.username, connection.password, connection.ssl_certfile) == ("", "", "")
