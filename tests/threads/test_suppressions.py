"""Bounces and complaints hold back the automatic mail of the organization that sent the
mail, and no other's; its admins see and lift them."""

import json
from base64 import b64encode
from datetime import timedelta

import pytest
from django.core import mail as django_mail
from django.utils import timezone

from inboxes.services import inbox_update
from tests.conftest import Cast, api_client
from tests.factories import MembershipFactory
from tests.mail import deliver, make_mail
from threads import outbound
from threads.models import OutboundMail, Suppression
from tisket.models import Organization, Role

JANE = "jane@client.test"
WEBHOOK_AUTH = "Basic " + b64encode(b"tisket:webhook-secret").decode()


@pytest.fixture
def esp(settings) -> list:
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    django_mail.outbox = []
    return django_mail.outbox


def _hard_bounce(client, *, esp_message_id: str, email: str = JANE):
    payload = {
        "RecordType": "Bounce",
        "Type": "HardBounce",
        "TypeCode": 1,
        "MessageID": esp_message_id,
        "Email": email,
        "Description": "The server was unable to deliver your message",
        "Details": "smtp;550 5.1.1 unknown user",
        "BouncedAt": "2026-11-22T10:00:00Z",
        "Subject": "x",
        "Tag": "",
        "ServerID": 1,
        "Metadata": {},
    }
    return client.post(
        "/anymail/postmark/tracking/",
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=WEBHOOK_AUTH,
    )


def _sent_reply(cast: Cast, to: str) -> OutboundMail:
    """Jane writes to the inbox; an agent answers; the ESP takes the answer."""
    thread = deliver(make_mail(to=to, subject=f"Question for {cast.org.name}")).thread
    _, row = outbound.reply_send_skipping_ticket(thread=thread, author=cast.agent, body="Hi")
    return outbound.outbox_send(outbound_id=row.pk)


def _acknowledged(to: str, capture, subject: str) -> bool:
    with capture(execute=True):
        thread = deliver(make_mail(to=to, subject=subject)).thread
    return OutboundMail.objects.filter(thread=thread, kind=OutboundMail.Kind.AUTO_ACK).exists()


def _suppress(organization: Organization, address: str, days: int = 30) -> Suppression:
    return Suppression.objects.create(
        organization=organization,
        address=address,
        reason="bounced: 550 unknown user",
        until=timezone.now() + timedelta(days=days),
    )


def test_a_bounce_of_one_organizations_mail_holds_back_no_other_organizations_mail(
    client, acme, globex, inbox, globex_inbox, esp, django_capture_on_commit_callbacks
):
    acme_reply = _sent_reply(acme, inbox.address)
    _sent_reply(globex, globex_inbox.address)
    inbox_update(inbox=inbox, auto_ack_enabled=True)
    inbox_update(inbox=globex_inbox, auto_ack_enabled=True)

    assert _hard_bounce(client, esp_message_id=acme_reply.esp_message_id).status_code == 200

    capture = django_capture_on_commit_callbacks
    assert _acknowledged(globex_inbox.address, capture, "Another question")
    assert not _acknowledged(inbox.address, capture, "Another question")
    # Invitations (mail from the installation's address) follow the same line.
    assert outbound.address_mail(organization_id=globex.org.pk, to=JANE, subject="s", text="t")
    assert not outbound.address_mail(organization_id=acme.org.pk, to=JANE, subject="s", text="t")
    [suppression] = Suppression.objects.all()
    assert (suppression.organization, suppression.address) == (acme.org, JANE)


def test_a_member_of_two_organizations_gets_the_notifications_of_the_one_whose_mail_did_not_bounce(
    acme, globex
):
    both = globex.agent
    of_acme = MembershipFactory(organization=acme.org, user=both.user, role=Role.AGENT)
    _suppress(acme.org, both.user.email)
    sent = outbound.notification_mails(
        [
            outbound.MemberMail(membership=of_acme, subject="Acme news", text="t"),
            outbound.MemberMail(membership=both, subject="Globex news", text="t"),
        ]
    )
    assert [(m.organization_id, m.subject) for m in sent] == [(globex.org.pk, "Globex news")]


def test_a_bounce_about_an_address_the_mail_did_not_go_to_suppresses_nothing(
    client, acme, inbox, esp
):
    reply = _sent_reply(acme, inbox.address)
    response = _hard_bounce(client, esp_message_id=reply.esp_message_id, email="boss@other.test")
    assert response.status_code == 200
    assert not Suppression.objects.exists()


def test_a_bounce_about_no_mail_of_ours_suppresses_nothing(client, acme, inbox, esp):
    _sent_reply(acme, inbox.address)
    assert _hard_bounce(client, esp_message_id="not-one-of-ours").status_code == 200
    assert not Suppression.objects.exists()


def test_an_admin_sees_and_lifts_only_their_organizations_suppressions(
    acme, globex, inbox, esp, django_capture_on_commit_callbacks
):
    ours = _suppress(acme.org, JANE)
    theirs = _suppress(globex.org, JANE)
    _suppress(acme.org, "old@client.test", days=-1)  # expired: not in force, not shown
    admin = api_client(acme.admin)

    listed = admin.get("/api/v1/suppressions/")
    assert listed.status_code == 200
    assert [(s["id"], s["address"]) for s in listed.json()["results"]] == [(ours.pk, JANE)]
    assert admin.get(f"/api/v1/suppressions/{theirs.pk}/").status_code == 404
    assert admin.delete(f"/api/v1/suppressions/{theirs.pk}/").status_code == 404
    assert Suppression.objects.filter(pk=theirs.pk).exists()

    assert admin.delete(f"/api/v1/suppressions/{ours.pk}/").status_code == 204
    assert not Suppression.objects.filter(pk=ours.pk).exists()
    assert Suppression.objects.filter(pk=theirs.pk).exists()
    inbox_update(inbox=inbox, auto_ack_enabled=True)
    assert _acknowledged(inbox.address, django_capture_on_commit_callbacks, "Back again")


def test_agents_neither_see_nor_lift_suppressions(acme):
    ours = _suppress(acme.org, JANE)
    for member in (acme.supervisor, acme.agent):
        agent = api_client(member)
        assert agent.get("/api/v1/suppressions/").status_code == 403
        assert agent.delete(f"/api/v1/suppressions/{ours.pk}/").status_code == 403
    # A token capped below admin acts below admin, whoever holds it.
    capped = api_client(acme.owner, role="agent")
    assert capped.delete(f"/api/v1/suppressions/{ours.pk}/").status_code == 403
    assert Suppression.objects.filter(pk=ours.pk).exists()


def test_the_settings_page_lists_and_lifts_the_organizations_suppressions(acme, globex, web):
    ours = _suppress(acme.org, JANE)
    theirs = _suppress(globex.org, "secret-client@globex-customer.test")
    browser = web(acme.admin)

    page = browser.get("/acme/settings/bouncing/").content.decode()
    assert JANE in page and "secret-client" not in page

    missing = browser.post(f"/acme/settings/bouncing/{theirs.pk}/lift/")
    assert missing.status_code == 404
    assert Suppression.objects.filter(pk=theirs.pk).exists()

    lifted = browser.post(f"/acme/settings/bouncing/{ours.pk}/lift/", follow=True)
    assert f"Automatic mail goes to {JANE} again." in lifted.content.decode()
    assert not Suppression.objects.filter(pk=ours.pk).exists()


def test_sending_again_warns_of_a_bounce_in_the_organization_only(
    acme, globex, inbox, web, esp, django_capture_on_commit_callbacks
):
    reply = _sent_reply(acme, inbox.address)
    OutboundMail.objects.filter(pk=reply.pk).update(status=OutboundMail.Status.FAILED)
    _suppress(globex.org, JANE)
    with django_capture_on_commit_callbacks(execute=True):
        page = web(acme.agent).post(f"/acme/messages/{reply.message_id}/send-again/", follow=True)
    assert "Queued to be sent again." in page.content.decode()
    assert "bounced hard or complained lately" not in page.content.decode()
