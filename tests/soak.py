"""Soak test of the embedded default (`make soak MINUTES=N`).

`make run`'s runner (config.embedded) serves a fresh installation on SQLite with
its embedded worker. A mail arrives through the Postmark webhook every second for
N minutes, one in three a reply to an earlier one; the worker is killed with
SIGKILL at a third and at two thirds of the time. A post that is not answered 200
is posted again the next second, as an ESP retries. /healthz is read every ten
seconds. At the end, once nothing is pending, it checks that the server still
answers and that every accepted mail became exactly one message, and prints one
line `SOAK key=value ...`; it exits non-zero if anything was lost, doubled or
refused for good.
"""

import argparse
import base64
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INBOX = "support.soak@in.soak.test"
AUTH = "soak:webhook-secret"


def log(message: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _mail(n: int) -> tuple[str, bytes]:
    message_id = f"soak-{n}@client.test"
    client = (n - n % 3) % 17  # a question and its reply come from the same client
    head = [
        f"From: Client {client} <client{client}@client.test>",
        f"To: Support <{INBOX}>",
        f"Subject: {'Re: ' if n % 3 == 2 else ''}Question {n - n % 3}",
        f"Message-ID: <{message_id}>",
        "Date: Thu, 03 Dec 2026 12:00:00 +0000",
        "Content-Type: text/plain; charset=utf-8",
    ]
    if n % 3 == 2:  # a reply to the mail two before it
        head.append(f"In-Reply-To: <soak-{n - 2}@client.test>")
    body = f"Mail number {n}.\nIt says something about the printer.\n"
    return message_id, ("\r\n".join(head) + "\r\n\r\n" + body).encode()


def _post(port: int, raw: bytes) -> int:
    payload = json.dumps(
        {
            "From": "client@client.test",
            "FromFull": {"Email": "client@client.test", "Name": ""},
            "To": INBOX,
            "ToFull": [{"Email": INBOX, "Name": ""}],
            "OriginalRecipient": INBOX,
            "Subject": "",
            "Headers": [],
            "RawEmail": raw.decode(),
        }
    )
    auth = base64.b64encode(AUTH.encode()).decode()
    conn = HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(
            "POST",
            "/anymail/postmark/inbound/",
            body=payload,
            headers={"Authorization": f"Basic {auth}", "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError:
        return 0
    finally:
        conn.close()


def _health(port: int) -> tuple[int, dict]:
    conn = HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    except (OSError, ValueError):
        return 0, {}
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Soak test of the embedded default.")
    parser.add_argument("--minutes", type=float, default=10)
    args = parser.parse_args(argv)
    seconds = args.minutes * 60
    data = Path(tempfile.mkdtemp(prefix="tisket-soak-"))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TISKET_", "CELERY_", "EMAIL_", "ANYMAIL_"))
        and k not in {"DATABASE_URL", "REDIS_URL", "SITE_URL", "ALLOWED_HOSTS"}
    } | {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "TISKET_DATA_DIR": str(data),
        "TISKET_INBOUND_DOMAIN": "in.soak.test",
        "TISKET_WEBHOOK_SECRET": AUTH,
        "HOME": str(data),  # gunicorn's control socket
    }
    run = [sys.executable, "manage.py"]
    subprocess.run([*run, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    setup = (
        "from tisket import services; from inboxes.services import inbox_create;"
        "owner, _ = services.user_get_or_create(email='owner@soak.test');"
        "org = services.organization_create(name='Soak', slug='soak', owner=owner);"
        "inbox_create(organization=org, name='support')"
    )
    subprocess.run([*run, "shell", "--no-imports", "-c", setup], cwd=ROOT, env=env, check=True)
    port = _free_port()
    runner_log = (data / "runner.log").open("w")
    runner = subprocess.Popen(
        [sys.executable, "-m", "config.embedded", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=runner_log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    log(f"{args.minutes:g} minutes, data in {data}, serving on port {port}")
    deadline = time.monotonic() + 120
    while _health(port)[0] != 200:
        if time.monotonic() > deadline or runner.poll() is not None:
            sys.exit(f"soak: the server did not start; see {data / 'runner.log'}")
        time.sleep(0.5)

    posted: list[str] = []
    refused = 0
    health_failures = 0
    health_seen = 0
    worker_dead_seen = 0
    max_pending = 0
    kills_at = [seconds / 3, 2 * seconds / 3]
    kills = 0
    started = time.monotonic()
    tick = 0
    retry: tuple[str, bytes] | None = None
    while (elapsed := time.monotonic() - started) < seconds:
        message_id, raw = retry or _mail(len(posted))
        status = _post(port, raw)
        if status == 200:
            posted.append(message_id)
            retry = None
        else:
            refused += 1
            retry = (message_id, raw)
            log(f"post of {message_id} answered {status}; posted again in a second")
        if kills_at and elapsed >= kills_at[0]:
            kills_at.pop(0)
            pid = int((data / "worker.pid").read_text())
            os.kill(pid, signal.SIGKILL)
            kills += 1
            log(f"worker (pid {pid}) killed with SIGKILL, {len(posted)} mails posted so far")
        if tick % 10 == 0:
            code, body = _health(port)
            health_seen += 1
            if code != 200:
                health_failures += 1
                log(f"/healthz answered {code}: {body}")
            else:
                worker_dead_seen += not body["worker"]["alive"]
                max_pending = max(max_pending, body["queues"]["inbound_pending"])
            if tick % 60 == 0:
                log(f"{len(posted)} posted; healthz {code} {json.dumps(body)}")
        tick += 1
        time.sleep(max(0.0, started + tick - time.monotonic()))

    log(f"{len(posted)} mails posted; waiting for the worker to take the last ones")
    deadline = time.monotonic() + 180
    while True:
        code, body = _health(port)
        if code == 200 and body["queues"]["inbound_pending"] == 0:
            break
        if time.monotonic() > deadline:
            log(f"still pending after 3 minutes: {body}")
            break
        time.sleep(1)
    final_code, final = _health(port)
    runner.send_signal(signal.SIGTERM)
    runner.wait(timeout=30)
    runner_log.close()
    output = (data / "runner.log").read_text()
    restarts = output.count("started again (pid")

    database = sqlite3.connect(data / "tisket.sqlite3")
    try:
        stored = dict(
            database.execute(
                "SELECT message_id, count(*) FROM threads_message"
                " WHERE message_id LIKE 'soak-%' GROUP BY message_id"
            ).fetchall()
        )
        statuses = dict(
            database.execute("SELECT status, count(*) FROM threads_inboundmail GROUP BY status")
        )
        latencies = sorted(
            row[0]
            for row in database.execute(
                "SELECT (julianday(processed_at) - julianday(received_at)) * 86400"
                " FROM threads_inboundmail WHERE processed_at IS NOT NULL"
            )
        )
        threads = database.execute("SELECT count(*) FROM threads_thread").fetchone()[0]
        outbox = dict(
            database.execute("SELECT status, count(*) FROM threads_outboundmail GROUP BY status")
        )
    finally:
        database.close()
    missing = [m for m in posted if m not in stored]
    doubled = [m for m, count in stored.items() if count > 1]
    p95 = latencies[int(len(latencies) * 0.95)] if latencies else float("nan")
    ok = (
        final_code == 200
        and not missing
        and not doubled
        and kills == 2
        and restarts >= 2
        and "Traceback" not in output
    )
    log(f"inbound: {statuses}; outbox: {outbox}; threads: {threads}")
    if not ok:
        log(f"missing {missing[:5]}, doubled {doubled[:5]}; runner log:\n{output[-3000:]}")
    print(
        f"SOAK minutes={args.minutes:g} posted={len(posted)} refused_then_retried={refused} "
        f"messages={len(stored)} missing={len(missing)} doubled={len(doubled)} "
        f"worker_kills={kills} worker_restarts={restarts} "
        f"healthz_checks={health_seen} healthz_failures={health_failures} "
        f"healthz_worker_dead_seen={worker_dead_seen} max_pending={max_pending} "
        f"intake_p50_s={statistics.median(latencies) if latencies else float('nan'):.2f} "
        f"intake_p95_s={p95:.2f} intake_max_s={latencies[-1] if latencies else 0:.2f} "
        f"final_healthz={final_code} worker_alive_at_end={final.get('worker', {}).get('alive')} "
        f"result={'ok' if ok else 'FAILED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
