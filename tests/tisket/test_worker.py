"""The real worker, as `make run` and production start it, and `make run`'s runner."""

import contextlib
import json
import os
import re
import signal
import sqlite3
import uuid

import pytest

from tests.conftest import redis_url, require_service
from tests.mail import make_mail
from tests.processes import (
    READY_WITHIN,
    django,
    http_answers,
    installation,
    running,
    wait,
    worker_running,
)
from tests.smtp import free_port

EXPIRED_SESSION = (
    "INSERT INTO tisket_usersession"
    " (session_key, session_data, expire_date, created_at, user_agent)"
    " VALUES (?, '', datetime('now', '-1 day'), datetime('now', '-2 day'), '')"
)

SETUP = """
from inboxes.services import inbox_create
from tisket import services

owner, _ = services.user_get_or_create(email="owner@acme.test")
org = services.organization_create(name="Acme", slug="acme", code="ACME", owner=owner)
print(inbox_create(organization=org, name="support", auto_ack_enabled=False).address)
"""

RECEIVE = """
from pathlib import Path
from tickets.intake import mail_receive

mail_receive(raw=Path({path!r}).read_bytes(), source="test")
"""


def _count(path, sql: str) -> int:
    database = sqlite3.connect(path)
    try:
        return database.execute(sql).fetchone()[0]
    finally:
        database.close()


@pytest.mark.parametrize("broker", ["embedded", "redis"])
def test_a_task_sent_after_commit_is_run_by_the_worker(migrated_sqlite, tmp_path, broker):
    env = installation(migrated_sqlite, tmp_path)
    if broker == "redis":
        # Queues of this test's own: another suite on the same Redis keeps to its own.
        env["CELERY_BROKER_URL"] = redis_url().rsplit("/", 1)[0] + "/14"
        env["TISKET_QUEUE_PREFIX"] = f"test-{uuid.uuid4().hex[:12]}-"
    database = tmp_path / "db.sqlite3"
    # An expired session for the worker's housekeeping task to delete.
    with sqlite3.connect(database) as db:
        db.execute(EXPIRED_SESSION, ["x" * 32])
    db.close()
    with worker_running(env) as worker:
        django(
            env,
            "from django.db import transaction; from tisket.tasks import sessions_clear\n"
            "with transaction.atomic(): transaction.on_commit(sessions_clear.delay)",
        )
        wait(
            lambda: _count(database, "SELECT count(*) FROM tisket_usersession") == 0,
            what="the worker running the task",
        )
    assert "Traceback" not in worker.output, worker.output


RABBITMQ_URL = os.environ.get("TISKET_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
QUEUE_KINDS = ("celery", "ingest", "outbound", "poll", "sla", "index")


def _rabbitmq_url() -> str:
    from kombu import Connection

    try:
        with Connection(RABBITMQ_URL, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
            available = True
    except Exception:
        available = False
    require_service("RabbitMQ", available, f"nothing answers at {RABBITMQ_URL}")
    return RABBITMQ_URL


@pytest.fixture
def broker(request) -> dict[str, str]:
    """The environment of a worker on this broker, with queues of this test's own
    (TISKET_QUEUE_PREFIX), deleted afterwards; none for the embedded default."""
    kind = request.param
    if kind == "embedded":
        yield {}
        return
    url = redis_url().rsplit("/", 1)[0] + "/14" if kind == "redis" else _rabbitmq_url()
    prefix = f"test-{uuid.uuid4().hex[:12]}-"
    yield {"CELERY_BROKER_URL": url, "TISKET_QUEUE_PREFIX": prefix}
    from kombu import Connection

    with Connection(url, connect_timeout=2) as conn:
        for name in QUEUE_KINDS:
            with conn.channel() as channel, contextlib.suppress(Exception):
                channel.queue_delete(f"{prefix}{name}")


@pytest.mark.parametrize("broker", ["embedded", "redis", "rabbitmq"], indirect=True)
def test_the_worker_takes_mail_another_process_recorded(migrated_sqlite, tmp_path, broker):
    """The edge records the mail and wakes the worker: through the broker (Redis or
    RabbitMQ) to a Celery worker, or, without one, the embedded worker, which finds it
    in the database. Nothing warns about a broker that is not there."""
    env = installation(migrated_sqlite, tmp_path / "data") | broker
    address = django(env, SETUP).strip()
    mail = tmp_path / "q.eml"
    mail.write_bytes(make_mail(to=address, message_id="<q1@client.test>"))
    database = tmp_path / "data" / "db.sqlite3"
    with worker_running(env) as worker:
        django(env, RECEIVE.format(path=str(mail)))
        wait(
            lambda: _count(database, "SELECT count(*) FROM threads_message") == 1,
            what="the worker storing the mail",
        )
        worker.wait_for(r"inbound_mail_process\[.*\] succeeded .*: 1")
    assert _count(database, "SELECT count(*) FROM threads_inboundmail WHERE status='pending'") == 0
    noise = ["Traceback", "No hostname was supplied"]
    if not broker:  # (Celery itself rightly warns a worker run as root, as tests may be)
        noise.append("superuser privileges")
    for words in noise:
        assert words not in worker.output, worker.output


def _health(port: int) -> dict:
    import http.client

    web = http.client.HTTPConnection("127.0.0.1", port, timeout=READY_WITHIN)
    try:
        web.request("GET", "/healthz")
        return json.loads(web.getresponse().read())
    finally:
        web.close()


def _status(port: int, host: str) -> int:
    import http.client

    web = http.client.HTTPConnection("127.0.0.1", port, timeout=READY_WITHIN)
    try:
        web.request("GET", "/healthz", headers={"Host": host})
        response = web.getresponse()
        response.read()
        return response.status
    finally:
        web.close()


def test_the_runner_starts_a_dead_worker_again_and_the_web_server_keeps_serving(
    migrated_sqlite, tmp_path
):
    """`make run HOST=0.0.0.0`: served at the LAN address, which manage.py commands in
    another shell build links with; a worker killed is started again, the web untouched."""
    data = tmp_path / "data"
    env = installation(migrated_sqlite, data)
    env.pop("SITE_URL", None)
    env.pop("ALLOWED_HOSTS", None)
    port = free_port()
    runner = ["-m", "config.embedded", "--host", "0.0.0.0", "--port", str(port)]  # noqa: S104
    with running(runner, env | {"HOME": str(data)}) as served:
        wait(lambda: http_answers(port, "/healthz"), timeout=READY_WITHIN, what="the web server")
        wait(lambda: _health(port)["worker"]["alive"], timeout=READY_WITHIN, what="the worker")
        site_url = (data / "site_url").read_text().strip()
        lan_host = re.fullmatch(rf"http://(.+):{port}", site_url)[1]
        # Reached from another machine by its address: served, not refused as a bad host.
        assert _status(port, f"{lan_host}:{port}") == 200
        assert _status(port, f"evil.example:{port}") == 400
        # Another shell, no SITE_URL in its environment: the links point to the server.
        assert django(
            env, "from django.conf import settings; print(settings.SITE_URL)"
        ).strip() == (site_url)

        first = int((data / "worker.pid").read_text())
        os.kill(first, signal.SIGKILL)
        served.wait_for(r"the worker exited \(-9\); the web server carries on")
        served.wait_for(r"the worker is started again \(pid \d+, restart 1\)")
        assert http_answers(port, "/healthz")
        wait(
            lambda: int((data / "worker.pid").read_text()) != first,
            what="the new worker's pid written",
        )
        served.wait_for(r"embedded worker ready", count=2, timeout=READY_WITHIN)
        assert _health(port)["status"] in {"ok", "degraded"}
    # (Django logs the refused host with its traceback: that one is meant.)
    for noise in ("No hostname was supplied", "superuser privileges", "Unrecoverable error"):
        assert noise not in served.output, served.output
