"""Cases found in review: each failed before its fix."""

import base64
import threading

import pytest
from django.db import connections, transaction
from django.utils import timezone

from inboxes.services import inbox_create, inbox_update
from tests.conftest import require_postgres
from tests.factories import OrganizationFactory
from tests.mail import deliver, make_mail
from threads import ingest
from threads.inbound import inbound_record
from threads.models import InboundMail, Thread
from tickets import intake
from tickets.intake import mail_after_store
from tisket.lib.mail.parse import parse_mail

S = InboundMail.Status


def test_nul_bytes_anywhere_in_a_mail_are_dropped_not_fatal(inbox):
    body = base64.b64encode(b"Hello\x00 there").decode()
    raw = (
        "From: Jane <jane@client.test>\r\nTo: support.acme@in.tisket.test\r\n"
        'Cc: "Bo\x00b" <bob@client.test>\r\n'
        "Subject: nul\r\nMessage-ID: <ms\x00gid@client.test>\r\nIn-Reply-To: <x\x00y@z>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        "--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        f"{body}\r\n--b\r\nContent-Type: image/png\r\nContent-ID: <pi\x00c>\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--b--\r\n"
    ).encode()
    mail, _ = inbound_record(raw=raw, source="test", stripped_text="a\x00b")
    result = intake.mail_process(inbound_id=mail.pk)
    assert result.inbound.status == S.ACCEPTED, result.inbound.reason
    message = result.message
    assert message.text == "Hello there"
    assert message.message_id == "msgid@client.test"
    assert message.cc == []  # a Cc header with a NUL is malformed: no address is trusted
    assert message.visible_text == "ab"
    assert message.attachments.get().content_id == "pic"


def test_a_nul_in_the_senders_name_is_a_quarantine_not_a_crash(inbox):
    raw = make_mail(sender="placeholder@x.test").replace(
        b"From: placeholder@x.test", b'From: "Ja\x00ne" <jane@client.test>'
    )
    result = deliver(raw)
    assert result.inbound.status == S.QUARANTINED
    assert "non-printable" in result.inbound.reason


@pytest.mark.parametrize(
    "to",
    [
        "support.acme@in.tisket.test," + " " * 5000 + "!",
        "support.acme@in.tisket.test, " + "a " * 3000 + "<x@y.z",
        '"' + " " * 5000,
    ],
)
def test_pathological_address_headers_are_parsed_in_linear_time(inbox, to):
    # With the old fast-path pattern each of these took minutes to hours.
    parsed = parse_mail(
        make_mail().replace(b"To: support.acme@in.tisket.test", b"To: " + to.encode())
    )
    assert parsed.from_email == "jane@client.test"


def test_control_characters_in_a_quoted_name_go_to_the_strict_parser(inbox):
    raw = make_mail(sender="placeholder@x.test").replace(
        b"From: placeholder@x.test", b'From: "\x1b[31mEvil" <eve@evil.test>'
    )
    result = deliver(raw)
    assert "\x1b" not in result.inbound.from_email
    if result.message is not None:
        assert "\x1b" not in result.message.from_name


def test_a_release_never_moves_a_mail_into_another_organizations_thread(inbox, globex, acme):
    inbox_update(inbox=inbox, extra_addresses=["help@shared.test"], outside_domain_allowed=True)
    deliver(make_mail(to="help@shared.test", message_id="<q@client.test>"))
    held = deliver(
        make_mail(to="help@shared.test", sender="eve@evil.test", in_reply_to="<q@client.test>")
    )
    assert held.inbound.status == S.QUARANTINED
    inbox_update(inbox=inbox, extra_addresses=[])
    theirs = inbox_create(
        organization=globex.org,
        name="help",
        extra_addresses=["help@shared.test"],
        outside_domain_allowed=True,
    )
    result = intake.mail_release(inbound_mail=held.inbound, actor=acme.agent)
    assert result.inbound.status == S.QUARANTINED
    assert "another organization" in result.inbound.reason
    assert not Thread.objects.filter(organization=globex.org).exists()
    assert theirs.threads.count() == 0


def test_our_own_address_is_no_participant_within_a_batch_either(inbox):
    ids = [
        inbound_record(raw=raw, source="test")[0].pk
        for raw in (
            make_mail(message_id="<q@client.test>"),
            make_mail(sender="support.acme@in.tisket.test", in_reply_to="<q@client.test>"),
        )
    ]
    results = ingest.ingest(after_store=mail_after_store, ids=ids)
    assert [r.inbound.status for r in results] == [S.ACCEPTED, S.QUARANTINED]


def test_a_failed_batch_leaves_no_attachment_files(inbox, monkeypatch, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    real = ingest.store.rows_update

    def fail_once(rows):
        monkeypatch.setattr(ingest.store, "rows_update", real)
        raise RuntimeError("disk full")

    monkeypatch.setattr(ingest.store, "rows_update", fail_once)
    ids = [
        inbound_record(
            raw=make_mail(attachments=[(f"{n}.txt", "text/plain", f"{n}".encode())]),
            source="t",
        )[0].pk
        for n in range(2)
    ]
    results = ingest.ingest(
        after_store=mail_after_store, ids=ids
    )  # the batch fails, then each mail alone succeeds
    assert [r.inbound.status for r in results] == [S.ACCEPTED, S.ACCEPTED]
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 2  # exactly the two stored attachments, no orphans


@pytest.mark.django_db(transaction=True)
def test_a_reply_waits_while_another_worker_holds_its_question():
    require_postgres()
    org = OrganizationFactory(slug="acme", code="ACME")
    support = inbox_create(organization=org, name="support", auto_ack_enabled=False)
    question = inbound_record(
        raw=make_mail(to=support.address, message_id="<q@client.test>"), source="t"
    )[0]
    reply = inbound_record(
        raw=make_mail(to=support.address, in_reply_to="<q@client.test>", subject="Re: q"),
        source="t",
    )[0]
    holding, release = threading.Event(), threading.Event()

    def other_worker() -> None:
        try:
            with transaction.atomic():
                InboundMail.objects.select_for_update().get(pk=question.pk)
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    worker = threading.Thread(target=other_worker)
    worker.start()
    holding.wait(10)
    try:
        assert (
            ingest.ingest(after_store=mail_after_store, ids=[reply.pk]) == []
        )  # deferred, not matched wrong
        reply.refresh_from_db()
        assert reply.status == S.PENDING
    finally:
        release.set()
        worker.join()
    results = ingest.ingest(after_store=mail_after_store)
    assert [r.inbound.status for r in results] == [S.ACCEPTED, S.ACCEPTED]
    assert results[0].thread == results[1].thread


def _pending(*subjects: str) -> list[int]:
    return [inbound_record(raw=make_mail(subject=s), source="t")[0].pk for s in subjects]


def test_a_mail_that_stopped_the_worker_goes_alone_then_is_set_aside(inbox):
    suspect, other = _pending("suspect", "other")
    # One run began, its claim ran out, it never finished: its worker died.
    InboundMail.objects.filter(pk=suspect).update(claims=1, claimed_until=timezone.now())
    assert [r.inbound.pk for r in ingest.ingest(after_store=mail_after_store)] == [suspect]  # alone
    assert [r.inbound.pk for r in ingest.ingest(after_store=mail_after_store)] == [other]
    poison, *_ = _pending("poison")
    InboundMail.objects.filter(pk=poison).update(claims=ingest.claims.MAX_RUNS)
    assert ingest.ingest(after_store=mail_after_store) == []
    poison_row = InboundMail.objects.get(pk=poison)
    assert poison_row.status == S.FAILED
    assert "stopped the worker" in poison_row.reason
    assert intake.mail_retry(inbound_mail=poison_row).inbound.status == S.ACCEPTED


def test_a_batch_stops_at_its_byte_budget_oldest_first(inbox, monkeypatch):
    first, second, third = _pending("a", "b", "c")
    sizes = dict(InboundMail.objects.values_list("pk", "raw_size"))
    monkeypatch.setattr(ingest.claims, "BATCH_BYTES", sizes[first] + sizes[second])
    assert [r.inbound.pk for r in ingest.ingest(after_store=mail_after_store)] == [first, second]
    assert [r.inbound.pk for r in ingest.ingest(after_store=mail_after_store)] == [third]


def test_a_failed_release_keeps_the_mail_held_with_the_reason(inbox, acme, monkeypatch):
    deliver(make_mail(message_id="<q@client.test>"))
    held = deliver(
        make_mail(sender="eve@evil.test", in_reply_to="<q@client.test>", html="<p>x</p>")
    )
    monkeypatch.setattr(ingest.prepare, "attachments_prepare", lambda **kwargs: 1 / 0)
    result = intake.mail_release(inbound_mail=held.inbound, actor=acme.agent)
    assert result.inbound.status == S.QUARANTINED
    assert result.inbound.reason.startswith("Release failed: ZeroDivisionError")
