import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from inboxes.services import inbox_create, inbox_update
from tests.mail import deliver, deliver_without_ticket, make_mail
from threads import inbound, ingest
from threads.models import (
    Attachment,
    InboundMail,
    Message,
    Participant,
    Thread,
    attachment_content_key,
)
from threads.services import thread_set_status
from tickets import intake
from tickets.intake import wake
from tisket.lib.reply_tokens import reply_token_make

ACCEPTED = InboundMail.Status.ACCEPTED


def first_thread(inbox) -> tuple[Thread, Message]:
    result = deliver_without_ticket(
        make_mail(message_id="<first@client.test>", cc="Bob <bob@client.test>")
    )
    assert result.inbound.status == ACCEPTED, result.inbound.reason
    return result.thread, result.message


def test_a_new_mail_opens_a_thread_with_the_next_reference(inbox):
    thread, message = first_thread(inbox)
    assert thread.reference == "THD-ACME-001"
    assert thread.inbox == inbox
    assert thread.subject == "Cannot log in"
    assert thread.client_email == "jane@client.test"
    assert thread.message_count == 1
    assert message.direction == Message.Direction.INBOUND
    assert message.from_name == "Jane Client"
    assert message.message_id == "first@client.test"
    assert message.visible_text.startswith("Hello, I cannot log in")
    assert set(thread.participants.values_list("email", flat=True)) == {
        "jane@client.test",
        "bob@client.test",
    }
    second = deliver(make_mail(subject="Another question"))
    assert second.thread.reference == "THD-ACME-002"


def test_our_own_addresses_never_become_participants(inbox):
    result = deliver(make_mail(cc="support.acme@in.tisket.test, Bob <bob@client.test>"))
    assert "support.acme@in.tisket.test" not in set(
        result.thread.participants.values_list("email", flat=True)
    )


def test_a_reply_to_the_signed_reply_address_joins_its_thread(inbox):
    thread, _ = first_thread(inbox)
    token = reply_token_make(thread.pk)
    result = deliver(
        make_mail(to=f"support.acme+{token}@in.tisket.test", subject="no reference at all")
    )
    assert result.thread == thread
    assert Thread.objects.count() == 1


def test_a_reply_naming_a_known_message_id_joins_its_thread(inbox):
    thread, _ = first_thread(inbox)
    result = deliver(make_mail(subject="Re: hm", in_reply_to="<first@client.test>"))
    assert result.thread == thread
    result = deliver(make_mail(subject="x", references="<nope@x> <first@client.test>"))
    assert result.thread == thread


def test_a_subject_reference_from_a_participant_joins_its_thread(inbox):
    thread, _ = first_thread(inbox)
    result = deliver(make_mail(sender="bob@client.test", subject="Re: [THD-ACME-001] Cannot"))
    assert result.inbound.status == ACCEPTED
    assert result.thread == thread


def test_a_strangers_reply_with_a_valid_subject_token_is_quarantined(inbox):
    thread, _ = first_thread(inbox)
    result = deliver(make_mail(sender="eve@evil.test", subject="Re: [THD-ACME-001] give me data"))
    mail = result.inbound
    assert mail.status == InboundMail.Status.QUARANTINED
    assert "eve@evil.test" in mail.reason
    assert "THD-ACME-001" in mail.reason
    assert mail.thread == thread
    assert thread.messages.count() == 1


def test_a_strangers_reply_by_token_or_message_id_is_quarantined_too(inbox):
    thread, _ = first_thread(inbox)
    token = reply_token_make(thread.pk)
    by_token = deliver(make_mail(sender="eve@evil.test", to=f"support.acme+{token}@in.tisket.test"))
    by_ref = deliver(make_mail(sender="eve@evil.test", in_reply_to="<first@client.test>"))
    assert by_token.inbound.status == InboundMail.Status.QUARANTINED
    assert by_ref.inbound.status == InboundMail.Status.QUARANTINED


def test_releasing_a_quarantined_mail_adds_it_and_its_sender(inbox, acme):
    thread, _ = first_thread(inbox)
    held = deliver(make_mail(sender="carol@client.test", subject="Re: [THD-ACME-001] me too"))
    result = intake.mail_release(inbound_mail=held.inbound, actor=acme.agent)
    assert result.inbound.status == ACCEPTED
    assert result.inbound.decided_by == acme.agent
    assert result.thread == thread
    assert thread.messages.count() == 2
    assert Participant.objects.filter(thread=thread, email="carol@client.test").exists()
    # Now a participant, Carol's next mail goes straight in.
    again = deliver(make_mail(sender="carol@client.test", subject="Re: [THD-ACME-001] again"))
    assert again.inbound.status == ACCEPTED


def test_discarding_a_quarantined_mail_keeps_it_out_and_logged(inbox, acme):
    first_thread(inbox)
    held = deliver(make_mail(sender="eve@evil.test", subject="Re: [THD-ACME-001] x"))
    mail = inbound.quarantine_discard(inbound=held.inbound, actor=acme.agent)
    assert mail.status == InboundMail.Status.DISCARDED
    assert Message.objects.count() == 1
    with pytest.raises(inbound.InboundStateError):
        intake.mail_release(inbound_mail=mail, actor=acme.agent)


def test_a_member_may_write_into_any_thread_and_it_counts_as_the_desk_answering(inbox, acme):
    thread, _ = first_thread(inbox)
    result = deliver(
        make_mail(
            sender="Agent <AGENT@acme.test>",
            to="jane@client.test",
            cc="support.acme@in.tisket.test",
            subject="Re: [THD-ACME-001] Cannot log in",
            authenticated=True,
        )
    )
    assert result.thread == thread
    assert result.message.direction == Message.Direction.OUTBOUND
    assert result.message.author == acme.agent


def test_a_token_of_another_organization_is_ignored(inbox, globex_inbox):
    theirs = deliver(make_mail(to="help.globex@in.tisket.test", message_id="<g1@client.test>"))
    token = reply_token_make(theirs.thread.pk)
    ours = deliver(make_mail(to=f"support.acme+{token}@in.tisket.test"))
    assert ours.inbound.status == ACCEPTED
    assert ours.thread.organization == inbox.organization
    assert ours.thread != theirs.thread
    assert theirs.thread.messages.count() == 1


def test_a_message_id_or_subject_reference_of_another_organization_is_ignored(inbox, globex_inbox):
    theirs = deliver(make_mail(to="help.globex@in.tisket.test", message_id="<g1@client.test>"))
    by_ref = deliver(make_mail(in_reply_to="<g1@client.test>", subject="Re: x"))
    by_subject = deliver(make_mail(subject=f"Re: [{theirs.thread.reference}] x"))
    for result in (by_ref, by_subject):
        assert result.thread.organization == inbox.organization
    assert theirs.thread.messages.count() == 1


def test_a_forged_reply_token_is_ignored(inbox):
    thread, _ = first_thread(inbox)
    token = reply_token_make(thread.pk)
    forged = token[:-1] + ("0" if token[-1] != "0" else "1")
    result = deliver(make_mail(to=f"support.acme+{forged}@in.tisket.test", subject="new"))
    assert result.thread != thread


def test_mail_to_an_unknown_address_is_rejected_with_the_reason(inbox):
    result = deliver(make_mail(to="nobody@in.tisket.test"))
    assert result.inbound.status == InboundMail.Status.REJECTED
    assert "nobody@in.tisket.test" in result.inbound.reason
    assert not Thread.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "recipient"),
    [
        ({"to": "SUPPORT.ACME@IN.TISKET.TEST"}, ""),
        ({"to": "support.acme+anything@in.tisket.test"}, ""),
        ({"to": "someone@else.test", "cc": "support.acme@in.tisket.test"}, ""),
        ({"to": "list@else.test", "headers": {"Delivered-To": "support.acme@in.tisket.test"}}, ""),
        ({"to": "list@else.test", "headers": {"X-Original-To": "support.acme@in.tisket.test"}}, ""),
        ({"to": "undisclosed-recipients:;"}, "support.acme@in.tisket.test"),
    ],
)
def test_routing_uses_envelope_to_cc_and_delivery_headers(inbox, kwargs, recipient):
    result = deliver(make_mail(**kwargs), recipient=recipient)
    assert result.inbound.status == ACCEPTED, result.inbound.reason
    assert result.thread.inbox == inbox


def test_an_extra_address_routes_to_its_inbox(inbox):
    inbox_update(
        inbox=inbox, extra_addresses=["help@acme-client.test"], outside_domain_allowed=True
    )
    result = deliver(make_mail(to="Help <HELP@acme-client.test>"))
    assert result.thread.inbox == inbox


def test_the_same_mail_delivered_again_is_stored_once(inbox):
    raw = make_mail()
    assert deliver(raw).inbound.status == ACCEPTED
    _, created = inbound.inbound_record(raw=raw, source="test")
    assert not created
    # Redelivered with other trace headers (another relay), still one message.
    relayed = b"Received: from relay2.example by mx\r\n" + raw
    assert deliver(relayed).inbound.status == InboundMail.Status.DUPLICATE
    assert Message.objects.count() == 1


def test_the_edge_records_every_column_and_a_duplicate_leaves_the_transaction_usable(inbox):
    raw = make_mail(message_id="<edge@client.test>")
    mail, created = inbound.inbound_record(
        raw=raw, source="anymail:postmark", recipient="Support.ACME@in.tisket.test",
        stripped_text="Hello",
    )  # fmt: skip
    assert created
    stored = InboundMail.objects.get(pk=mail.pk)
    assert (stored.source, stored.envelope_recipient, stored.raw_bytes()) == (
        "anymail:postmark", "support.acme@in.tisket.test", raw,
    )  # fmt: skip
    assert (stored.status, stored.attempts, stored.reason, stored.raw_size) == (
        InboundMail.Status.PENDING, 0, "", len(raw),
    )  # fmt: skip
    assert (stored.message_id_header, stored.esp_stripped_text) == ("edge@client.test", "Hello")
    assert stored.received_at == mail.received_at

    again, created = inbound.inbound_record(
        raw=raw, source="raw", recipient="support.acme@in.tisket.test"
    )
    assert not created and again.pk == mail.pk
    assert InboundMail.objects.count() == 1  # the test's transaction still answers


def test_a_large_mail_delivered_again_leaves_no_second_file(inbox, settings):
    settings.TISKET_INBOUND_INLINE_MAX_BYTES = 100
    raw = make_mail(body="x" * 500)
    first, created = inbound.inbound_record(raw=raw, source="test")
    assert created and first.raw_data is None
    storage = first.raw_file.storage
    folder = first.raw_file.name.rsplit("/", 1)[0]
    files_before = storage.listdir(folder)[1]

    again, created = inbound.inbound_record(raw=raw, source="test")

    assert not created and again.pk == first.pk
    assert storage.listdir(folder)[1] == files_before
    assert InboundMail.objects.get(pk=first.pk).raw_bytes() == raw


def test_a_mail_without_message_id_is_deduplicated_by_content(inbox):
    raw = make_mail(message_id="")
    assert b"Message-ID" not in raw
    first = deliver(raw)
    again = deliver(b"Received: from elsewhere\r\n" + raw)
    assert first.inbound.status == ACCEPTED
    assert again.inbound.status == InboundMail.Status.DUPLICATE


def test_one_mail_to_two_inboxes_of_one_organization_is_stored_once_in_the_first_named(acme):
    sales = inbox_create(organization=acme.org, name="sales", auto_ack_enabled=False)
    support = inbox_create(organization=acme.org, name="support", auto_ack_enabled=False)
    raw = make_mail(to="sales.acme@in.tisket.test, support.acme@in.tisket.test")
    # Delivered once per envelope recipient, the second delivery processed first.
    second = deliver(raw, recipient=support.address)
    first = deliver(raw, recipient=sales.address)
    assert second.inbound.status == ACCEPTED
    assert first.inbound.status == InboundMail.Status.DUPLICATE
    assert Message.objects.get().thread.inbox == sales


def test_two_organizations_receiving_one_mail_each_get_their_copy(inbox, globex_inbox):
    raw = make_mail(to="support.acme@in.tisket.test, help.globex@in.tisket.test")
    ours = deliver(raw, recipient=inbox.address)
    theirs = deliver(raw, recipient=globex_inbox.address)
    assert ours.inbound.status == theirs.inbound.status == ACCEPTED
    assert ours.thread.organization != theirs.thread.organization
    assert theirs.thread.reference == "THD-GLX-001"


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"headers": {"Auto-Submitted": "auto-replied"}}, "Auto-Submitted"),
        ({"headers": {"Precedence": "bulk"}}, "Precedence"),
        ({"headers": {"X-Autoreply": "yes"}}, "X-Autoreply"),
        ({"headers": {"X-Auto-Response-Suppress": "All"}}, "X-Auto-Response-Suppress"),
        ({"headers": {"List-Id": "<news.client.test>"}}, "mailing list"),
        ({"headers": {"List-Unsubscribe": "<mailto:u@x.test>"}}, "mailing list"),
        ({"headers": {"Return-Path": "<>"}}, "null Return-Path"),
        ({"sender": "MAILER-DAEMON@client.test"}, "automatic sender"),
        ({"sender": "no-reply@client.test"}, "automatic sender"),
        ({"sender": "postmaster@client.test"}, "automatic sender"),
        ({"sender": "sales.acme@in.tisket.test"}, "loop"),
        ({"subject": "Out of Office: back Monday"}, "automatic subject"),
    ],
)
def test_automatic_mail_is_stored_and_flagged(inbox, kwargs, reason):
    result = deliver(make_mail(**kwargs))
    assert result.inbound.status == ACCEPTED
    assert reason in result.message.automated_reason
    assert result.message.is_automated


def test_a_person_writing_is_not_flagged(inbox):
    result = deliver(make_mail(headers={"Auto-Submitted": "no", "Precedence": "normal"}))
    assert result.message.automated_reason == ""


def test_a_delivery_report_from_the_corpus_is_flagged(inbox):
    from tests.mail import CORPUS

    raw = (CORPUS / "cpython/msg_16.txt").read_bytes()
    result = deliver(raw, recipient=inbox.address)
    assert result.inbound.status == ACCEPTED
    assert result.message.is_automated


def test_a_resolved_thread_reopens_on_a_client_message_but_not_on_an_auto_reply(inbox):
    thread, _ = first_thread(inbox)
    thread_set_status(thread=thread, status=Thread.Status.RESOLVED, actor=None)
    deliver(make_mail(subject="Re: [THD-ACME-001]", headers={"Auto-Submitted": "auto-replied"}))
    thread.refresh_from_db()
    assert thread.status == Thread.Status.RESOLVED
    deliver(make_mail(subject="Re: [THD-ACME-001] still broken"))
    thread.refresh_from_db()
    assert thread.status == Thread.Status.OPEN
    assert thread.message_count == 3


def test_a_reply_to_a_closed_thread_starts_a_new_one(inbox):
    thread, _ = first_thread(inbox)
    thread_set_status(thread=thread, status=Thread.Status.CLOSED, actor=None)
    result = deliver(make_mail(subject="Re: [THD-ACME-001] one more thing"))
    assert result.thread != thread
    assert result.thread.reference == "THD-ACME-002"


@pytest.mark.parametrize(
    "sender",
    [
        "alice@example.org <bob@evil.test>",
        "bob@a.test@evil.test",
        "nobody",
        "",
    ],
)
def test_a_crafted_or_missing_from_never_yields_a_sender(inbox, sender):
    result = deliver(make_mail(sender=sender) if sender else _without_from(make_mail()))
    assert result.inbound.status == InboundMail.Status.QUARANTINED
    assert "sender" in result.inbound.reason.lower()
    assert not Message.objects.exists()


def _without_from(raw: bytes) -> bytes:
    return b"\n".join(line for line in raw.split(b"\n") if not line.startswith(b"From:"))


def test_an_encoded_display_name_cannot_smuggle_an_address(inbox):
    raw = make_mail(sender="placeholder@client.test").replace(
        b"From: placeholder@client.test", b"From: =?utf-8?q?jane=40client.test?= <eve@evil.test>"
    )
    result = deliver(raw)
    assert result.message.from_email == "eve@evil.test"
    assert result.message.from_name == "jane@client.test"


def test_a_subject_with_encoded_line_breaks_is_stored_on_one_line(inbox):
    raw = make_mail(subject="placeholder").replace(
        b"Subject: placeholder", b"Subject: =?utf-8?q?Hello=0D=0ABcc=3A_victim=40example.com?="
    )
    result = deliver(raw)
    assert "\n" not in result.thread.subject and "\r" not in result.thread.subject
    assert result.thread.subject.startswith("Hello")


def test_a_20_mb_attachment_is_accepted(inbox):
    data = b"%PDF-1.7\n" + bytes(range(256)) * (20 * 1024 * 1024 // 256)
    result = deliver(make_mail(attachments=[("report.pdf", "application/pdf", data)]))
    attachment = result.message.attachments.get()
    assert attachment.size == len(data)
    assert attachment.content_type == "application/pdf"
    assert not attachment.omitted_reason
    with attachment.file.open("rb") as handle:
        assert handle.read() == data


def test_an_attachment_over_the_inbox_limit_is_replaced_by_a_note_and_the_mail_kept(inbox):
    inbox_update(inbox=inbox, max_message_bytes=1024 * 1024)
    small, big = b"a" * 1000, b"b" * (2 * 1024 * 1024)
    result = deliver(
        make_mail(
            attachments=[
                ("small.txt", "text/plain", small),
                ("big.bin", "application/octet-stream", big),
            ]
        )
    )
    assert result.inbound.status == ACCEPTED
    kept, omitted = result.message.attachments.order_by("id")
    assert kept.file and kept.size == len(small)
    assert not omitted.file
    assert omitted.size == len(big)
    assert "1 MB" in omitted.omitted_reason


@pytest.mark.parametrize(
    "filename",
    ["../../../etc/passwd", "..\\..\\boot.ini", "/abs/x.txt", "a\x00b.txt", "evil\u202efdp.exe"],
)
def test_a_crafted_filename_cannot_escape_its_key(inbox, filename):
    result = deliver(make_mail(attachments=[(filename, "text/plain", b"hello")]))
    attachment = result.message.attachments.get()
    org_id = inbox.organization_id
    assert attachment.file.name.startswith(f"org-{org_id}/attachments/")
    assert ".." not in attachment.file.name
    assert "/" not in attachment.filename and "\\" not in attachment.filename
    assert "\x00" not in attachment.filename and "\u202e" not in attachment.filename


def test_content_seen_before_is_stored_once_per_organization(
    inbox, globex_inbox, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    logo = b"\x89PNG\r\n\x1a\n" + b"logo" * 100
    first, second = (
        deliver(make_mail(subject=f"q{n}", attachments=[(f"logo{n}.png", "image/png", logo)]))
        for n in range(2)
    )
    other = deliver(
        make_mail(to=globex_inbox.address, attachments=[("logo.png", "image/png", logo)])
    )

    mine = [r.message.attachments.get() for r in (first, second)]
    theirs = other.message.attachments.get()
    assert mine[0].file.name == mine[1].file.name  # one copy for the organization
    assert [a.filename for a in mine] == ["logo0.png", "logo1.png"]
    assert theirs.file.name != mine[0].file.name  # never shared across organizations
    assert theirs.file.name.startswith(f"org-{globex_inbox.organization_id}/attachments/")
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 2
    for attachment in [*mine, theirs]:
        with attachment.file.open("rb") as handle:
            assert handle.read() == logo


def test_a_copy_cut_short_is_not_taken_for_the_content(inbox, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    data = b"%PDF-1.4 " + b"x" * 1000
    key = attachment_content_key(inbox.organization_id, hashlib.sha256(data).hexdigest())
    partial = tmp_path / key
    partial.parent.mkdir(parents=True)
    partial.write_bytes(data[:100])  # a write that a crash cut short

    attachment = deliver(
        make_mail(attachments=[("a.pdf", "application/pdf", data)])
    ).message.attachments.get()

    assert attachment.file.name != key
    with attachment.file.open("rb") as handle:
        assert handle.read() == data


def test_a_damaged_copy_of_the_right_size_is_not_taken_for_the_content(inbox, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    data = b"%PDF-1.4 " + b"x" * 1000
    key = attachment_content_key(inbox.organization_id, hashlib.sha256(data).hexdigest())
    damaged = tmp_path / key
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(b"\0" * len(data))  # a crash left zeros where the bytes were

    attachment = deliver(
        make_mail(attachments=[("a.pdf", "application/pdf", data)])
    ).message.attachments.get()

    assert attachment.file.name != key
    with attachment.file.open("rb") as handle:
        assert handle.read() == data


def test_a_declared_image_that_is_html_is_not_served_as_an_image(inbox):
    payload = b"<html><script>alert(1)</script></html>"
    result = deliver(make_mail(attachments=[("cat.png", "image/png", payload)]))
    assert not result.message.attachments.get().content_type.startswith("image/")


def test_the_html_part_is_sanitized_before_it_is_stored(inbox):
    html = (
        '<p onclick="steal()">Hi<script>alert(1)</script></p>'
        '<a href="javascript:alert(1)">x</a><img src="https://tracker.test/p.gif">'
    )
    result = deliver(make_mail(html=html))
    stored = result.message.html.lower()
    assert "<script" not in stored
    assert "onclick" not in stored
    assert "javascript:" not in stored
    assert 'src="https://tracker.test' not in stored
    assert "hi" in stored


def test_inline_images_keep_their_content_id(inbox):
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "jane@client.test", inbox.address, "pic"
    msg.set_content("see picture")
    msg.add_alternative('<p>see <img src="cid:pic1"></p>', subtype="html")
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    msg.get_payload()[1].add_related(png, "image", "png", cid="<pic1>")
    result = deliver(msg.as_bytes())
    attachment = result.message.attachments.get()
    assert attachment.content_id == "pic1"
    assert attachment.is_inline
    assert 'src="cid:pic1"' in result.message.html


def test_a_processing_failure_is_recorded_and_does_not_block_the_next_mail(inbox, monkeypatch):
    # Fault injection: our own code (writing the attachments' files) fails on one mail.
    # (A part the mail's content breaks only degrades: test_ingest_fidelity.)
    real = ingest.prepare.attachments_prepare

    def broken(**kwargs):
        if any(part.filename == "explode.txt" for part in kwargs["parts"]):
            raise RuntimeError("storage crashed")
        return real(**kwargs)

    monkeypatch.setattr(ingest.prepare, "attachments_prepare", broken)
    bad = deliver(make_mail(attachments=[("explode.txt", "text/plain", b"x")]))
    good = deliver(make_mail(subject="fine"))
    assert bad.inbound.status == InboundMail.Status.FAILED
    assert "storage crashed" in bad.inbound.reason
    assert "Traceback" in bad.inbound.error
    assert bad.inbound.raw_bytes()
    assert good.inbound.status == ACCEPTED
    assert not Message.objects.filter(subject="Cannot log in").exists()

    monkeypatch.setattr(ingest.prepare, "attachments_prepare", real)
    retried = intake.mail_retry(inbound_mail=bad.inbound)
    assert retried.inbound.status == ACCEPTED
    assert retried.inbound.attempts == 2


def test_a_mail_is_processed_once_however_often_the_task_runs(inbox):
    mail, _ = inbound.inbound_record(raw=make_mail(), source="test")
    assert intake.mail_process(inbound_id=mail.pk) is not None
    assert intake.mail_process(inbound_id=mail.pk) is None
    assert Message.objects.count() == 1


def test_a_worker_killed_mid_way_leaves_the_mail_pending_for_the_sweep(inbox, monkeypatch):
    mail, _ = inbound.inbound_record(raw=make_mail(), source="test")

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # what a worker's warm shutdown raises mid-task

    monkeypatch.setattr(ingest.store, "messages_store", killed)
    with pytest.raises(KeyboardInterrupt):
        intake.mail_process(inbound_id=mail.pk)
    mail.refresh_from_db()
    assert mail.status == InboundMail.Status.PENDING
    assert not Message.objects.exists()
    assert not Attachment.objects.exists()
    monkeypatch.undo()
    an_hour_ago = timezone.now() - timedelta(hours=1)  # the dead run's claim ran out
    InboundMail.objects.filter(pk=mail.pk).update(
        received_at=an_hour_ago, claimed_until=an_hour_ago
    )
    assert wake.intake_sweep() == [mail.pk]  # eager in tests: queued means processed
    mail.refresh_from_db()
    assert mail.status == ACCEPTED


def test_the_sweep_leaves_fresh_mail_to_the_queue(inbox):
    fresh, _ = inbound.inbound_record(raw=make_mail(), source="test")
    assert wake.intake_sweep() == []
    fresh.refresh_from_db()
    assert fresh.status == InboundMail.Status.PENDING


def test_large_raw_mail_is_kept_in_storage_and_small_mail_in_the_row(inbox, settings):
    settings.TISKET_INBOUND_INLINE_MAX_BYTES = 2000
    small = deliver(make_mail(body="short"))
    large = deliver(make_mail(body="long " * 1000))
    assert small.inbound.raw_data is not None and not small.inbound.raw_file
    assert large.inbound.raw_data is None and large.inbound.raw_file
    assert large.message.text.startswith("long long")


def test_attachments_are_stored_with_a_checksum(inbox):
    result = deliver(make_mail(attachments=[("a.txt", "text/plain", b"hello")]))
    attachment = Attachment.objects.get(message=result.message)
    assert attachment.sha256 == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"


def test_a_tnef_winmail_dat_is_kept_as_an_attachment(inbox):
    tnef = b"\x78\x9f\x3e\x22" + b"\x00" * 64  # TNEF's signature, then Outlook's data
    result = deliver(make_mail(attachments=[("winmail.dat", "application/ms-tnef", tnef)]))
    attachment = result.message.attachments.get()
    assert attachment.filename == "winmail.dat"
    assert attachment.content_type == "application/ms-tnef"
    assert attachment.size == len(tnef)


def test_an_rfc_2047_encoded_attachment_name_is_decoded(inbox):
    raw = make_mail(attachments=[("placeholder.pdf", "application/pdf", b"%PDF-1.4\n")])
    raw = raw.replace(
        b'filename="placeholder.pdf"', b'filename="=?utf-8?q?Rechnung_M=C3=A4rz.pdf?="'
    )
    assert deliver(raw).message.attachments.get().filename == "Rechnung März.pdf"
