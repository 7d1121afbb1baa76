"""Many mails in one batch: each decided as if it came alone, in order."""

import pytest

from inboxes.services import inbox_create
from tests.conftest import in_parallel, require_postgres
from tests.factories import OrganizationFactory
from tests.mail import make_mail
from threads import ingest
from threads.inbound import inbound_record
from threads.models import InboundMail, Message, Thread
from tickets.intake import mail_after_store
from tickets.intake.wake import intake_run

S = InboundMail.Status


def receive(*raws: bytes, recipient: str = "") -> list[int]:
    return [inbound_record(raw=raw, source="test", recipient=recipient)[0].pk for raw in raws]


def test_one_batch_decides_each_mail_as_if_it_came_alone(inbox, monkeypatch):
    real = ingest.prepare.attachments_prepare

    def storage(**kwargs):
        if any(part.filename == "boom.txt" for part in kwargs["parts"]):
            raise RuntimeError("boom")
        return real(**kwargs)

    monkeypatch.setattr(ingest.prepare, "attachments_prepare", storage)
    question = make_mail(message_id="<q@client.test>", subject="Question")
    ids = receive(
        question,
        make_mail(subject="Re: Question", in_reply_to="<q@client.test>", body="more"),
        b"Received: by another relay\r\n" + question,
        make_mail(sender="eve@evil.test", in_reply_to="<q@client.test>", subject="Re: Q"),
        make_mail(subject="breaks our code", attachments=[("boom.txt", "text/plain", b"x")]),
        make_mail(to="nobody@in.tisket.test", subject="lost"),
        make_mail(subject="Another question", sender="ann@other.test"),
    )
    results = ingest.ingest(after_store=mail_after_store, ids=ids)
    statuses = [r.inbound.status for r in results]
    assert statuses == [
        S.ACCEPTED,
        S.ACCEPTED,
        S.DUPLICATE,
        S.QUARANTINED,
        S.FAILED,
        S.REJECTED,
        S.ACCEPTED,
    ]
    question_thread = results[0].thread
    assert results[1].thread == question_thread
    assert question_thread.message_count == 2
    assert results[2].inbound.message == results[0].message
    assert results[3].inbound.thread == question_thread
    assert "boom" in results[4].inbound.reason
    assert [t.reference for t in Thread.objects.order_by("number")] == [
        "THD-ACME-001",
        "THD-ACME-002",
    ]
    assert Thread.objects.get(number=1).message_count == 2
    assert Message.objects.count() == 3
    # The failed one is retried on its own once fixed.
    monkeypatch.setattr(ingest.prepare, "attachments_prepare", real)
    retried = ingest.ingest(after_store=mail_after_store, ids=[ids[4]], from_status=S.FAILED)
    assert retried[0].inbound.status == S.ACCEPTED
    assert retried[0].thread.reference == "THD-ACME-003"


def test_a_batch_whose_writes_fail_is_run_again_mail_by_mail(inbox, monkeypatch):
    calls = {"n": 0}
    real = ingest.store.messages_store

    def fails_on_the_first_batch(accepted, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1 and len(accepted) > 1:
            raise RuntimeError("database hiccup")
        return real(accepted, **kwargs)

    monkeypatch.setattr(ingest.store, "messages_store", fails_on_the_first_batch)
    ids = receive(make_mail(subject="a"), make_mail(subject="b"), make_mail(subject="c"))
    results = ingest.ingest(after_store=mail_after_store, ids=ids)
    assert [r.inbound.status for r in results] == [S.ACCEPTED] * 3
    assert Thread.objects.count() == 3


def test_the_queue_is_drained_in_batches(inbox):
    receive(*(make_mail(subject=f"q{n}") for n in range(ingest.BATCH_SIZE + 5)))
    assert intake_run(after_store=mail_after_store) == ingest.BATCH_SIZE + 5
    assert not InboundMail.objects.filter(status=S.PENDING).exists()
    assert Thread.objects.count() == ingest.BATCH_SIZE + 5
    assert intake_run(after_store=mail_after_store) == 0


@pytest.mark.django_db(transaction=True)
def test_workers_draining_at_once_store_each_mail_once_with_gap_free_references():
    require_postgres()
    org = OrganizationFactory(slug="acme", code="ACME")
    support = inbox_create(organization=org, name="support", auto_ack_enabled=False)
    question = make_mail(message_id="<dup@client.test>", to=support.address)
    receive(*(make_mail(subject=f"q{n}", to=support.address) for n in range(300)))
    receive(*(f"Received: by relay{n}\r\n".encode() + question for n in range(20)))

    assert (
        sum(in_parallel(lambda _: intake_run(after_store=mail_after_store), range(4), workers=4))
        == 320
    )
    assert Message.objects.count() == 301
    assert sorted(InboundMail.objects.values_list("status", flat=True)).count(S.DUPLICATE) == 19
    numbers = sorted(Thread.objects.values_list("number", flat=True))
    assert numbers == list(range(1, 302))
