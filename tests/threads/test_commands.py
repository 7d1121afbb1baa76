import io
import mailbox
import shutil

import pytest
from django.core.management import CommandError, call_command

from tests.mail import CORPUS, make_mail
from threads.models import InboundMail, Message, Thread


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def maildir(tmp_path):
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    for n in range(3):
        box.add(make_mail(subject=f"maildir {n}"))
    box.add(make_mail(to="nobody@elsewhere.test", subject="not ours"))
    return tmp_path / "Maildir"


@pytest.fixture
def mbox(tmp_path):
    box = mailbox.mbox(tmp_path / "archive.mbox", create=True)
    for n in range(2):
        box.add(make_mail(subject=f"mbox {n}"))
    box.flush()
    return tmp_path / "archive.mbox"


def test_mail_import_reads_eml_mbox_and_maildir_and_says_what_became_of_each(
    inbox, tmp_path, maildir, mbox
):
    eml = tmp_path / "one.eml"
    eml.write_bytes(make_mail(subject="eml"))
    out = run("mail_import", str(eml), str(mbox), str(maildir))
    assert (
        "Imported 7 mail(s): 6 accepted, 0 duplicate, 0 quarantined, 1 rejected, 0 failed." in out
    )
    assert Thread.objects.count() == 6


def test_running_mail_import_again_imports_nothing_twice(inbox, maildir):
    run("mail_import", str(maildir))
    out = run("mail_import", str(maildir))
    assert "0 accepted, 4 duplicate" in out
    assert Message.objects.count() == 3


def test_mail_import_into_a_named_inbox_routes_every_mail_there(inbox, tmp_path):
    shutil.copy(CORPUS / "cpython/msg_01.txt", tmp_path / "a.eml")
    out = run("mail_import", str(tmp_path / "a.eml"), "--inbox", "acme/support")
    assert "1 accepted" in out
    assert InboundMail.objects.get().envelope_recipient == inbox.address


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{tmp}/missing.eml"], "does not exist"),
        (["{tmp}"], "not a Maildir"),
        (["{eml}", "--inbox", "acme/nope"], "No inbox 'nope'"),
        (["{eml}", "--inbox", "nowhere"], "No inbox"),
    ],
)
def test_mail_import_refuses_bad_input_in_one_line(inbox, tmp_path, args, message):
    eml = tmp_path / "x.eml"
    eml.write_bytes(make_mail())
    args = [a.format(tmp=tmp_path, eml=eml) for a in args]
    with pytest.raises(CommandError, match=message):
        run("mail_import", *args)
    assert not InboundMail.objects.exists()


def test_mail_import_exits_non_zero_when_a_mail_failed_and_mail_retry_recovers_it(
    inbox, tmp_path, monkeypatch
):
    from threads import ingest

    eml = tmp_path / "x.eml"
    eml.write_bytes(make_mail(html="<p>hi</p>"))
    real = ingest.prepare.attachments_prepare
    monkeypatch.setattr(ingest.prepare, "attachments_prepare", lambda **kwargs: 1 / 0)
    with pytest.raises(CommandError, match="1 mail\\(s\\) failed"):
        run("mail_import", str(eml))
    mail = InboundMail.objects.get()
    assert mail.status == InboundMail.Status.FAILED
    monkeypatch.setattr(ingest.prepare, "attachments_prepare", real)
    out = run("mail_retry", "--all")
    assert f"#{mail.pk}: accepted" in out
    assert Message.objects.count() == 1


def test_mail_retry_says_what_it_leaves_alone(inbox, tmp_path):
    eml = tmp_path / "x.eml"
    eml.write_bytes(make_mail())
    run("mail_import", str(eml))
    mail = InboundMail.objects.get()
    assert "not failed; left alone" in run("mail_retry", str(mail.pk))
    with pytest.raises(CommandError, match="No inbound mail with id 999"):
        run("mail_retry", "999")
    with pytest.raises(CommandError, match="--all"):
        run("mail_retry")


def test_mail_import_names_the_thread_each_mail_became_under_one_progress_bar(inbox, tmp_path):
    first, reply = tmp_path / "first.eml", tmp_path / "reply.eml"
    first.write_bytes(make_mail(subject="Printer", message_id="<p1@client.test>"))
    reply.write_bytes(
        make_mail(
            subject="Re: Printer", message_id="<p2@client.test>", in_reply_to="<p1@client.test>"
        )
    )
    out, err = io.StringIO(), io.StringIO()
    call_command("mail_import", str(first), str(reply), str(first), stdout=out, stderr=err)
    thread = Thread.objects.get()
    lines = out.getvalue().splitlines()
    assert lines[:3] == [
        f"{first}: accepted: {thread.reference} (new)",
        f"{reply}: accepted: {thread.reference}",
        f"{first}: duplicate: {thread.reference}",
    ]
    # One bar, redrawn in place: its final state is its only finished line.
    assert err.getvalue().count("\n") <= 1
    assert "3/3" in err.getvalue()
