"""Several web processes and Celery workers around one PostgreSQL: Tisket scaled out.

Used by the scale-out test (a few hundred mails) and its benchmark (bench_scale,
ten thousand): mails are posted concurrently to every web process through the
Postmark webhook, the workers share the broker's queues, and check() says whether
every mail was stored once, with thread and ticket numbers that run without a gap.
"""

import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.client import HTTPConnection

import psycopg

from tests.processes import READY_WITHIN, Child, running, wait
from tests.smtp import free_port

AUTH = "esp:webhook-secret"
CLIENTS = 8


def mail(n: int, to: str, *, reply_to: int | None = None) -> bytes:
    """Mail number n from its client; a reply (to mail reply_to) comes from the same one."""
    sender = reply_to if reply_to is not None else n
    head = [
        f"From: Client {sender} <client{sender}@client.test>",
        f"To: Support <{to}>",
        f"Subject: {'Re: ' if reply_to is not None else ''}Question {sender}",
        f"Message-ID: <scale-{n}@client.test>",
        "Date: Thu, 03 Dec 2026 12:00:00 +0000",
    ]
    if reply_to is not None:
        head.append(f"In-Reply-To: <scale-{reply_to}@client.test>")
    return ("\r\n".join(head) + f"\r\n\r\nMail {n}.\r\n").encode()


def _payload(raw: bytes, to: str) -> bytes:
    return json.dumps(
        {
            "FromFull": {"Email": "client@client.test", "Name": ""},
            "ToFull": [{"Email": to, "Name": ""}],
            "OriginalRecipient": to,
            "Headers": [],
            "RawEmail": raw.decode(),
        }
    ).encode()


@dataclass
class Cluster:
    env: dict[str, str]
    database_url: str
    ports: list[int] = field(default_factory=list)
    workers: list[Child] = field(default_factory=list)
    webs: list[Child] = field(default_factory=list)

    def post_all(self, mails: list[bytes], to: str) -> list[int]:
        """Post every mail, CLIENTS at a time, spread over the web processes; their statuses."""
        statuses: list[int] = [0] * len(mails)
        auth = base64.b64encode(AUTH.encode()).decode()
        headers = {"Authorization": f"Basic {auth}", "Content-Type": "application/json"}

        def client(k: int) -> None:
            conns = [HTTPConnection("127.0.0.1", port, timeout=60) for port in self.ports]
            for n in range(k, len(mails), CLIENTS):
                conn = conns[n % len(conns)]
                conn.request("POST", "/anymail/postmark/inbound/", _payload(mails[n], to), headers)
                response = conn.getresponse()
                response.read()
                statuses[n] = response.status
            for conn in conns:
                conn.close()

        threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return statuses

    def pending(self) -> int:
        with psycopg.connect(self.database_url) as conn:
            return conn.execute(
                "SELECT count(*) FROM threads_inboundmail WHERE status = 'pending'"
            ).fetchone()[0]

    def drain(self, timeout: float) -> None:
        wait(lambda: self.pending() == 0, timeout=timeout, what="every mail processed")

    def output(self) -> str:
        return "".join(child.output for child in self.workers + self.webs)


@contextmanager
def cluster(
    env: dict[str, str], database_url: str, *, webs: int = 2, workers: int = 2
) -> Iterator[Cluster]:
    """webs gunicorn processes and workers Celery workers (one process each), ready."""
    env = env | {
        "DATABASE_URL": database_url,
        "TISKET_WEBHOOK_SECRET": AUTH,
        "TISKET_QUEUE_PREFIX": f"scale-{uuid.uuid4().hex[:10]}-",
        "DB_CONN_MAX_AGE": "600",
        "LOG_LEVEL": "INFO",
    }
    made = Cluster(env, database_url)
    with ExitStack() as stack:
        for n in range(workers):
            # Node names of this cluster's own, as its queues are (another suite's workers
            # may share the broker).
            node = f"{env['TISKET_QUEUE_PREFIX']}{n}@%h"
            command = ["-m", "celery", "--app", "config", "worker", "--pool", "solo",
                       "--hostname", node, "--without-mingle", "--without-gossip",
                       "--loglevel", "WARNING"]  # fmt: skip
            made.workers.append(stack.enter_context(running(command, env)))
        for _ in range(webs):
            port = free_port()
            command = ["-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
                       "--workers", "1", "--threads", "4", "--keep-alive", "30",
                       "--log-level", "warning"]  # fmt: skip
            made.webs.append(stack.enter_context(running(command, env)))
            made.ports.append(port)
        for port in made.ports:
            wait(lambda port=port: _answers(port), timeout=READY_WITHIN, what="gunicorn")
        # Each worker consumes once it has connected; a ping through the broker says so.
        from celery import Celery

        # Not the current app: the test process's own tasks must keep to theirs.
        probe = Celery(broker=env["CELERY_BROKER_URL"], set_as_current=False)
        deadline = time.monotonic() + READY_WITHIN
        while len(probe.control.ping(timeout=1) or []) < workers:
            assert time.monotonic() < deadline, "the workers did not come up"
        yield made
        try:
            with probe.connection_for_write() as conn:
                for queue in ("celery", "ingest", "outbound", "poll", "sla", "index"):
                    with conn.channel() as channel:
                        try:
                            channel.queue_delete(env["TISKET_QUEUE_PREFIX"] + queue)
                        except Exception:  # noqa: S112 (a queue never declared)
                            continue
        except Exception:  # noqa: S110 (leftover empty queues are harmless)
            pass


def _answers(port: int) -> bool:
    conn = HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def check(database_url: str, message_ids: list[str]) -> dict:
    """What became of the mails: each stored once? numbers without gaps?"""
    with psycopg.connect(database_url) as conn:
        stored = dict(
            conn.execute(
                "SELECT message_id, count(*) FROM threads_message"
                " WHERE message_id LIKE 'scale-%%' GROUP BY message_id"
            ).fetchall()
        )
        statuses = dict(
            conn.execute("SELECT status, count(*) FROM threads_inboundmail GROUP BY status")
        )
        gaps = {}
        for table in ("threads_thread", "tickets_ticket"):
            for org, low, high, count, distinct in conn.execute(
                f"SELECT organization_id, min(number), max(number), count(*),"  # noqa: S608
                f" count(DISTINCT number) FROM {table} GROUP BY organization_id"
            ):
                if not (low == 1 and high == count == distinct):
                    gaps[f"{table}:{org}"] = (low, high, count, distinct)
        counts_off = conn.execute(
            "SELECT count(*) FROM threads_thread t WHERE t.message_count <>"
            " (SELECT count(*) FROM threads_message m WHERE m.thread_id = t.id)"
        ).fetchone()[0]
    return {
        "missing": [m for m in message_ids if m not in stored],
        "doubled": [m for m, n in stored.items() if n > 1],
        "statuses": statuses,
        "gaps": gaps,
        "threads_miscounted": counts_off,
    }
