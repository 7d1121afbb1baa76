"""Polling an inbox's IMAP mailbox, against a real Dovecot server."""

import pytest

from inboxes.imap import inbox_imap_set
from tests.conftest import api_client
from tests.mail import make_mail
from tests.smtp import free_port
from threads.models import InboundMail, Thread
from tickets.intake import mail_after_store
from tickets.intake.mailboxes import mailbox_poll, mailboxes_poll
from tickets.intake.wake import intake_run


@pytest.fixture
def mailbox(imap_server, inbox):
    user = imap_server.user()
    inbox_imap_set(
        inbox=inbox,
        host="127.0.0.1",
        port=imap_server.port,
        security="none",
        username=user[0],
        password=user[1],
    )
    return user


def test_new_mail_becomes_threads_once_however_often_the_box_is_polled(imap_server, mailbox, inbox):
    for n in range(3):
        imap_server.deliver(mailbox, make_mail(subject=f"by imap {n}", message_id=f"<i{n}@c.test>"))
    assert mailbox_poll(inbox=inbox) == 3
    intake_run(after_store=mail_after_store)
    assert Thread.objects.count() == 3
    assert set(InboundMail.objects.values_list("source", flat=True)) == {"imap"}
    assert mailbox_poll(inbox=inbox) == 0  # nothing new
    imap_server.deliver(mailbox, make_mail(subject="later", message_id="<i9@c.test>"))
    assert mailbox_poll(inbox=inbox) == 1
    intake_run(after_store=mail_after_store)
    assert Thread.objects.count() == 4
    inbox.refresh_from_db()
    assert inbox.imap_last_error == ""
    assert inbox.imap_last_checked_at is not None


def test_a_mail_someone_already_read_is_still_ingested(imap_server, mailbox, inbox):
    imap_server.deliver(mailbox, make_mail(subject="read elsewhere"), flags="(\\Seen)")
    assert mailbox_poll(inbox=inbox) == 1


def test_a_renumbered_folder_is_read_again_without_storing_anything_twice(
    imap_server, mailbox, inbox
):
    imap_server.deliver(mailbox, make_mail(subject="one"))
    mailbox_poll(inbox=inbox)
    inbox.refresh_from_db()
    inbox.imap_uidvalidity += 1  # as if the server had rebuilt the folder
    inbox.save(update_fields=["imap_uidvalidity"])
    assert mailbox_poll(inbox=inbox) == 1  # fetched again...
    assert InboundMail.objects.count() == 1  # ...but recorded once


def test_a_broken_mailbox_is_reported_and_leaves_the_others_alone(
    imap_server, mailbox, inbox, acme
):
    from inboxes.services import inbox_create

    broken = inbox_create(organization=acme.org, name="broken", auto_ack_enabled=False)
    inbox_imap_set(
        inbox=broken,
        host="127.0.0.1",
        port=free_port(),
        security="none",
        username="x",
        password="y",
    )
    imap_server.deliver(mailbox, make_mail())
    outcome = mailboxes_poll()
    assert outcome[inbox.pk] == 1
    assert outcome[broken.pk].startswith("Refused:")
    broken.refresh_from_db()
    assert broken.imap_last_error.startswith("Refused:")


def test_test_and_fetch_now_through_the_api(imap_server, mailbox, inbox, acme):
    client = api_client(acme.admin)
    imap_server.deliver(mailbox, make_mail())
    tested = client.post(f"/api/v1/inboxes/{inbox.pk}/test-imap/").json()
    assert tested == {"ok": True, "message": "Connected; the folder INBOX holds 1 mail(s)."}
    fetched = client.post(f"/api/v1/inboxes/{inbox.pk}/fetch-now/").json()
    assert fetched == {"ok": True, "message": "Fetched 1 new mail(s).", "fetched": 1}
    client.patch(f"/api/v1/inboxes/{inbox.pk}/", {"imap_password": "wrong"}, format="json")
    failed = client.post(f"/api/v1/inboxes/{inbox.pk}/test-imap/").json()
    assert failed["ok"] is False
    assert failed["message"].startswith("Authentication:")
    body = client.get(f"/api/v1/inboxes/{inbox.pk}/").json()
    assert body["imap_password_set"] is True
    assert "wrong" not in str(body)
    assert api_client(acme.agent).post(f"/api/v1/inboxes/{inbox.pk}/fetch-now/").status_code == 403


def test_admin_tests_the_mailbox_and_fetches_now(imap_server, mailbox, inbox, client):
    from tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    imap_server.deliver(mailbox, make_mail())
    url = "/admin/inboxes/inbox/"
    tested = client.post(url, {"action": "test_imap", "_selected_action": [inbox.pk]}, follow=True)
    assert "holds 1 mail(s)" in tested.content.decode()
    fetched = client.post(url, {"action": "fetch_now", "_selected_action": [inbox.pk]}, follow=True)
    assert "fetched 1 new mail(s)" in fetched.content.decode()
    smtp = client.post(url, {"action": "test_smtp", "_selected_action": [inbox.pk]}, follow=True)
    assert "does not send through its own SMTP server" in smtp.content.decode()
