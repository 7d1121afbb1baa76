"""Accounts: password reset by mail, password change, the profile, sessions and their idle end."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.utils import timezone

from tests.factories import PASSWORD
from tisket.audit import Action
from tisket.models import ApiToken, AuditEvent, User, UserSession
from tisket.sessions import touch_every

RESET_LINK = re.compile(r"https?://[^/\s]+(/accounts/password/reset/[^/\s]+/[^/\s]+/)")
NEW_PASSWORD = "a brand new passphrase 42"


def _ask_reset(client: Client, email: str, capture, address: str = "10.0.0.1"):
    with capture(execute=True):
        return client.post("/accounts/password/reset/", {"email": email}, REMOTE_ADDR=address)


def _link(mailbox) -> str:
    (_, mail), *_ = mailbox.received
    return RESET_LINK.search(mail.get_body(("plain",)).get_content()).group(1)


def test_a_reset_mail_goes_out_by_smtp_and_its_link_works_once(
    acme, client, smtp, django_capture_on_commit_callbacks
):
    response = _ask_reset(client, "agent@acme.test", django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert [rcpt for rcpt, _ in smtp.received] == [["agent@acme.test"]]
    path = _link(smtp)

    form = client.get(path, follow=True)
    assert form.status_code == 200 and form.context["validlink"]
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done.status_code == 302
    user = User.objects.get(email="agent@acme.test")
    assert user.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(
        organization=acme.org, action=Action.PASSWORD_RESET, actor=user
    ).exists()

    # The link was bound to the old password: it does not work twice.
    again = Client().get(path, follow=True)
    assert again.context["validlink"] is False
    assert b"This link does not work" in again.content


def test_a_reset_link_expires(acme, client, smtp, settings, django_capture_on_commit_callbacks):
    _ask_reset(client, "agent@acme.test", django_capture_on_commit_callbacks)
    path = _link(smtp)
    late_by = timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 5)
    with time_machine.travel(timezone.now() + late_by):
        late = Client().get(path, follow=True)
    assert late.context["validlink"] is False
    assert User.objects.get(email="agent@acme.test").check_password(PASSWORD)


def test_a_reset_answers_the_same_for_an_unknown_address_and_mails_nothing(
    acme, client, smtp, django_capture_on_commit_callbacks
):
    known = _ask_reset(client, "agent@acme.test", django_capture_on_commit_callbacks)
    unknown = _ask_reset(client, "nobody@acme.test", django_capture_on_commit_callbacks)
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert [rcpt for rcpt, _ in smtp.received] == [["agent@acme.test"]]


def test_resets_are_rate_limited_per_account_and_per_address(
    acme, client, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.TISKET_PASSWORD_RESETS_PER_ACCOUNT = 2
    settings.TISKET_PASSWORD_RESETS_PER_ADDRESS = 4
    answers = [
        _ask_reset(client, "agent@acme.test", django_capture_on_commit_callbacks).status_code
        for _ in range(3)
    ]
    assert answers == [302, 302, 429]
    assert len(mailoutbox) == 2
    # Every ask counts against the address: its limit (4) is reached next.
    viewer = _ask_reset(client, "viewer@acme.test", django_capture_on_commit_callbacks)
    assert viewer.status_code == 302
    refused = _ask_reset(client, "admin@acme.test", django_capture_on_commit_callbacks)
    assert refused.status_code == 429
    assert b"Too many reset mails" in refused.content
    # Elsewhere, an hour later, it works again.
    with time_machine.travel(timezone.now() + timedelta(hours=1, seconds=1)):
        later = _ask_reset(client, "agent@acme.test", django_capture_on_commit_callbacks)
    assert later.status_code == 302


def test_a_reset_ends_every_session_of_the_account(acme, smtp, django_capture_on_commit_callbacks):
    elsewhere = Client()
    elsewhere.force_login(acme.agent.user)
    assert elsewhere.get("/acme/").status_code == 200
    client = Client()
    _ask_reset(client, "agent@acme.test", django_capture_on_commit_callbacks)
    form = client.get(_link(smtp), follow=True)
    client.post(
        form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert elsewhere.get("/acme/").status_code == 302  # to the login page
    assert not UserSession.objects.filter(user=acme.agent.user).exists()


def test_changing_the_password_keeps_this_session_and_ends_the_others(acme, client):
    other = Client()
    other.force_login(acme.agent.user)
    client.post("/accounts/login/", {"username": "agent@acme.test", "password": PASSWORD})
    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert b"Your password is changed. 1 other session ended." in response.content
    assert client.get("/acme/").status_code == 200
    assert other.get("/acme/").status_code == 302
    assert AuditEvent.objects.filter(action=Action.PASSWORD_CHANGED, organization=acme.org).exists()


def test_a_wrong_current_password_changes_nothing(acme, web):
    client = web(acme.agent)
    response = client.post(
        "/accounts/password/",
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert User.objects.get(pk=acme.agent.user.pk).check_password(PASSWORD)


# --- Profile ---------------------------------------------------------------------------------


def test_the_profile_saves_name_handle_signature_time_zone_and_language(acme, web):
    client = web(acme.agent)
    assert client.get("/accounts/profile/").status_code == 200
    response = client.post(
        "/accounts/profile/",
        {
            "full_name": "Alex Martin",
            "handle": "Alex.M",
            "signature": "Alex, Acme support",
            "timezone": "Europe/Paris",
            "language": "fr",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(pk=acme.agent.user.pk)
    assert (user.full_name, user.handle, user.signature, user.timezone, user.language) == (
        "Alex Martin",
        "alex.m",
        "Alex, Acme support",
        "Europe/Paris",
        "fr",
    )
    # Dates on pages follow the person's language and time zone.
    page = client.get("/acme/")
    assert page["Content-Language"] == "fr"
    event = AuditEvent.objects.get(action=Action.PROFILE_CHANGED, organization=acme.org)
    assert sorted(event.data["fields"]) == [
        "full_name",
        "handle",
        "language",
        "signature",
        "timezone",
    ]


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("handle", "no spaces", "lowercase letters"),
        ("timezone", "Mars/Olympus", "Select a valid choice"),
        ("language", "xx", "Select a valid choice"),
    ],
)
def test_the_profile_refuses_bad_values(acme, web, field, value, error):
    data = {"full_name": "A", "handle": "", "signature": "", "timezone": "", "language": ""}
    response = web(acme.agent).post("/accounts/profile/", {**data, field: value})
    assert response.status_code == 200
    assert error in str(response.context["form"].errors[field])


def test_a_handle_is_unique(acme, web):
    User.objects.filter(pk=acme.agent2.user.pk).update(handle="alex")
    response = web(acme.agent).post(
        "/accounts/profile/",
        {"full_name": "", "handle": "ALEX", "signature": "", "timezone": "", "language": ""},
    )
    assert response.status_code == 200
    assert "already exists" in str(response.context["form"].errors["handle"])


def test_a_note_mentions_a_member_by_handle(acme, inbox):
    from tests.mail import deliver, make_mail
    from tickets.queues import queue_create
    from tickets.services import ticket_note_add
    from tisket.models import Notification

    queue_create(organization=acme.org, name="Support", actor=None, inboxes=[inbox])
    User.objects.filter(pk=acme.agent2.user.pk).update(handle="sam")
    ticket = deliver(make_mail(to=inbox.address)).thread.ticket_link.ticket
    ticket_note_add(ticket=ticket, body="@sam can you look?", actor=acme.agent)
    assert Notification.objects.filter(recipient=acme.agent2, kind="mentioned").count() == 1


# --- Sessions ----------------------------------------------------------------------------------


def _login(client: Client, email: str, agent: str = "Firefox") -> None:
    response = client.post(
        "/accounts/login/",
        {"username": email, "password": PASSWORD},
        HTTP_USER_AGENT=agent,
        REMOTE_ADDR="192.0.2.7",
    )
    assert response.status_code == 302, response.content


def test_a_session_knows_whose_it_is_and_where_from(acme, client):
    _login(client, "agent@acme.test", agent="Mozilla/5.0 Firefox/140")
    row = UserSession.objects.get(user=acme.agent.user)
    assert (row.ip, row.user_agent) == ("192.0.2.7", "Mozilla/5.0 Firefox/140")
    assert AuditEvent.objects.filter(action=Action.LOGIN, organization=acme.org).count() == 1
    page = client.get("/accounts/sessions/")
    assert b"Mozilla/5.0 Firefox/140" in page.content and b"This session" in page.content


def test_a_session_ends_after_the_idle_timeout_and_lives_on_while_used(acme, client, settings):
    settings.TISKET_SESSION_IDLE_TIMEOUT = settings.SESSION_COOKIE_AGE = 3600
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        _login(client, "agent@acme.test")
        for _ in range(4):  # used every 50 minutes for over three hours: still signed in
            clock.shift(timedelta(minutes=50))
            assert client.get("/acme/").status_code == 200
        clock.shift(timedelta(seconds=3600 + touch_every()))
        assert client.get("/acme/").status_code == 302
    assert client.session.get(SESSION_KEY) is None


def test_an_idle_session_is_saved_at_most_once_per_interval(acme, client, settings):
    _login(client, "agent@acme.test")
    client.get("/acme/")  # the first visit notes the organization in the session
    row = UserSession.objects.get(user=acme.agent.user)
    for _ in range(3):
        client.get("/acme/")
    assert UserSession.objects.get(pk=row.pk).expire_date == row.expire_date


def test_signing_out_everywhere_ends_other_sessions_and_can_revoke_tokens(acme, client):
    from tisket import services

    others = [Client(), Client()]
    for other in others:
        _login(other, "agent@acme.test")
    _login(client, "agent@acme.test")
    services.api_token_create(membership=acme.agent, name="script")
    response = client.post("/accounts/sessions/end/", {"tokens": "on"}, follow=True)
    assert b"2 sessions ended, 1 token revoked." in response.content
    for other in others:
        assert other.get("/acme/").status_code == 302
    assert client.get("/acme/").status_code == 200
    assert not ApiToken.objects.filter(membership=acme.agent, revoked_at__isnull=True).exists()
    assert AuditEvent.objects.filter(action=Action.TOKEN_REVOKED, organization=acme.org).exists()


def test_one_session_is_ended_by_its_owner_only(acme, client):
    theirs = Client()
    _login(theirs, "agent2@acme.test")
    key = UserSession.objects.get(user=acme.agent2.user).session_key
    _login(client, "agent@acme.test")
    client.post("/accounts/sessions/end/", {"session": key})
    assert theirs.get("/acme/").status_code == 200  # another person's session: untouched
    mine = Client()
    _login(mine, "agent@acme.test")
    key = UserSession.objects.filter(user=acme.agent.user).latest("created_at").session_key
    client.post("/accounts/sessions/end/", {"session": key})
    assert mine.get("/acme/").status_code == 302


def test_expired_sessions_are_cleared_by_the_housekeeping_task(acme, client):
    from tisket.tasks import sessions_clear

    _login(client, "agent@acme.test")
    UserSession.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    assert sessions_clear() == 1
    assert not UserSession.objects.exists()


def test_the_reply_box_says_the_members_signature_goes_under_the_reply(acme, inbox, web):
    from tests.mail import deliver, make_mail

    thread = deliver(make_mail(to=inbox.address)).thread
    page = web(acme.agent).get(f"/acme/threads/{thread.reference}/").content.decode()
    assert "Your signature goes under the reply" not in page
    User.objects.filter(pk=acme.agent.user.pk).update(signature="Alex <b>Acme</b>")
    page = web(acme.agent).get(f"/acme/threads/{thread.reference}/").content.decode()
    assert "Your signature goes under the reply" in page  # the server adds it, once
