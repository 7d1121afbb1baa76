"""/metrics: what Prometheus scrapes, behind its own token."""

import time

from django.utils import timezone

from tests.conftest import redis_url
from tests.mail import make_mail
from threads.inbound import inbound_record
from threads.models import InboundMail
from tisket import liveness

TOKEN = "scrape-me"


def _metrics(client) -> dict[str, float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    figures = {}
    for line in response.content.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            figures[name] = float(value)
    return figures


def test_metrics_are_off_without_a_token_and_refused_without_the_right_one(client, db, settings):
    settings.TISKET_METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    settings.TISKET_METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope").status_code == 401


def test_metrics_count_intake_the_oldest_pending_mail_failures_and_the_sla_sweep(
    client, db, settings
):
    settings.TISKET_METRICS_TOKEN = TOKEN
    settings.TISKET_EMBEDDED_WORKER = True
    old, _ = inbound_record(raw=make_mail(message_id="<a@client.test>"), source="test")
    InboundMail.objects.filter(pk=old.pk).update(
        received_at=timezone.now() - timezone.timedelta(minutes=5)
    )
    inbound_record(raw=make_mail(message_id="<b@client.test>"), source="test")
    failed, _ = inbound_record(raw=make_mail(message_id="<c@client.test>"), source="test")
    InboundMail.objects.filter(pk=failed.pk).update(status=InboundMail.Status.FAILED)
    liveness.worker_seen(force=True)
    liveness.job_record(name="sla_sweep", seconds=0.25)

    figures = _metrics(client)
    assert figures["tisket_inbound_received_last_minute"] == 2
    assert figures["tisket_inbound_pending"] == 2
    assert figures["tisket_inbound_oldest_pending_seconds"] >= 300
    assert figures["tisket_inbound_failed"] == 1
    assert figures["tisket_outbox_due"] == 0
    assert figures["tisket_outbox_failed"] == 0
    assert figures["tisket_sla_sweep_duration_seconds"] == 0.25
    assert figures["tisket_worker_last_seen_seconds"] < 5
    assert not any(name.startswith("tisket_queue_depth") for name in figures)


def test_metrics_read_the_depth_of_each_broker_queue(client, db, settings, monkeypatch):
    import redis
    from celery import current_app
    from kombu import Queue

    url = redis_url().rsplit("/", 1)[0] + "/12"
    settings.TISKET_METRICS_TOKEN = TOKEN
    settings.TISKET_EMBEDDED_WORKER = False
    monkeypatch.setattr(current_app.conf, "broker_url", url)
    queue = f"ingest-metrics-{time.monotonic_ns()}"  # a queue of this test's own
    settings.CELERY_TASK_QUEUES = [Queue(queue), Queue(f"{queue}-never-declared")]
    server = redis.Redis.from_url(url)
    server.rpush(queue, b"{}", b"{}", b"{}")
    try:
        figures = _metrics(client)
    finally:
        server.delete(queue)
    assert figures[f'tisket_queue_depth{{queue="{queue}"}}'] == 3
