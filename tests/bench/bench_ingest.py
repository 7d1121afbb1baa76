"""Ingest benchmark: N real mails through the webhook URL and through the worker, on PostgreSQL.

1. The webhook: gunicorn serves Tisket; a client posts N Postmark payloads (the
   corpus's real mails, each made unique) to /anymail/postmark/inbound/ with 8
   keep-alive connections, timing every request after the first tenth, which
   warms the server's threads.
2. The worker: a real Celery worker consumes the N queued mails from Redis,
   first with one process (one core), then, from a clean slate, with two;
   each figure is the median of three runs.
3. Intake latency: gunicorn and one Celery worker, mails posted at a steady
   BENCH_LATENCY_RATE a second (200) for BENCH_LATENCY_SECONDS (60); from each
   200 to the mail stored in its thread.
4. The peer: the same mails through django-helpdesk's email-to-ticket function
   (helpdesk.email.extract_email_metadata), installed from PyPI into its own
   virtualenv, on its own PostgreSQL database, in the same run.

Needs DATABASE_URL (PostgreSQL) and REDIS_URL. BENCH_MAILS sets N (default 2000).
"""

import base64
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import venv
from email.utils import make_msgid
from http.client import HTTPConnection
from pathlib import Path

import psycopg

from tests.bench.support import bench_database_url, recreate_database

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "corpus"
BENCH_DIR = ROOT / "var" / "bench"
WEBHOOK_AUTH = "bench:webhook-secret"
INBOX = "support.bench@in.bench.test"
CLIENTS = 8
WORKER_RUNS = 3


def log(message: str) -> None:
    print(f"[ingest] {message}", file=sys.stderr, flush=True)


def _corpus_mails() -> list[bytes]:
    """The corpus's whole messages that have a sender (the reply-parser folders hold bodies)."""
    entries = json.loads((CORPUS / "expected.json").read_text())
    mails = []
    for entry in entries:
        name = entry["file"]
        if "from" not in entry or not name.endswith((".txt", ".eml")):
            continue
        if name.startswith(("cpython/", "django-helpdesk/", "talon/", "django-anymail/")):
            mails.append((CORPUS / name).read_bytes())
    return mails


HEADER_END = re.compile(rb"\r?\n\r?\n")


def _unique(raw: bytes, n: int) -> bytes:
    """The mail addressed to the bench inbox with a Message-ID of its own."""
    match = HEADER_END.search(raw)
    head, body = (raw[: match.start()], raw[match.start() :]) if match else (raw, b"\n\n")
    kept = [
        line
        for line in re.split(rb"\r?\n(?![ \t])", head)
        if not line.lower().startswith((b"message-id:", b"to:", b"cc:", b"delivered-to:"))
    ]
    extra = [f"To: Support <{INBOX}>".encode(), f"Message-ID: {make_msgid(f'b{n}')}".encode()]
    return b"\n".join(extra + kept) + body


def _env(database_url: str, broker_url: str, data_dir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TISKET_", "CELERY_"))}
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=broker_url,
        CELERY_BROKER_URL=broker_url,
        TISKET_DATA_DIR=data_dir,
        TISKET_INBOUND_DOMAIN="in.bench.test",
        TISKET_WEBHOOK_SECRET=WEBHOOK_AUTH,
        DJANGO_SETTINGS_MODULE="config.settings",
        LOG_LEVEL="WARNING",
        DB_CONN_MAX_AGE="600",
    )
    return env


def _manage(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_http(port: int, path: str = "/healthz", seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            conn = HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"nothing answered on port {port}")


def bench_webhook(env: dict, mails: list[bytes]) -> tuple[float, float, float]:
    """accepted/s, p50 and p99 in ms, posting the mails as Postmark payloads."""
    payloads = [
        json.dumps(
            {
                "From": "bench@client.test",
                "FromFull": {"Email": "bench@client.test", "Name": ""},
                "To": INBOX,
                "ToFull": [{"Email": INBOX, "Name": ""}],
                "OriginalRecipient": INBOX,
                "Subject": "",
                "Headers": [],
                "RawEmail": raw.decode("utf-8", "surrogateescape"),
            }
        ).encode("utf-8", "surrogateescape")
        for raw in mails
    ]
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--threads", "4", "--worker-class", "gthread",
         "--keep-alive", "30", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        _wait_http(port)
        auth = base64.b64encode(WEBHOOK_AUTH.encode()).decode()
        # Requests are written out in full beforehand and sent on raw keep-alive
        # sockets: the client shares the machine's cores with the server, so it
        # must cost next to nothing (http.client cost as much as a third of a core).
        requests = [
            (
                f"POST /anymail/postmark/inbound/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Authorization: Basic {auth}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            + body
            for body in payloads
        ]
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        # The first posts warm every connection's server thread (its database
        # connection, caches and code paths) and are not timed.
        warm = max(CLIENTS * 4, len(requests) // 10)
        timing = threading.Barrier(CLIENTS + 1, timeout=120)

        def client(share: list[bytes], warm_share: list[bytes]) -> None:
            sock = socket.create_connection(("127.0.0.1", port), timeout=30)
            reader = sock.makefile("rb")
            mine = []
            for timed, batch in ((False, warm_share), (True, share)):
                if timed:
                    timing.wait()
                for request in batch:
                    start = time.perf_counter()
                    sock.sendall(request)
                    status = reader.readline()
                    length = 0
                    while (line := reader.readline()) not in (b"\r\n", b""):
                        if line[:15].lower() == b"content-length:":
                            length = int(line[15:])
                    reader.read(length)
                    if timed:
                        mine.append(time.perf_counter() - start)
                    if b" 200 " not in status:
                        errors.append(status.decode(errors="replace").strip())
            sock.close()
            with lock:
                latencies.extend(mine)

        timed_requests = requests[warm:]
        threads = [
            threading.Thread(
                target=client, args=(timed_requests[i::CLIENTS], requests[:warm][i::CLIENTS])
            )
            for i in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        timing.wait()
        started = time.perf_counter()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=20)
    if errors:
        raise RuntimeError(f"{len(errors)} webhook posts failed: {errors[:3]}")
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return len(latencies) / elapsed, statistics.median(latencies) * 1000, p99 * 1000


def _pending(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT count(*) FROM threads_inboundmail WHERE status = 'pending'"
        ).fetchone()[0]


def _reset(database_url: str) -> list[int]:
    """Back to N recorded, unprocessed mails; returns their ids."""
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "UPDATE threads_inboundmail SET status = 'pending', message_id = NULL,"
            " thread_id = NULL, organization_id = NULL, inbox_id = NULL, attempts = 0,"
            " reason = '', processed_at = NULL"
        )
        # Everything a run wrote goes, children first: the threads, their search
        # documents and outbox, and the tickets, events and reads made from them.
        for table in (
            "tickets_ticketevent",
            "tickets_ticketthread",
            "tickets_ticket_tags",
            "tickets_note",
            "tickets_rating",
            "tickets_slabreach",
            "tickets_ticket",
            "tickets_clientview",
            "tickets_replydraft",
            "tickets_threadread",
            "threads_threadsearch",
            "threads_outboundmail",
            "threads_attachment",
            "threads_participant",
            "threads_message",
            "threads_thread",
            "tisket_sequence",
        ):
            conn.execute(f"DELETE FROM {table}")  # noqa: S608 (our own table names)
        return [row[0] for row in conn.execute("SELECT id FROM threads_inboundmail ORDER BY id")]


def bench_worker(env: dict, database_url: str, broker_url: str, processes: int) -> float:
    """processed/s of a real Celery worker with this many processes, from Redis."""
    import redis
    from celery import Celery

    ids = _reset(database_url)
    redis.Redis.from_url(broker_url).flushdb()
    pool = ["--pool", "solo"] if processes == 1 else ["--pool", "prefork", "--concurrency", "2"]
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "--app", "config", "worker", *pool,
         "--without-mingle", "--without-gossip", "--without-heartbeat", "--loglevel", "WARNING"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        sender = Celery(broker=broker_url)
        sender.control.ping(timeout=1)  # the broker connection is up
        deadline = time.monotonic() + 60
        while not sender.control.ping(timeout=0.5) and time.monotonic() < deadline:
            pass
        started = time.perf_counter()
        # What the edge queues under load: one run per batch of mails, the
        # others riding along (tickets.intake.wake).
        with sender.producer_or_acquire() as producer:
            for inbound_id in ids[::100]:
                sender.send_task(
                    "tickets.tasks.inbound_mail_process", args=[inbound_id], producer=producer
                )
        while _pending(database_url):
            if time.perf_counter() - started > 900:
                raise RuntimeError("the worker did not finish within 15 minutes")
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    with psycopg.connect(database_url) as conn:
        outcomes = dict(
            conn.execute(
                "SELECT status, count(*) FROM threads_inboundmail GROUP BY status"
            ).fetchall()
        )
    log(f"worker x{processes}: {outcomes} in {elapsed:.2f}s")
    return len(ids) / elapsed


def bench_latency(env: dict, database_url: str, broker_url: str, mails: list[bytes]) -> dict:
    """Intake latency at a steady rate: webhook 200 to the mail stored in its thread.

    gunicorn and one Celery worker run as in production; mails are posted at
    LATENCY_RATE a second for LATENCY_SECONDS from a few paced clients, each 200
    timed; the latency of a mail is its processed_at (committed with its
    message) minus the moment its 200 arrived.
    """
    import redis

    rate = int(os.environ.get("BENCH_LATENCY_RATE", "200"))
    seconds = int(os.environ.get("BENCH_LATENCY_SECONDS", "60"))
    count = rate * seconds
    with psycopg.connect(database_url) as conn:
        conn.execute("DELETE FROM threads_inboundmail")
    _reset(database_url)
    redis.Redis.from_url(broker_url).flushdb()
    stamp = int(time.time())
    payloads = [
        json.dumps(
            {
                "FromFull": {"Email": "bench@client.test", "Name": ""},
                "ToFull": [{"Email": INBOX, "Name": ""}],
                "OriginalRecipient": INBOX,
                "Headers": [],
                "RawEmail": _unique(mails[n % len(mails)], f"lat{stamp}x{n}").decode(
                    "utf-8", "surrogateescape"
                ),
            }
        ).encode("utf-8", "surrogateescape")
        for n in range(count)
    ]
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--threads", "4", "--worker-class", "gthread",
         "--keep-alive", "30", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "--app", "config", "worker", "--pool", "solo",
         "--without-mingle", "--without-gossip", "--loglevel", "WARNING"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    accepted_at: dict[int, float] = {}
    try:
        _wait_http(port)
        auth = base64.b64encode(WEBHOOK_AUTH.encode()).decode()
        clients = 4
        start = time.time() + 1

        def client(k: int) -> None:
            conn = HTTPConnection("127.0.0.1", port, timeout=30)
            for n in range(k, count, clients):
                time.sleep(max(0.0, start + n / rate - time.time()))
                conn.request(
                    "POST",
                    "/anymail/postmark/inbound/",
                    payloads[n],
                    {"Authorization": f"Basic {auth}", "Content-Type": "application/json"},
                )
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    accepted_at[n] = time.time()
            conn.close()

        threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        deadline = time.monotonic() + 300
        while _pending(database_url) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        server.terminate()
        worker.terminate()
        server.wait(timeout=20)
        worker.wait(timeout=30)
    with psycopg.connect(database_url) as conn:
        processed = dict(
            conn.execute(
                "SELECT message_id_header, extract(epoch FROM processed_at)"
                " FROM threads_inboundmail WHERE processed_at IS NOT NULL"
            ).fetchall()
        )
    ids = {n: _message_id_of(payloads[n]) for n in accepted_at}
    latencies = sorted(
        float(processed[ids[n]]) - at for n, at in accepted_at.items() if ids[n] in processed
    )
    figures = {
        "rate": rate,
        "seconds": seconds,
        "accepted": len(accepted_at),
        "stored": len(latencies),
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p95": latencies[int(len(latencies) * 0.95)] if latencies else float("nan"),
        "max": latencies[-1] if latencies else float("nan"),
    }
    log(f"latency at {rate}/s for {seconds}s: {figures}")
    return figures


MESSAGE_ID = re.compile(rb"Message-ID: <([^>]+)>")


def _message_id_of(payload: bytes) -> str:
    return MESSAGE_ID.search(payload).group(1).decode()


PEER_SETTINGS = """
import dj_database_url, os
SECRET_KEY = "bench"
DEBUG = False
USE_TZ = True
SITE_ID = 1
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
    "django.contrib.sessions", "django.contrib.messages", "django.contrib.sites",
    "django.contrib.humanize", "rest_framework", "account", "pinax.invitations",
    "pinax.teams", "reversion", "helpdesk",
]
DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=600)}
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
              "OPTIONS": {"context_processors": ["django.template.context_processors.request"]}}]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = os.environ["PEER_MEDIA"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
HELPDESK_ENABLE_ATTACHMENTS = True
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "ERROR"}}
"""

PEER_RUN = """
import json, logging, sys, time
from pathlib import Path
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from helpdesk.email import extract_email_metadata
from helpdesk.models import Queue
queue = Queue.objects.create(title="Support", slug="support", email_address=sys.argv[2],
                             allow_email_submission=True)
mails = [p.read_bytes().decode("utf-8", "replace") for p in sorted(Path(sys.argv[1]).iterdir())]
logger = logging.getLogger("peer")
failed = 0
start = time.perf_counter()
for mail in mails:
    try:
        extract_email_metadata(mail, queue, logger)
    except Exception:
        failed += 1
elapsed = time.perf_counter() - start
print(json.dumps({"mails": len(mails), "failed": failed, "seconds": elapsed}))
"""


def bench_peer(mails: list[bytes]) -> float:
    """django-helpdesk's mails/s on one core, over the same mails."""
    home = BENCH_DIR / "helpdesk-venv"
    python = home / "bin" / "python"
    if not (home / ".ready").exists():
        log("installing django-helpdesk into its own virtualenv (once)")
        venv.create(home, with_pip=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "django-helpdesk[teams]",
             "psycopg[binary]", "dj-database-url"],
            check=True,
        )  # fmt: skip
        (home / ".ready").touch()
    database_url = bench_database_url("ingest", "tisket_bench_peer")
    recreate_database(database_url)
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work) / "mails"
        folder.mkdir()
        for n, raw in enumerate(mails):
            (folder / f"{n:06d}.eml").write_bytes(raw)
        (Path(work) / "peer_settings.py").write_text(textwrap.dedent(PEER_SETTINGS))
        env = {
            "PATH": os.environ.get("PATH", ""),
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "peer_settings",
            "PYTHONPATH": work,
            "PEER_MEDIA": str(Path(work) / "media"),
        }
        result = subprocess.run(
            [str(python), "-c", PEER_RUN, str(folder), INBOX],
            env=env, cwd=work, check=True, capture_output=True, text=True,
        )  # fmt: skip
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    log(f"django-helpdesk: {figures}")
    return (figures["mails"] - figures["failed"]) / figures["seconds"]


def main() -> None:
    count = int(os.environ.get("BENCH_MAILS", "2000"))
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        sys.exit("bench ingest: set REDIS_URL (the worker runs on Redis)")
    broker_url = redis_url.rsplit("/", 1)[0] + "/13"
    database_url = bench_database_url("ingest", "tisket_bench")
    recreate_database(database_url)
    corpus = _corpus_mails()
    mails = [_unique(corpus[n % len(corpus)], n) for n in range(count)]
    with tempfile.TemporaryDirectory() as data_dir:
        env = _env(database_url, broker_url, data_dir)
        _manage(env, "migrate", "-v0")
        setup = (
            "from tisket import services; from inboxes.services import inbox_create;"
            "owner, _ = services.user_get_or_create(email='owner@bench.test');"
            "org = services.organization_create(name='Bench', slug='bench', owner=owner);"
            "inbox_create(organization=org, name='support', auto_ack_enabled=False)"
        )
        _manage(env, "shell", "--no-imports", "-c", setup)
        log(f"{count} mails from {len(corpus)} corpus messages")
        accepted_per_s, p50, p99 = bench_webhook(env, mails)
        log(f"webhook: {accepted_per_s:.0f} accepted/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms")
        # A worker run lasts two or three seconds, short enough for a neighbour's
        # burst on a shared machine to skew it: each figure is the median of three.
        per_s_1core = statistics.median(
            bench_worker(env, database_url, broker_url, processes=1) for _ in range(WORKER_RUNS)
        )
        per_s = statistics.median(
            bench_worker(env, database_url, broker_url, processes=2) for _ in range(WORKER_RUNS)
        )
        latency = bench_latency(env, database_url, broker_url, mails)
    peer_per_s = bench_peer(mails)
    print(
        f"BENCH ingest mails={count} accepted_per_s={accepted_per_s:.0f} "
        f"accept_p99_ms={p99:.1f} processed_per_s={per_s:.0f} "
        f"processed_per_s_1core={per_s_1core:.0f} peer_per_s={peer_per_s:.1f} "
        f"ratio_1core={per_s_1core / peer_per_s:.1f} "
        f"latency_rate={latency['rate']} latency_p95_s={latency['p95']:.2f} "
        f"latency_max_s={latency['max']:.2f} "
        f"latency_stored={latency['stored']}/{latency['accepted']}"
    )


if __name__ == "__main__":
    main()
