import time

from django.core.cache import cache
from django.utils import timezone

from tests.conftest import redis_url
from tests.mail import make_mail
from threads.inbound import inbound_record
from tisket import liveness


def test_healthz_checks_the_database_and_reports_the_worker_and_the_work_waiting(
    client, db, settings
):
    settings.TISKET_EMBEDDED_WORKER = True
    cache.delete(liveness.SEEN_KEY)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",  # serving, but no worker has ever said it is alive
        "checks": {"database": "ok"},
        "worker": {"alive": False, "last_seen_seconds": None},
        "queues": {
            "inbound_pending": 0,
            "inbound_oldest_seconds": 0.0,
            "outbound_due": 0,
            "outbound_oldest_seconds": 0.0,
        },
    }
    assert "no-cache" in response["Cache-Control"]


def test_healthz_says_the_worker_is_alive_and_how_old_the_oldest_pending_mail_is(
    client, db, settings
):
    settings.TISKET_EMBEDDED_WORKER = True
    liveness.worker_seen(force=True)
    mail, _ = inbound_record(raw=make_mail(), source="test")
    type(mail).objects.filter(pk=mail.pk).update(
        received_at=timezone.now() - timezone.timedelta(seconds=90)
    )
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["worker"]["alive"] is True
    assert body["worker"]["last_seen_seconds"] < settings.TISKET_WORKER_STALE_AFTER
    assert body["queues"]["inbound_pending"] == 1
    assert body["queues"]["inbound_oldest_seconds"] >= 90


def test_a_worker_not_seen_for_too_long_is_reported_dead_without_failing_the_check(
    client, db, settings
):
    settings.TISKET_EMBEDDED_WORKER = True
    cache.set(liveness.SEEN_KEY, time.time() - settings.TISKET_WORKER_STALE_AFTER - 5)
    response = client.get("/healthz")
    assert response.status_code == 200  # the web server serves: keep it in rotation
    assert response.json()["status"] == "degraded"
    assert response.json()["worker"]["alive"] is False


def test_healthz_checks_a_configured_broker(client, db, settings):
    settings.TISKET_EMBEDDED_WORKER = False
    settings.CELERY_BROKER_URL = redis_url()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


def test_healthz_is_503_when_the_broker_is_down(client, db, settings):
    settings.TISKET_EMBEDDED_WORKER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"  # the discard port: nothing listens
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["checks"]["database"] == "ok"
    assert response.json()["checks"]["broker"].startswith("error")


def test_healthz_answers_get_only(client, db):
    assert client.post("/healthz").status_code == 405
