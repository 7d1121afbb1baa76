"""One-click unsubscribe (RFC 8058): on exactly the optional mail, POST without cookies, GET
harmless, tokens that cannot be forged, replies and critical mail never held back."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import signing
from django.test import Client

from inboxes.services import inbox_update
from interface.settings_pages.invites import invitation_send
from tests.conftest import api_client
from tests.factories import MembershipFactory, always_open_policy
from tests.mail import deliver, make_mail
from threads import outbound
from tickets import queues
from tickets import services as tickets
from tickets.models import Ticket
from tickets.sla import sla_sweep
from tisket.lib.unsubscribe import (
    CONVERSATION_UPDATES,
    NOTIFICATIONS,
    SALT,
    Subscription,
    unsubscribe_token,
)
from tisket.models import Notification, Role, Unsubscription
from tisket.unsubscriptions import unsubscribe

CSRF = 'name="csrfmiddlewaretoken" value="'


@pytest.fixture(autouse=True)
def _notification_mail_at_once(settings) -> None:
    """Members' notification mail goes at once here, not after its usual delay."""
    settings.TISKET_NOTIFY_EMAIL_DELAY = 0


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://desk.example"


def link_of(mail) -> str:
    """The path of a mail's List-Unsubscribe URL, checked against its footer and RFC 8058."""
    url = mail["List-Unsubscribe"].strip().removeprefix("<").removesuffix(">")
    assert url.startswith("https://desk.example/c/unsubscribe/")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"Unsubscribe: {url}" in mail.get_body(("plain",)).get_content()
    return url.removeprefix("https://desk.example")


def assign(ticket: Ticket, to, by, capture) -> None:
    with capture(execute=True):
        tickets.ticket_assign(ticket=ticket, assignee=to, actor=by)


def new_ticket(cast, subject: str = "Printer") -> Ticket:
    return tickets.ticket_create(organization=cast.org, subject=subject, actor=None)


def test_a_notification_mail_unsubscribes_with_one_post_and_no_cookie(
    acme, smtp, django_capture_on_commit_callbacks
):
    assign(new_ticket(acme), acme.agent2, acme.agent, django_capture_on_commit_callbacks)
    [(to, sent)] = smtp.received
    assert to == ["agent2@acme.test"]
    path = link_of(sent)
    # What a mail provider's button sends: a POST with the RFC 8058 body, no cookie, no token.
    bare = Client(enforce_csrf_checks=True)
    response = bare.post(path, "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert b"You are unsubscribed" in response.content
    [row] = Unsubscription.objects.all()
    assert (row.organization, row.address, row.category) == (
        acme.org,
        "agent2@acme.test",
        NOTIFICATIONS,
    )
    assert bare.post(path).status_code == 200  # twice: the same, no error
    assert Unsubscription.objects.count() == 1
    smtp.received.clear()
    assign(new_ticket(acme, "Scanner"), acme.agent2, acme.agent, django_capture_on_commit_callbacks)
    assert smtp.received == []  # no more mail...
    assert Notification.objects.filter(recipient=acme.agent2).count() == 2  # ...the bell still


def test_opening_the_link_only_shows_a_button(acme, client):
    token = unsubscribe_token(
        organization_id=acme.org.pk, address="agent@acme.test", category=NOTIFICATIONS
    )
    path = f"/c/unsubscribe/{token}/"
    page = client.get(path)
    assert page.status_code == 200 and client.head(path).status_code == 200
    assert b">Unsubscribe</button>" in page.content and b"agent@acme.test" in page.content
    assert page["Cache-Control"] == "no-store, private"
    assert not Unsubscription.objects.exists()  # a link scanner unsubscribes nobody
    assert client.put(path).status_code == 405


def test_a_forged_or_tampered_token_unsubscribes_nobody(acme, globex, client):
    token = unsubscribe_token(
        organization_id=acme.org.pk, address="agent@acme.test", category=NOTIFICATIONS
    )
    payload, _, signature = token.rpartition(":")
    tampered = [
        f"{payload}:{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
        # Another organization, address or category, with the signature of the first.
        signing.dumps({"o": globex.org.pk, "a": "agent@acme.test", "c": NOTIFICATIONS}) + "x",
        signing.dumps({"o": acme.org.pk, "a": "x@y.z", "c": "everything"}, salt=SALT),
        signing.dumps({"o": acme.org.pk, "a": "agent@acme.test", "c": NOTIFICATIONS}),
        "not-a-token",
    ]
    for bad in tampered:
        assert client.post(f"/c/unsubscribe/{bad}/").status_code == 404, bad
        assert client.get(f"/c/unsubscribe/{bad}/").status_code == 404, bad
    assert not Unsubscription.objects.exists()


def test_subscribing_again_from_the_page_is_csrf_checked(acme):
    subscription = Subscription(acme.org.pk, "agent@acme.test", NOTIFICATIONS)
    unsubscribe(subscription=subscription)
    token = unsubscribe_token(
        organization_id=acme.org.pk, address="agent@acme.test", category=NOTIFICATIONS
    )
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(f"/c/unsubscribe/{token}/")
    assert b"Subscribe again" in page.content
    again = f"/c/unsubscribe/{token}/again/"
    assert browser.post(again).status_code == 403  # no token: a forged cross-site post
    assert Unsubscription.objects.exists()
    csrf = page.content.decode().split(CSRF)[1].split('"')[0]
    done = browser.post(again, {"csrfmiddlewaretoken": csrf})
    assert done.status_code == 200 and b"You are subscribed again" in done.content
    assert not Unsubscription.objects.exists()


def test_the_headers_are_on_exactly_the_optional_mail(
    acme, inbox, smtp, client, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    inbox_update(inbox=inbox, auto_ack_enabled=True, mail_on_waiting=True)
    queues.queue_create(organization=acme.org, name="Support", actor=None, inboxes=[inbox])
    with capture(execute=True):
        thread = deliver(make_mail()).thread  # the acknowledgement
        ticket = Ticket.objects.get(thread_links__thread=thread)
        outbound.reply_send_skipping_ticket(thread=thread, author=acme.agent, body="On it.")
        tickets.ticket_set_status(
            ticket=ticket, status=Ticket.Status.WAITING_ON_CUSTOMER, actor=acme.agent
        )
        tickets.ticket_assign(ticket=ticket, assignee=acme.agent2, actor=acme.agent)
        invitation_send(
            organization=acme.org, email="new@acme.test", role=Role.AGENT, actor=acme.admin
        )
        client.post("/accounts/password/reset/", {"email": "agent@acme.test"})
    kinds = {}
    for to, mail in smtp.received:
        text = mail.get_body(("plain",)).get_content()
        kind = (
            "ack"
            if mail["Auto-Submitted"] == "auto-replied"
            else "waiting"
            if "waits on you" in text
            else "reply"
            if "On it." in text
            else "assigned"
            if "assigned to you" in str(mail["Subject"])
            else "invitation"
            if to == ["new@acme.test"]
            else "password"
        )
        kinds[kind] = mail["List-Unsubscribe"] is not None
        assert (mail["List-Unsubscribe"] is None) == (mail["List-Unsubscribe-Post"] is None)
    assert kinds == {
        "ack": False,
        "reply": False,
        "waiting": True,
        "assigned": True,
        "invitation": False,
        "password": False,
    }


def test_replies_reach_a_client_who_unsubscribed_from_updates(
    acme, inbox, smtp, django_capture_on_commit_callbacks
):
    thread = deliver(make_mail()).thread
    unsubscribe(subscription=Subscription(acme.org.pk, "jane@client.test", CONVERSATION_UPDATES))
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(acme.agent).post(
            f"/api/v1/threads/{thread.reference}/messages/", {"body": "Fixed."}, format="json"
        )
    assert response.status_code == 201
    [(to, sent)] = smtp.received
    assert to == ["jane@client.test"] and sent["List-Unsubscribe"] is None


def test_an_sla_breach_reaches_its_assignee_whatever_they_unsubscribed(
    acme, smtp, django_capture_on_commit_callbacks
):
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        always_open_policy(acme.org, {"normal": {"first_response_minutes": 60}})
        tickets.ticket_create(
            organization=acme.org, subject="Printer", actor=None, assignee=acme.agent
        )
        for member in (acme.agent, acme.supervisor):
            unsubscribe(subscription=Subscription(acme.org.pk, member.user.email, NOTIFICATIONS))
        clock.move_to(start + timedelta(minutes=61))
        with django_capture_on_commit_callbacks(execute=True):
            assert sla_sweep().breaches == 1
    # The warning is optional and the agent unsubscribed; the breach on their own ticket is not.
    # (One mail for the conversation: the breach with what else was unread on it.)
    [breach] = [mail for to, mail in smtp.received if to == ["agent@acme.test"]]
    text = breach.get_body(("plain",)).get_content()
    assert "target missed" in text and breach["List-Unsubscribe"] is None
    mailed = {to[0]: mail for to, mail in smtp.received}
    assert "supervisor@acme.test" not in mailed  # a supervisor's breach mail is optional
    assert link_of(mailed["admin@acme.test"])


def test_an_unsubscribe_in_one_organization_leaves_the_other_alone(
    acme, globex, smtp, web, django_capture_on_commit_callbacks
):
    both = MembershipFactory(organization=globex.org, user=acme.agent2.user, role=Role.AGENT)
    unsubscribe(subscription=Subscription(acme.org.pk, "agent2@acme.test", NOTIFICATIONS))
    assign(new_ticket(acme), acme.agent2, acme.agent, django_capture_on_commit_callbacks)
    assign(new_ticket(globex), both, globex.agent, django_capture_on_commit_callbacks)
    [(to, sent)] = smtp.received
    assert to == ["agent2@acme.test"] and "GLX" in str(sent["Subject"])
    # The profile shows what was stopped, where, and undoes it, for one's own organizations only.
    page = web(acme.agent2).get("/accounts/profile/")
    assert b"Mail you unsubscribed from" in page.content and b"Acme" in page.content
    unsubscribe(subscription=Subscription(globex.org.pk, "agent2@acme.test", NOTIFICATIONS))
    outsider = MembershipFactory(organization=globex.org, role=Role.AGENT)
    unsubscribe(subscription=Subscription(acme.org.pk, outsider.user.email, NOTIFICATIONS))
    web(outsider).post(  # an organization they do not belong to: no effect
        "/accounts/profile/resubscribe/", {"organization": acme.org.pk, "category": NOTIFICATIONS}
    )
    assert Unsubscription.objects.filter(address=outsider.user.email).exists()
    done = web(acme.agent2).post(
        "/accounts/profile/resubscribe/", {"organization": acme.org.pk, "category": NOTIFICATIONS}
    )
    assert done.status_code == 302
    mine = Unsubscription.objects.filter(address="agent2@acme.test")
    assert list(mine.values_list("organization", flat=True)) == [globex.org.pk]
