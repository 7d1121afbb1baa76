import hashlib
import hmac
import time
from urllib.parse import quote

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import api_client, require_postgres
from tests.mail import deliver, deliver_without_ticket, make_mail
from threads.models import InboundMail, Thread


def signed(
    body: bytes,
    *,
    recipient: str = "",
    timestamp: int | None = None,
    secret: str = "inbound-test-secret",
) -> dict[str, str]:
    """The headers of a raw inbound post signed as an MTA signs it."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    message = f"{timestamp}\n{recipient}\n".encode() + body
    return {
        "HTTP_X_TISKET_TIMESTAMP": str(timestamp),
        "HTTP_X_TISKET_SIGNATURE": hmac.new(secret.encode(), message, hashlib.sha256).hexdigest(),
    }


@pytest.fixture
def conversation(inbox):
    # A thread of its own: what the threads API does without a ticket.
    first = deliver_without_ticket(make_mail(message_id="<m1@client.test>"))
    deliver(
        make_mail(
            subject="Re: [THD-ACME-001] Cannot log in",
            body=(
                "Here is the screenshot.\n\n"
                "On Mon, 23 Nov 2026 at 10:02, Jane <jane@client.test> wrote:\n> Hello"
            ),
            attachments=[("shot.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * 32)],
        )
    )
    return first.thread


def test_the_thread_list_filters_by_inbox_status_and_text(acme, inbox, conversation):
    deliver(make_mail(subject="Invoice question", sender="ann@other.test"))
    client = api_client(acme.viewer)
    everything = client.get("/api/v1/threads/").json()["results"]
    assert [t["reference"] for t in everything] == ["THD-ACME-002", "THD-ACME-001"]
    assert everything[1]["message_count"] == 2
    assert everything[1]["inbox"] == "support"
    found = client.get("/api/v1/threads/?q=invoice").json()["results"]
    assert [t["reference"] for t in found] == ["THD-ACME-002"]
    by_reference = client.get("/api/v1/threads/?q=thd-acme-001").json()["results"]
    assert [t["reference"] for t in by_reference] == ["THD-ACME-001"]
    by_client = client.get("/api/v1/threads/?q=ANN@OTHER").json()["results"]
    assert [t["reference"] for t in by_client] == ["THD-ACME-002"]
    deliver(make_mail(subject="Hello", sender="joann@other.test"))
    # A whole address is that client's; part of one, any client's that holds it.
    whole = client.get("/api/v1/threads/?q= Ann@Other.test ").json()["results"]
    assert [t["reference"] for t in whole] == ["THD-ACME-002"]
    part = client.get("/api/v1/threads/?q=ann@other").json()["results"]
    assert [t["reference"] for t in part] == ["THD-ACME-003", "THD-ACME-002"]
    assert client.get("/api/v1/threads/?status=resolved").json()["results"] == []
    assert len(client.get(f"/api/v1/threads/?inbox={inbox.pk}&status=open").json()["results"]) == 3


def test_the_text_search_is_served_by_the_trigram_index(acme, inbox, conversation):
    require_postgres()
    from django.db import connection

    from threads.selectors import thread_text_matches

    found = Thread.objects.filter(thread_text_matches("Invoice")).values("id")
    sql, params = found.query.sql_with_params()
    with connection.cursor() as cursor:
        # With sequential scans priced out, the plan shows whether the index's
        # expressions are the very ones Django's icontains writes.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "thread_search_trgm" in plan


def test_the_thread_list_takes_a_constant_number_of_queries(acme, inbox):
    client = api_client(acme.agent)
    deliver(make_mail())
    client.get("/api/v1/threads/")
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/threads/")
    for n in range(15):
        deliver(make_mail(subject=f"question {n}", cc=f"c{n}@client.test"))
    with CaptureQueriesContext(connection) as many:
        response = client.get("/api/v1/threads/")
    assert len(response.json()["results"]) == 16
    assert len(many) == len(few)


def test_the_thread_list_pages_with_a_cursor(acme, inbox):
    for n in range(7):
        deliver(make_mail(subject=f"q{n}"))
    client = api_client(acme.agent)
    first = client.get("/api/v1/threads/?page_size=5").json()
    second = client.get(first["next"]).json()
    references = [t["reference"] for t in first["results"] + second["results"]]
    assert len(references) == len(set(references)) == 7


def test_a_thread_and_its_messages_with_attachment_links(acme, conversation):
    client = api_client(acme.agent)
    thread = client.get("/api/v1/threads/thd-acme-001/").json()
    assert thread["reference"] == "THD-ACME-001"
    assert thread["participants"][0]["email"] == "jane@client.test"
    messages = client.get("/api/v1/threads/THD-ACME-001/messages/").json()["results"]
    assert [m["direction"] for m in messages] == ["inbound", "inbound"]
    reply = messages[1]
    assert reply["visible_text"] == "Here is the screenshot."
    assert "Jane <jane@client.test> wrote" in reply["text"]
    attachment = reply["attachments"][0]
    assert attachment["content_type"] == "image/png"
    download = client.get(attachment["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"\x89PNG")
    assert "attachment" in download["Content-Disposition"]


def test_the_messages_list_takes_a_constant_number_of_queries(acme, conversation):
    client = api_client(acme.agent)
    url = "/api/v1/threads/THD-ACME-001/messages/"
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(5):
        deliver(
            make_mail(
                subject="Re: [THD-ACME-001]",
                body=f"more {n}",
                attachments=[(f"f{n}.txt", "text/plain", b"x")],
            )
        )
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(url).json()["results"]) == 7
    assert len(many) == len(few)


def test_another_organizations_thread_and_attachment_are_404(acme, globex, conversation):
    client = api_client(globex.owner)
    assert client.get("/api/v1/threads/THD-ACME-001/").status_code == 404
    assert client.get("/api/v1/threads/THD-ACME-001/messages/").status_code == 404
    assert client.patch("/api/v1/threads/THD-ACME-001/", {"status": "closed"}).status_code == 404
    attachment = conversation.messages.last().attachments.get()
    assert client.get(f"/api/v1/attachments/{attachment.pk}/download/").status_code == 404
    assert client.get("/api/v1/threads/").json()["results"] == []


def test_agents_change_a_threads_status_and_viewers_cannot(acme, conversation):
    assert (
        api_client(acme.viewer)
        .patch("/api/v1/threads/THD-ACME-001/", {"status": "resolved"}, format="json")
        .status_code
        == 403
    )
    response = api_client(acme.agent).patch(
        "/api/v1/threads/THD-ACME-001/", {"status": "resolved"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "resolved"
    bad = api_client(acme.agent).patch(
        "/api/v1/threads/THD-ACME-001/", {"status": "sleeping"}, format="json"
    )
    assert bad.status_code == 400


def test_a_thread_with_a_ticket_follows_the_ticket_and_says_so(acme, conversation):
    from tickets.services import ticket_create, ticket_thread_link

    ticket = ticket_create(organization=acme.org, subject="Login", actor=acme.agent)
    ticket_thread_link(ticket=ticket, thread=conversation, actor=acme.agent)
    conversation.refresh_from_db()
    before = conversation.status

    response = api_client(acme.agent).patch(
        "/api/v1/threads/THD-ACME-001/", {"status": "closed"}, format="json"
    )

    assert response.status_code == 409
    assert ticket.reference in response.json()["detail"]
    conversation.refresh_from_db()
    assert conversation.status == before


def test_quarantine_is_listed_released_and_discarded_through_the_api(acme, conversation):
    held = deliver(make_mail(sender="eve@evil.test", subject="Re: [THD-ACME-001] a"))
    other = deliver(make_mail(sender="mallory@evil.test", subject="Re: [THD-ACME-001] b"))
    client = api_client(acme.agent)
    listed = client.get("/api/v1/quarantine/").json()["results"]
    assert {m["id"] for m in listed} == {held.inbound.pk, other.inbound.pk}
    assert listed[0]["thread"] == "THD-ACME-001"
    assert "neither a participant" in listed[0]["reason"]
    assert (
        api_client(acme.viewer).post(f"/api/v1/quarantine/{held.inbound.pk}/release/").status_code
        == 403
    )
    released = client.post(f"/api/v1/quarantine/{held.inbound.pk}/release/")
    assert released.status_code == 200
    assert released.json()["status"] == "accepted"
    discarded = client.post(f"/api/v1/quarantine/{other.inbound.pk}/discard/")
    assert discarded.json()["status"] == "discarded"
    assert client.post(f"/api/v1/quarantine/{other.inbound.pk}/release/").status_code == 409
    assert client.get("/api/v1/quarantine/").json()["results"] == []
    assert Thread.objects.get().messages.count() == 3


def test_the_inbound_log_is_for_admins(acme, conversation):
    assert api_client(acme.agent).get("/api/v1/inbound-log/").status_code == 403
    log = api_client(acme.admin).get("/api/v1/inbound-log/?status=accepted").json()["results"]
    assert len(log) == 2
    assert log[0]["source"] == "test"


def post_raw(client, body: bytes, *, recipient: str | None = None, **headers):
    url = "/api/v1/inbound/raw/"
    if recipient is not None:
        url += f"?recipient={quote(recipient)}"
    return client.post(url, body, content_type="message/rfc822", **headers)


def test_raw_mail_with_a_good_signature_is_accepted(
    client, inbox, django_capture_on_commit_callbacks
):
    body = make_mail(subject="from postfix")
    headers = signed(body, recipient=inbox.address)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_raw(client, body, recipient=inbox.address, **headers)
    assert response.status_code == 202
    assert response.json()["duplicate"] is False
    mail = InboundMail.objects.get()
    assert mail.source == "raw"
    assert mail.envelope_recipient == inbox.address
    assert mail.status == InboundMail.Status.ACCEPTED
    again = post_raw(client, body, recipient=inbox.address, **headers)
    assert again.status_code == 202
    assert again.json()["duplicate"] is True
    assert InboundMail.objects.count() == 1


def test_a_signed_recipient_with_a_plus_and_an_empty_recipient_are_accepted(client, inbox):
    body = make_mail()
    tagged = "support.acme+abc123@in.tisket.test"
    assert (
        post_raw(client, body, recipient=tagged, **signed(body, recipient=tagged)).status_code
        == 202
    )
    assert post_raw(client, body, **signed(body)).status_code == 202
    assert set(InboundMail.objects.values_list("envelope_recipient", flat=True)) == {tagged, ""}


@pytest.mark.parametrize("signature", [None, "", "00" * 32, "not-hex"])
def test_raw_mail_with_a_bad_or_missing_signature_is_401_and_nothing_stored(
    client, inbox, signature
):
    headers = signed(make_mail())
    if signature is None:
        del headers["HTTP_X_TISKET_SIGNATURE"]
    else:
        headers["HTTP_X_TISKET_SIGNATURE"] = signature
    response = post_raw(client, make_mail(), **headers)
    assert response.status_code == 401
    assert "Signature" in response.json()["detail"]
    assert not InboundMail.objects.exists()


def test_a_signature_of_another_body_is_refused(client, inbox):
    response = post_raw(client, make_mail(), **signed(b"other body"))
    assert response.status_code == 401
    assert not InboundMail.objects.exists()


def test_the_old_signature_of_the_body_alone_is_refused(client, inbox):
    body = make_mail()
    old = hmac.new(b"inbound-test-secret", body, hashlib.sha256).hexdigest()
    for headers in (
        {"HTTP_X_TISKET_SIGNATURE": old},
        {"HTTP_X_TISKET_SIGNATURE": old, "HTTP_X_TISKET_TIMESTAMP": str(int(time.time()))},
    ):
        response = post_raw(client, body, recipient=inbox.address, **headers)
        assert response.status_code == 401
        assert "X-Tisket-" in response.json()["detail"]
    assert not InboundMail.objects.exists()


def test_a_request_signed_for_one_recipient_is_refused_for_another(client, inbox):
    body = make_mail()
    headers = signed(body, recipient=inbox.address)
    assert post_raw(client, body, recipient=inbox.address, **headers).status_code == 202
    for other in ("sales.acme@in.tisket.test", ""):
        response = post_raw(client, body, recipient=other, **headers)
        assert response.status_code == 401
        assert "Signature" in response.json()["detail"]
    assert list(InboundMail.objects.values_list("envelope_recipient", flat=True)) == [inbox.address]


def test_a_captured_request_cannot_be_split_anew_into_another_recipient_and_body(client, inbox):
    """With a separator that addresses contain, "support" + "acme@…" + body signed alike."""
    body = make_mail()
    headers = signed(body, recipient=inbox.address)
    local, _, rest = inbox.address.partition(".")
    moved = f"{rest}\n".encode() + body
    assert post_raw(client, moved, recipient=local, **headers).status_code == 401
    assert not InboundMail.objects.exists()


@pytest.mark.parametrize("signature", ["é" * 64, "\u00ff", "0" * 63 + "é"])
def test_a_signature_that_is_not_hex_is_a_401_not_a_500(client, inbox, signature):
    body = make_mail()
    headers = signed(body, recipient=inbox.address) | {"HTTP_X_TISKET_SIGNATURE": signature}
    response = post_raw(client, body, recipient=inbox.address, **headers)
    assert response.status_code == 401
    assert not InboundMail.objects.exists()


def test_a_recipient_with_a_line_break_is_refused(client, inbox):
    body = make_mail()
    recipient = f"{inbox.address}\nx"
    response = post_raw(client, body, recipient=recipient, **signed(body, recipient=recipient))
    assert response.status_code == 401
    assert "line break" in response.json()["detail"]


@pytest.mark.parametrize("offset", [-301, 301, -86_400 * 365])
def test_a_request_signed_outside_the_window_is_refused(client, inbox, offset):
    body = make_mail()
    headers = signed(body, recipient=inbox.address, timestamp=int(time.time()) + offset)
    response = post_raw(client, body, recipient=inbox.address, **headers)
    assert response.status_code == 401
    assert "300 seconds" in response.json()["detail"]
    assert not InboundMail.objects.exists()


def test_a_replay_of_a_stored_mail_outside_the_window_is_refused(client, inbox, settings):
    body = make_mail()
    headers = signed(body, recipient=inbox.address)
    assert post_raw(client, body, recipient=inbox.address, **headers).status_code == 202
    with time_machine.travel(time.time() + 301, tick=False):
        replay = post_raw(client, body, recipient=inbox.address, **headers)
    assert replay.status_code == 401
    settings.TISKET_INBOUND_SIGNATURE_WINDOW = 600
    with time_machine.travel(time.time() + 301, tick=False):
        assert post_raw(client, body, recipient=inbox.address, **headers).status_code == 202
    assert InboundMail.objects.count() == 1


@pytest.mark.parametrize("timestamp", ["", "soon", "-5", "1e9", "\uff11\uff12\uff13", "9" * 40])
def test_a_malformed_timestamp_is_refused(client, inbox, timestamp):
    body = make_mail()
    headers = signed(body)
    headers["HTTP_X_TISKET_TIMESTAMP"] = timestamp
    response = post_raw(client, body, **headers)
    assert response.status_code == 401
    assert "X-Tisket-Timestamp" in response.json()["detail"]
    assert not InboundMail.objects.exists()


def test_raw_mail_is_off_without_a_secret(client, inbox, settings):
    settings.TISKET_INBOUND_SECRET = ""
    body = make_mail()
    response = post_raw(client, body, **signed(body))
    assert response.status_code == 503
    assert not InboundMail.objects.exists()


def test_an_empty_raw_body_is_a_400(client, db):
    response = post_raw(client, b"", **signed(b""))
    assert response.status_code == 400


def test_an_attachment_download_is_documented_with_any_content_type_and_410(client, db):
    schema = client.get("/api/schema/?format=json").json()
    responses = schema["paths"]["/api/v1/attachments/{id}/download/"]["get"]["responses"]
    assert list(responses["200"]["content"]) == ["*/*"]
    assert responses["410"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }


def test_an_attachment_downloads_with_its_own_content_type(acme, inbox, conversation):
    attachment = conversation.messages.last().attachments.get()
    response = api_client(acme.viewer).get(f"/api/v1/attachments/{attachment.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"


@pytest.mark.parametrize("value", ["638000542754786748009545728", "9223372036854775808", "²", "-1"])
def test_an_inbox_filter_that_can_name_no_inbox_is_a_400(acme, inbox, value):
    """Found by the fuzz: a number beyond the id range reached the database (a 500)."""
    deliver(make_mail())
    response = api_client(acme.agent).get("/api/v1/threads/", {"inbox": value})
    assert response.status_code == 400
    assert "inbox" in response.json()
    assert api_client(acme.agent).get("/api/v1/threads/", {"inbox": inbox.pk}).status_code == 200
