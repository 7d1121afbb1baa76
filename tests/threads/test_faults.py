"""Faults in real processes: the broker down under a web request, workers killed mid-way.

No mocks: gunicorn, the workers and the SMTP server are real processes or sockets;
the workers are the embedded worker (config/worker.py), which finds its work in
the test's own database, running the same task functions as a Celery worker.
Only the moment of a fault is chosen: a database lock that the worker must wait
for holds it there while it is killed.
"""

import http.client
import json
import shutil
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.db import connection, transaction
from django.db.models import F

from tests.conftest import require_service
from tests.mail import deliver, make_mail
from tests.processes import (
    READY_WITHIN,
    django,
    http_answers,
    installation,
    production_env,
    running,
    shared_database_url,
    wait,
    worker_running,
)
from tests.smtp import Mailbox, free_port
from threads.models import InboundMail, Message, OutboundMail, Thread

QUICK = 10  # seconds: what "answers at once" allows a ready web server, broker timeouts included


# --- An installation on SQLite, in processes of its own ------------------------------

SETUP = """
import json
from inboxes.services import inbox_create
from tests.mail import make_mail
from threads.inbound import inbound_record
from tickets.intake import mail_process
from tisket import services

agent, _ = services.user_get_or_create(email="agent@acme.test")
org = services.organization_create(name="Acme", slug="acme", code="ACME", owner=agent)
inbox = inbox_create(organization=org, name="support", auto_ack_enabled=False)
raw = make_mail(to=inbox.address, message_id="<q1@client.test>")
mail, _ = inbound_record(raw=raw, source="test")
thread = mail_process(inbound_id=mail.pk).thread
_, key = services.api_token_create(membership=agent.memberships.get(), name="faults")
print(json.dumps({"token": key, "reference": thread.reference}))
"""

OUTBOX = "SELECT id, status, attempts, message_id_header, last_error FROM {table} ORDER BY id"


@dataclass
class Site:
    env: dict[str, str]
    database: Path
    token: str
    reference: str

    def outbox(self) -> list[dict]:
        """The outbound mail rows, as the installation's database holds them now."""
        database = sqlite3.connect(self.database)
        database.row_factory = sqlite3.Row
        try:
            rows = database.execute(OUTBOX.format(table=OutboundMail._meta.db_table)).fetchall()
        finally:
            database.close()
        return [dict(row) for row in rows]


@pytest.fixture(scope="module")
def installed(migrated_sqlite, tmp_path_factory) -> tuple[Path, dict]:
    """Set up once for the module; each test works on a copy of it."""
    data = tmp_path_factory.mktemp("installation")
    return data, json.loads(django(installation(migrated_sqlite, data), SETUP))


@pytest.fixture
def site(installed, tmp_path) -> Site:
    """A new installation on SQLite: jane@client.test asked on THD-ACME-001; an agent's token."""
    template, made = installed
    data = shutil.copytree(template, tmp_path / "data")
    return Site(production_env(data), data / "db.sqlite3", made["token"], made["reference"])


class Server(Mailbox):
    """An SMTP server's handler: keeps what it accepts, runs a hook before saying so."""

    def __init__(self) -> None:
        super().__init__()
        self.before_accepting = lambda: None
        self.quit = threading.Event()
        self.env: dict[str, str] = {}

    async def handle_DATA(self, server, session, envelope) -> str:
        self.before_accepting()
        return await super().handle_DATA(server, session, envelope)

    async def handle_QUIT(self, server, session, envelope) -> str:
        self.quit.set()
        return "221 Bye"


@pytest.fixture
def smtp() -> Iterator[Server]:
    """A real SMTP server; its env makes an installation send through it."""
    server = Server()
    controller = Controller(server, hostname="127.0.0.1", port=free_port())
    controller.start()
    server.env = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(controller.port),
        "EMAIL_TIMEOUT": "5",
    }
    yield server
    controller.stop()


@contextmanager
def broker_down(how: str) -> Iterator[dict[str, str]]:
    """The environment of a web server whose broker is down, in one of two ways."""
    if how == "silent":  # accepts connections, never answers: paused, swapping, half-open
        with socket.create_server(("127.0.0.1", 0), backlog=64) as listener:
            yield {"CELERY_BROKER_URL": f"redis://127.0.0.1:{listener.getsockname()[1]}/0"}
    else:  # refused: nothing listens where the broker should be
        yield {"CELERY_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0"}


def post_reply(port: int, site: Site, body: str) -> tuple[int, dict]:
    web = http.client.HTTPConnection("127.0.0.1", port, timeout=QUICK)
    try:
        web.request(
            "POST",
            f"/api/v1/threads/{site.reference}/messages/",
            body=json.dumps({"body": body}),
            headers={"Authorization": f"Token {site.token}", "Content-Type": "application/json"},
        )
        response = web.getresponse()
        content = response.read()
    except TimeoutError:
        pytest.fail(f"the reply was not answered within {QUICK} s")
    finally:
        web.close()
    if response.status != 201:
        return response.status, {"error": content.decode(errors="replace")[:500]}
    return response.status, json.loads(content)


@pytest.mark.parametrize("how", ["refused", "silent"])
def test_a_reply_posted_while_redis_is_down_is_stored_then_sent_once_by_the_sweep(site, smtp, how):
    """With the broker down, the reply is stored and answered 201 at once, its mail pending.

    Once a worker is back, the periodic sweep sends it, once: a second sweep sends nothing.
    """
    port = free_port()
    with broker_down(how) as down, gunicorn(port, site.env | down):
        reply = timed_reply(port, site, "Try again now.")
    assert reply["delivery"]["status"] == "pending"
    [row] = site.outbox()
    assert (row["status"], row["attempts"]) == ("pending", 0)
    assert row["message_id_header"] == reply["message_id"]

    with worker_running(site.env | smtp.env) as worker:
        sweep_twice(site.env, worker)
    [(recipients, sent)] = smtp.received
    assert recipients == ["jane@client.test"]
    assert sent["Message-ID"] == f"<{reply['message_id']}>"
    assert [r["status"] for r in site.outbox()] == ["sent"]
    assert "Traceback" not in worker.output, worker.output


def test_redis_stopped_under_a_running_site_loses_no_reply(site, smtp, tmp_path):
    """A real Redis (broker and cache, as REDIS_URL configures production) that the
    site was using stops, and comes back empty, as one without persistence does.

    The reply queued before the stop (its task lost with Redis's memory) and the one
    posted while Redis is down (answered 201 at once) are each sent once, by a Celery
    worker on the Redis that came back, when beat's sweep finds them pending.
    """
    require_service("redis-server", bool(shutil.which("redis-server")), "install redis-server")
    redis_port = free_port()
    env = site.env | {"REDIS_URL": f"redis://127.0.0.1:{redis_port}/0"}
    port = free_port()
    with gunicorn(port, env):
        with redis_server(redis_port):
            before = timed_reply(port, site, "Queued, then Redis stops.")
        during = timed_reply(port, site, "Posted while Redis is down.")
    assert [r["status"] for r in site.outbox()] == ["pending", "pending"]

    with redis_server(redis_port), worker_running(env | smtp.env) as worker:
        sweep_twice(env, worker, sent=2)
    assert sorted(mail["Message-ID"] for _, mail in smtp.received) == sorted(
        f"<{reply['message_id']}>" for reply in (before, during)
    )
    assert [r["status"] for r in site.outbox()] == ["sent", "sent"]
    assert "Traceback" not in worker.output, worker.output


@contextmanager
def gunicorn(port: int, env: dict[str, str]) -> Iterator:
    with running(
        ["-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--graceful-timeout", "1"],
        env | {"HOME": env["TISKET_DATA_DIR"]},  # gunicorn's control socket
    ) as web:  # fmt: skip
        # Ready once its worker has loaded the application: a cold start is not the budget.
        wait(lambda: http_answers(port), timeout=READY_WITHIN, what="gunicorn answering")
        yield web


@contextmanager
def redis_server(port: int) -> Iterator[None]:
    """A Redis of the test's own, without persistence: stopped, it forgets its queues."""
    import redis

    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(port=port, socket_connect_timeout=1)

    def answers() -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    try:
        wait(answers, timeout=READY_WITHIN, what="redis-server answering")
        yield
    finally:
        server.terminate()
        server.wait(timeout=READY_WITHIN)
        client.close()


def timed_reply(port: int, site: Site, body: str) -> dict:
    """A reply posted through the API: stored, and answered 201 at once."""
    started = time.monotonic()
    status, reply = post_reply(port, site, body)
    elapsed = time.monotonic() - started
    assert status == 201, reply
    assert elapsed < QUICK
    return reply


def sweep_twice(env: dict[str, str], worker, sent: int = 1) -> None:
    """What beat does every minute: the first sweep sends what is pending, the next nothing."""
    sweep = "from threads.tasks import outbox_sweep_task; outbox_sweep_task.delay()"
    django(env, sweep)
    worker.wait_for(r"outbox_send_task\[.*\] succeeded .*: 'sent'", count=sent)
    django(env, sweep)
    worker.wait_for(r"outbox_sweep_task\[.*\] succeeded .*: 0")


REPLY = """
import json
from threads.outbound import reply_send_skipping_ticket
from threads.models import Thread
from tisket.models import Membership

thread = Thread.objects.get()
author = Membership.objects.get()
message, outbound = reply_send_skipping_ticket(thread=thread, author=author, body="Fixed.")
print(json.dumps({"id": outbound.pk, "message_id": message.message_id}))
"""

# The task again, as a broker redelivers an unacknowledged one, and the sweep, in
# a process of their own: what a worker runs for them.
REDELIVER = """
from threads.tasks import outbox_send_task, outbox_sweep_task

print("send:", outbox_send_task.apply(args=[{id}]).get())
print("sweep:", outbox_sweep_task.apply().get())
"""

AN_HOUR_LATER = """
from datetime import timedelta
from django.db.models import F
from threads.models import OutboundMail
from threads.tasks import outbox_sweep_task

OutboundMail.objects.update(next_attempt_at=F("next_attempt_at") - timedelta(hours=2))
print("sweep:", outbox_sweep_task.apply().get())
"""


def test_a_mail_the_server_accepted_is_never_sent_again_after_its_worker_is_killed(site, smtp):
    """A worker killed after the SMTP server accepted a mail, before it could record
    that, leaves the row "sending"; no redelivery or sweep sends it again.

    Sending is at most once: outbox_send claims the row in its own commit before the
    transport is called, and only pending rows are sent. An hour on, the sweep marks
    the row failed, its outcome unknown (here: delivered), and still sends nothing.
    """
    env = site.env | smtp.env
    reply = json.loads(django(env, REPLY))  # stored, its outbox row pending
    database = sqlite3.connect(site.database, isolation_level=None, check_same_thread=False)
    # The server takes the database's write lock before it answers 250: the worker,
    # told the mail is sent, waits to record it, and is killed there.
    smtp.before_accepting = lambda: database.execute("BEGIN IMMEDIATE")
    try:
        with worker_running(env) as worker:
            wait(smtp.quit.is_set, what="the mail accepted and the session over")
            worker.kill()
    finally:
        database.close()  # the lock with it
    assert len(smtp.received) == 1
    [row] = site.outbox()
    assert (row["status"], row["attempts"]) == ("sending", 1)

    with worker_running(env) as worker:
        # Started again, the worker sweeps the outbox at once: nothing to send.
        worker.wait_for(r"outbox_sweep_task\[.*\] succeeded .*: 0")
        # The task again (as a broker redelivers an unacknowledged one), and the sweep.
        assert django(env, REDELIVER.format(id=reply["id"])).split() == [
            "send:", "None", "sweep:", "0"
        ]  # fmt: skip
        # An hour later: the sweep gives the row up.
        assert django(env, AN_HOUR_LATER).split() == ["sweep:", "0"]
    [(_, sent)] = smtp.received
    assert sent["Message-ID"] == f"<{reply['message_id']}>"
    [row] = site.outbox()
    assert (row["status"], row["attempts"]) == ("failed", 1)
    assert "may or may not have left" in row["last_error"]
    assert "Traceback" not in worker.output, worker.output


# --- A worker on the test's own PostgreSQL database -----------------------------------


def _waiting_on_me() -> list[int]:
    """The database sessions waiting for a lock this one holds."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT pid FROM pg_locks WHERE NOT granted"
            " AND pg_backend_pid() = ANY(pg_blocking_pids(pid))"
        )
        return [pid for (pid,) in cursor.fetchall()]


def _has_written(pid: int, model) -> bool:
    """Whether that session's open transaction has written rows of model."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_locks WHERE pid = %s AND mode = 'RowExclusiveLock'"
            " AND relation = %s::regclass",
            [pid, model._meta.db_table],
        )
        return cursor.fetchone() is not None


def _session_alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone() is not None


RECEIVE = """
from pathlib import Path
from tickets.intake import mail_receive

mail_receive(raw=Path({path!r}).read_bytes(), source="test")
"""


@pytest.mark.django_db(transaction=True)
def test_a_mail_whose_worker_is_killed_mid_transaction_is_processed_once_by_the_sweep(
    acme, inbox, tmp_path
):
    """A recorded reply whose worker dies mid-batch, its message written but not
    committed, is pending again; the sweep then stores it once.
    """
    require_service(
        "PostgreSQL",
        connection.vendor == "postgresql",
        "the worker process shares the test's database: set DATABASE_URL",
    )
    thread = deliver(make_mail(message_id="<q1@client.test>")).thread
    answer = tmp_path / "answer.eml"
    answer.write_bytes(
        make_mail(
            subject="Re: Cannot log in",
            body="Still broken.",
            message_id="<a1@client.test>",
            in_reply_to="<q1@client.test>",
        )
    )
    env = production_env(tmp_path / "data", shared_database_url())
    with worker_running(env) as worker:
        with transaction.atomic():
            # An agent's transaction holds the thread: the worker, having written the
            # message, waits to count it on the thread.
            Thread.objects.select_for_update().get(pk=thread.pk)
            django(env, RECEIVE.format(path=str(answer)))  # the edge records it, queues a run
            wait(_waiting_on_me, what="the worker waiting on the thread")
            [session] = _waiting_on_me()
            assert _has_written(session, Message)
            worker.kill()
        # Released, the dead worker's session ends its transaction: rolled back.
        wait(lambda: not _session_alive(session), what="the dead worker's session ending")
    row = InboundMail.objects.get(message_id_header="a1@client.test")
    assert row.status == InboundMail.Status.PENDING
    assert not Message.objects.filter(message_id="a1@client.test").exists()

    assert row.claims == 1  # a run began and never finished
    # The dead run's claim runs out (moved back here rather than waited for); the
    # worker, started again, finds the mail pending and stores it.
    InboundMail.objects.filter(pk=row.pk).update(
        claimed_until=F("claimed_until") - timedelta(minutes=2)
    )
    with worker_running(env) as worker:
        worker.wait_for(r"inbound_mail_process\[.*\] succeeded .*: 1")
    row.refresh_from_db()
    assert row.status == InboundMail.Status.ACCEPTED
    assert list(thread.messages.order_by("id").values_list("message_id", flat=True)) == [
        "q1@client.test",
        "a1@client.test",
    ]
    thread.refresh_from_db()
    assert thread.message_count == 2
    assert "Traceback" not in worker.output, worker.output
