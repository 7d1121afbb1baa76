"""For operators: /healthz (is this process serving, is a worker alive, how far behind is
the work) and /metrics (the same and more, for Prometheus)."""

import hmac
import logging
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Min
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from threads.models import InboundMail, OutboundMail
from tisket import liveness

logger = logging.getLogger(__name__)


@csrf_exempt
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers (and the broker, when one is configured); else 503.

    Whether a worker is alive and how far behind the work is are reported beside,
    without failing the check: a load balancer must keep a web server that serves,
    whatever became of the workers.
    """
    checks = {"database": _check_database()}
    if not settings.TISKET_EMBEDDED_WORKER:
        checks["broker"] = _check_broker()
    healthy = all(result == "ok" for result in checks.values())
    body: dict = {"status": "ok" if healthy else "unavailable", "checks": checks}
    seen = liveness.worker_last_seen()
    body["worker"] = {
        "alive": seen is not None and seen < settings.TISKET_WORKER_STALE_AFTER,
        "last_seen_seconds": None if seen is None else round(seen, 1),
    }
    if checks["database"] == "ok":
        body["queues"] = _lag()
    if healthy and not body["worker"]["alive"]:
        body["status"] = "degraded"
    return JsonResponse(body, status=200 if healthy else 503)


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        logger.error("healthz: database check failed: %s", exc)
        return f"error: {type(exc).__name__}"
    return "ok"


def _check_broker() -> str:
    from celery import current_app as app  # the project's app, set up by its configuration

    try:
        with app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
    except Exception as exc:
        logger.error("healthz: broker check failed: %s", exc)
        return f"error: {type(exc).__name__}"
    return "ok"


def _age(moment) -> float:
    return 0.0 if moment is None else max(0.0, (timezone.now() - moment).total_seconds())


def _lag() -> dict:
    """The work waiting in the database: pending inbound mail, outbound mail that is due."""
    pending = InboundMail.objects.filter(status=InboundMail.Status.PENDING)
    due = OutboundMail.objects.filter(
        status=OutboundMail.Status.PENDING, next_attempt_at__lte=timezone.now()
    )
    inbound = pending.aggregate(oldest=Min("received_at"))
    outbound = due.aggregate(oldest=Min("next_attempt_at"))
    return {
        "inbound_pending": pending.count(),
        "inbound_oldest_seconds": round(_age(inbound["oldest"]), 1),
        "outbound_due": due.count(),
        "outbound_oldest_seconds": round(_age(outbound["oldest"]), 1),
    }


# --- Prometheus ---------------------------------------------------------------------


class Collector:
    """Read at each scrape from the database, the cache and the broker: the figures are
    the installation's, whichever web process answers."""

    def collect(self):
        def gauge(name: str, help_text: str, value: float | None):
            metric = GaugeMetricFamily(f"tisket_{name}", help_text)
            if value is not None:
                metric.add_metric([], value)
            return metric

        now = timezone.now()
        received = InboundMail.objects.filter(
            status__in=InboundMail.Status.values, received_at__gte=now - timedelta(minutes=1)
        ).count()
        yield gauge("inbound_received_last_minute", "Mails received in the last minute.", received)
        lag = _lag()
        yield gauge("inbound_pending", "Mails received, not yet processed.", lag["inbound_pending"])
        yield gauge(
            "inbound_oldest_pending_seconds",
            "Age of the oldest mail waiting to be processed (0: none).",
            lag["inbound_oldest_seconds"],
        )
        yield gauge(
            "inbound_failed",
            "Mails whose processing failed (retry them from the inbound log or mail_retry).",
            InboundMail.objects.filter(status=InboundMail.Status.FAILED).count(),
        )
        yield gauge("outbox_due", "Outbound mails due to be sent now.", lag["outbound_due"])
        yield gauge(
            "outbox_oldest_due_seconds",
            "How long the oldest due outbound mail has waited (0: none).",
            lag["outbound_oldest_seconds"],
        )
        yield gauge(
            "outbox_failed",
            "Outbound mails that failed for good.",
            OutboundMail.objects.filter(status=OutboundMail.Status.FAILED).count(),
        )
        seen = liveness.worker_last_seen()
        yield gauge(
            "worker_last_seen_seconds", "Seconds since a worker last said it was alive.", seen
        )
        sweep = liveness.job_last(name="sla_sweep")
        yield gauge(
            "sla_sweep_duration_seconds",
            "How long the last SLA sweep took.",
            None if sweep is None else sweep[1],
        )
        yield gauge(
            "sla_sweep_last_run_seconds",
            "Seconds since the last SLA sweep ended.",
            None if sweep is None else sweep[0],
        )
        if not settings.TISKET_EMBEDDED_WORKER:
            depth = GaugeMetricFamily(
                "tisket_queue_depth", "Tasks waiting in the broker, per queue.", labels=["queue"]
            )
            for queue, count in _queue_depths().items():
                depth.add_metric([queue], count)
            yield depth


def _queue_depths() -> dict[str, int]:
    from celery import current_app as app

    depths: dict[str, int] = {}
    try:
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
            for queue in [q.name for q in settings.CELERY_TASK_QUEUES]:
                # A channel each: RabbitMQ closes the channel of a queue never declared.
                with conn.channel() as channel:
                    try:
                        declared = channel.queue_declare(queue=queue, passive=True)
                    except conn.channel_errors:
                        continue  # no worker has declared it yet: nothing waits there
                    depths[queue] = declared.message_count
    except Exception as exc:  # the broker is away: /healthz says so; leave the figures out
        logger.warning("metrics: queue depth not read: %s", exc)
    return depths


@csrf_exempt
@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics, for a scraper holding TISKET_METRICS_TOKEN (off when unset)."""
    token = settings.TISKET_METRICS_TOKEN
    if not token:
        raise Http404("Metrics are off: set TISKET_METRICS_TOKEN.")
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        return JsonResponse({"detail": "A bearer token is required."}, status=401)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Collector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
