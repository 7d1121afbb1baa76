"""Waking the worker: one run queued for many mails, and never a mail left behind."""

import threading
import time
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.db import connections

from inboxes.services import inbox_create
from tests.conftest import require_postgres
from tests.factories import OrganizationFactory
from tests.mail import make_mail
from tests.smtp import free_port
from threads import inbound
from threads.inbound import inbound_record
from threads.models import InboundMail
from tickets.intake import mail_after_store, mail_receive, wake
from tickets.intake.wake import KICK_KEY, intake_run

S = InboundMail.Status


@pytest.fixture(autouse=True)
def _no_flag_seen(monkeypatch):
    monkeypatch.setattr(wake, "_flag_seen_at", float("-inf"))


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


def test_an_edge_trusts_a_flag_it_saw_within_the_window(
    inbox, settings, django_capture_on_commit_callbacks
):
    settings.TISKET_INBOUND_KICK_WINDOW = 60
    cache.add(KICK_KEY, 0)
    with django_capture_on_commit_callbacks(execute=True):
        record("first")  # sees the flag set
    cache.delete(KICK_KEY)  # the run clears it, and will look again after the window

    with django_capture_on_commit_callbacks(execute=True):
        second = record("second")

    assert cache.get(KICK_KEY) is None  # the edge did not ask again
    second.refresh_from_db()
    assert second.status == S.PENDING

    settings.TISKET_INBOUND_KICK_WINDOW = 0  # past the window: the next mail queues a run
    with django_capture_on_commit_callbacks(execute=True):
        record("third")
    assert set(InboundMail.objects.values_list("status", flat=True)) == {S.ACCEPTED}


@pytest.mark.django_db(transaction=True)
def test_a_run_looks_again_after_the_window_for_mail_that_trusted_its_flag(settings, monkeypatch):
    require_postgres()
    settings.TISKET_INBOUND_KICK_WINDOW = 2
    # The run's window lasts until the late mail below is recorded, however slow this
    # thread is: the window promises edges exactly that much time.
    window_over = threading.Event()
    monkeypatch.setattr(
        wake,
        "time",
        SimpleNamespace(monotonic=time.monotonic, sleep=lambda _: window_over.wait(timeout=60)),
    )
    org = OrganizationFactory(slug="acme", code="ACME")
    support = inbox_create(organization=org, name="support", auto_ack_enabled=False)
    cache.add(KICK_KEY, 0)
    processed = []

    def run() -> None:
        try:
            processed.append(intake_run(after_store=mail_after_store))
        finally:
            connections.close_all()

    worker = threading.Thread(target=run)
    worker.start()
    while cache.get(KICK_KEY) is not None:  # the run found nothing and cleared the flag
        time.sleep(0.01)
    # An edge that saw the flag just before it was cleared records a mail and
    # queues nothing; the run's last look, a window later, must take it.
    late = inbound_record(raw=make_mail(to=support.address), source="test")[0]
    window_over.set()
    worker.join(timeout=60)

    assert processed == [1]
    late.refresh_from_db()
    assert late.status == S.ACCEPTED


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


def test_the_sweep_queues_a_run_whatever_flag_its_process_saw(inbox, settings, monkeypatch):
    settings.TISKET_INBOUND_KICK_WINDOW = 0.3  # the eager run waits it too
    monkeypatch.setattr(wake, "_flag_seen_at", time.monotonic())  # "a run is coming"
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
