"""An agent's reply sent again (a retry after an error page, a lost answer, a double
click) is stored and mailed once: the reply box and the API carry an idempotency key."""

import re
import threading
import time

import pytest
from django.core import mail
from django.db import connection, transaction

from tests.conftest import api_client, in_parallel, require_postgres
from tests.mail import deliver, make_mail
from threads import outbound
from threads.models import Message, OutboundMail
from tickets import services as tickets

KEY = "6f1c1c0e-8d9b-4c57-9a53-3f2b1e0c9d42"
REPLIES = "/api/v1/threads/{}/messages/"


def _outbound_messages() -> list[Message]:
    return list(Message.objects.filter(direction=Message.Direction.OUTBOUND))


def _reply_box(client, reference: str) -> dict[str, str]:
    """The hidden fields of the reply box as a fresh page renders them."""
    page = client.get(f"/acme/threads/{reference}/").content.decode()
    return {
        "seen": re.search(r'name="seen" value="(\d*)"', page).group(1),
        "idempotency_key": re.search(r'name="idempotency_key" value="([^"]*)"', page).group(1),
    }


def test_each_rendering_of_the_reply_box_carries_a_fresh_key(acme, inbox, web):
    reference = deliver(make_mail()).thread.reference
    first, second = (_reply_box(web(acme.agent), reference) for _ in range(2))
    assert first["idempotency_key"] and second["idempotency_key"]
    assert first["idempotency_key"] != second["idempotency_key"]


def test_the_same_reply_form_posted_twice_stores_one_message_and_sends_one_mail(
    acme, inbox, web, django_capture_on_commit_callbacks
):
    thread = deliver(make_mail()).thread
    browser = web(acme.agent)
    form = {**_reply_box(browser, thread.reference), "body": "Try again now.", "cc": ""}
    url = f"/acme/threads/{thread.reference}/reply/"
    with django_capture_on_commit_callbacks(execute=True):
        first = browser.post(url, form)
    # The client writes meanwhile; the agent's browser sends the form again.
    deliver(make_mail(subject=f"Re: [{thread.reference}] Cannot log in", body="Still stuck"))
    with django_capture_on_commit_callbacks(execute=True):
        again = browser.post(url, form, follow=True)

    [reply] = _outbound_messages()
    assert first.status_code == 302
    assert first["Location"].endswith(f"#message-{reply.pk}")
    assert again.redirect_chain[0][0] == first["Location"]
    assert "Reply sent." in again.content.decode()
    assert OutboundMail.objects.filter(kind=OutboundMail.Kind.REPLY).count() == 1
    assert len(mail.outbox) == 1
    assert reply.idempotency_key == form["idempotency_key"]


def test_a_reply_with_another_key_is_a_second_reply(
    acme, inbox, web, django_capture_on_commit_callbacks
):
    thread = deliver(make_mail()).thread
    browser = web(acme.agent)
    url = f"/acme/threads/{thread.reference}/reply/"
    for body in ("First answer.", "Second answer."):
        form = {**_reply_box(browser, thread.reference), "body": body, "cc": ""}
        with django_capture_on_commit_callbacks(execute=True):
            assert browser.post(url, form).status_code == 302
    assert [m.text for m in _outbound_messages()] == ["First answer.", "Second answer."]
    assert len(mail.outbox) == 2


def test_a_tampered_key_in_the_form_is_a_form_error_and_sends_nothing(acme, inbox, web):
    thread = deliver(make_mail()).thread
    browser = web(acme.agent)
    form = {**_reply_box(browser, thread.reference), "body": "Hello", "cc": ""}
    form["idempotency_key"] = "a key with spaces"
    response = browser.post(f"/acme/threads/{thread.reference}/reply/", form)
    assert response.status_code == 400
    assert "An idempotency key is 1 to 100 visible ASCII characters." in response.content.decode()
    assert not _outbound_messages() and not OutboundMail.objects.exists()


def test_the_api_answers_a_repeated_idempotency_key_with_the_stored_reply(
    acme, inbox, django_capture_on_commit_callbacks
):
    thread = deliver(make_mail()).thread
    api = api_client(acme.agent)
    answers = []
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            answers.append(
                api.post(
                    REPLIES.format(thread.reference),
                    {"body": "Try again now."},
                    format="json",
                    HTTP_IDEMPOTENCY_KEY=KEY,
                )
            )
    first, again = answers
    assert (first.status_code, again.status_code) == (201, 200)
    # The same message; only its delivery has moved on (it left after the first answer).
    assert {**first.json(), "delivery": None} == {**again.json(), "delivery": None}
    assert len(_outbound_messages()) == 1
    assert OutboundMail.objects.count() == 1 and len(mail.outbox) == 1


def test_api_replies_without_a_key_are_each_sent_as_today(acme, inbox):
    thread = deliver(make_mail()).thread
    api = api_client(acme.agent)
    for _ in range(2):
        response = api.post(REPLIES.format(thread.reference), {"body": "Hi"}, format="json")
        assert response.status_code == 201
    assert len(_outbound_messages()) == 2


@pytest.mark.parametrize("key", ["x" * 101, "caf\u00e9", "two words"])
def test_a_malformed_idempotency_key_is_a_400_and_stores_nothing(acme, inbox, key):
    thread = deliver(make_mail()).thread
    response = api_client(acme.agent).post(
        REPLIES.format(thread.reference), {"body": "Hi"}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert response.status_code == 400
    assert "idempotency key" in response.json()["detail"]
    assert not _outbound_messages()


def test_a_key_used_in_another_conversation_is_refused(acme, inbox):
    first = deliver(make_mail()).thread
    second = deliver(make_mail(subject="Another question")).thread
    api = api_client(acme.agent)
    assert (
        api.post(
            REPLIES.format(first.reference),
            {"body": "One"},
            format="json",
            HTTP_IDEMPOTENCY_KEY=KEY,
        ).status_code
        == 201
    )
    response = api.post(
        REPLIES.format(second.reference), {"body": "Two"}, format="json", HTTP_IDEMPOTENCY_KEY=KEY
    )
    assert response.status_code == 409
    assert [m.thread_id for m in _outbound_messages()] == [first.pk]


def test_another_organizations_key_neither_collides_nor_leaks(acme, globex, inbox, globex_inbox):
    ours = deliver(make_mail()).thread
    theirs = deliver(make_mail(to=globex_inbox.address, subject="Invoice")).thread
    secret = "Your account number is 4711."
    acme_answer = api_client(acme.agent).post(
        REPLIES.format(ours.reference), {"body": secret}, format="json", HTTP_IDEMPOTENCY_KEY=KEY
    )
    globex_answer = api_client(globex.agent).post(
        REPLIES.format(theirs.reference),
        {"body": "Here is the invoice."},
        format="json",
        HTTP_IDEMPOTENCY_KEY=KEY,
    )
    assert (acme_answer.status_code, globex_answer.status_code) == (201, 201)
    assert globex_answer.json()["id"] != acme_answer.json()["id"]
    assert "4711" not in globex_answer.content.decode()
    assert sorted(m.organization_id for m in _outbound_messages()) == sorted(
        [acme.org.pk, globex.org.pk]
    )
    assert Message.objects.get(organization=globex.org, direction="outbound").text == (
        "Here is the invoice."
    )


def _wait_until_a_session_waits_on_a_lock() -> None:
    """Until another connection to this database waits for a lock: the second insert of
    the key waits for the first one's transaction to end."""
    for _ in range(600):
        with connection.cursor() as cursor:
            # The activity view is read once per transaction unless told to read afresh.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.05)
    pytest.fail("The second submission never waited on the first one's insert.")


@pytest.mark.django_db(transaction=True)
def test_two_submissions_racing_with_one_key_store_one_reply(acme, inbox):
    require_postgres()
    thread = deliver(make_mail()).thread
    first_stored = threading.Event()

    def submit(first: bool) -> Message:
        if not first:
            first_stored.wait(timeout=60)
            try:
                tickets.thread_reply_send(
                    thread=thread, author=acme.agent, body="Hi", idempotency_key=KEY
                )
            except outbound.ReplyAlreadySent as repeated:
                return repeated.message
            pytest.fail("The second submission stored a reply of its own.")
        with transaction.atomic():
            message, _ = tickets.thread_reply_send(
                thread=thread, author=acme.agent, body="Hi", idempotency_key=KEY
            )
            first_stored.set()
            # Commit only once the second one is past its early look and waits on our insert.
            _wait_until_a_session_waits_on_a_lock()
        return message

    stored, repeated = in_parallel(submit, [True, False], workers=2)
    assert repeated.pk == stored.pk
    assert [m.pk for m in _outbound_messages()] == [stored.pk]
    assert OutboundMail.objects.count() == 1
