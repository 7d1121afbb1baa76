"""Waking the worker: one run queued for many mails, and never a mail left behind."""

from django.core.cache import cache

from tests.mail import make_mail
from tests.smtp import free_port
from threads import inbound
from threads.inbound import inbound_record
from threads.models import InboundMail
from tickets.intake import mail_after_store, mail_receive, wake
from tickets.intake.wake import KICK_KEY, intake_run

S = InboundMail.Status


def record(subject: str) -> InboundMail:
    return mail_receive(raw=make_mail(subject=subject), source="test")[0]


def test_mails_ride_along_with_a_queued_run(inbox, django_capture_on_commit_callbacks):
    cache.add(KICK_KEY, 0)  # a run is queued and has not started

    with django_capture_on_commit_callbacks(execute=True):
        mails = [record(f"q{n}") for n in range(3)]

    assert [m.status for m in InboundMail.objects.filter(pk__in=[m.pk for m in mails])] == [
        S.PENDING
    ] * 3
    assert intake_run(after_store=mail_after_store) == 3  # the queued run takes them all


def test_a_mail_that_found_the_flag_set_is_taken_by_the_runs_last_look(
    inbox, monkeypatch, django_capture_on_commit_callbacks
):
    cache.add(KICK_KEY, 0)  # the run below was queued
    real = inbound.inbound_process_pending
    late: list[InboundMail] = []

    def a_mail_arrives_during_the_first_look(**kwargs) -> int:
        processed = real(**kwargs)
        if not late:
            with django_capture_on_commit_callbacks(execute=True):
                late.append(record("late"))
            assert cache.get(KICK_KEY) == 0  # it found the run's flag and queued nothing
        return processed

    monkeypatch.setattr(inbound, "inbound_process_pending", a_mail_arrives_during_the_first_look)
    assert intake_run(after_store=mail_after_store) == 1
    late[0].refresh_from_db()
    assert late[0].status == S.ACCEPTED
    assert cache.get(KICK_KEY) is None


def test_a_cache_outage_leaves_the_mail_pending_for_the_sweep(
    inbox, settings, django_capture_on_commit_callbacks, caplog
):
    settings.CACHES = {
        "default": {
            "BACKEND": "tisket.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens
        }
    }

    with django_capture_on_commit_callbacks(execute=True):
        mail, created = mail_receive(raw=make_mail(), source="test")

    assert created
    mail.refresh_from_db()
    assert mail.status == S.PENDING
    assert "the sweep will retry" in caplog.text


def test_the_sweep_queues_a_run_whatever_flag_is_set(inbox):
    cache.add(KICK_KEY, 0)  # "a run is coming", from a run that died
    mail = inbound_record(raw=make_mail(), source="test")[0]
    InboundMail.objects.filter(pk=mail.pk).update(
        received_at=mail.received_at - inbound.PENDING_GRACE * 2
    )

    assert wake.intake_sweep() == [mail.pk]

    mail.refresh_from_db()
    assert mail.status == S.ACCEPTED


def test_a_run_that_loses_the_database_clears_the_flag_and_is_retried(inbox, monkeypatch):
    from django.db import OperationalError

    from tickets.tasks import inbound_mail_process

    mail = inbound_record(raw=make_mail(), source="test")[0]
    cache.add(KICK_KEY, mail.pk)
    real, calls = inbound.ingest, []

    def down_once(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            assert cache.get(KICK_KEY) is not None
            raise OperationalError("server closed the connection unexpectedly")
        return real(**kwargs)

    monkeypatch.setattr(inbound, "ingest", down_once)

    run = inbound_mail_process.apply(args=[mail.pk], throw=False)
    assert run.get() == 1  # the retry took the mail

    mail.refresh_from_db()
    assert mail.status == S.ACCEPTED
    assert cache.get(KICK_KEY) is None  # cleared by the failed run, and again by the retry
