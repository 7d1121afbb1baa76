"""Scale-out benchmark: 10,000 mails posted concurrently to two web processes, taken by
two Celery workers, on PostgreSQL and Redis (tests/cluster.py; the test of the same
name runs 300).

Seven in ten mails are questions, posted first; the rest are replies to them. It
reports the rate at which the web processes accepted the mails (while posting),
the rate from the first post to the last mail stored, and whether every mail was
stored once with thread and ticket numbers that run without a gap. It makes its
own database each run.

Needs DATABASE_URL (PostgreSQL) and REDIS_URL. BENCH_MAILS sets N (default 10000).
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.support import ROOT, bench_database_url, recreate_database
from tests.cluster import check, cluster, mail

INBOX = "support.bench@in.bench.test"


def log(message: str) -> None:
    print(f"[scale] {message}", file=sys.stderr, flush=True)


def main() -> None:
    count = int(os.environ.get("BENCH_MAILS", "10000"))
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        sys.exit("bench scale: set REDIS_URL (the workers share its queues)")
    database_url = bench_database_url("scale", "tisket_bench_scale")
    recreate_database(database_url)
    questions = count * 7 // 10
    with tempfile.TemporaryDirectory() as data_dir:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TISKET_", "CELERY_"))} | {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": redis_url.rsplit("/", 1)[0] + "/13",
            "TISKET_DATA_DIR": data_dir,
            "TISKET_INBOUND_DOMAIN": "in.bench.test",
            "HOME": data_dir,
        }
        env.pop("REDIS_URL", None)  # the cache: files in the shared data dir
        run = [sys.executable, "manage.py"]
        subprocess.run([*run, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        setup = (
            "from tisket import services; from inboxes.services import inbox_create;"
            "owner, _ = services.user_get_or_create(email='owner@bench.test');"
            "org = services.organization_create(name='Bench', slug='bench', owner=owner);"
            "inbox_create(organization=org, name='support', auto_ack_enabled=False)"
        )
        subprocess.run([*run, "shell", "--no-imports", "-c", setup], cwd=ROOT, env=env, check=True)
        first = [mail(n, INBOX) for n in range(questions)]
        then = [
            mail(questions + n, INBOX, reply_to=n % questions) for n in range(count - questions)
        ]
        with cluster(env, database_url) as running:
            started = time.perf_counter()
            statuses = running.post_all(first, INBOX)
            posting = time.perf_counter() - started
            running.drain(timeout=1800)
            replies_at = time.perf_counter()
            statuses += running.post_all(then, INBOX)
            posting += time.perf_counter() - replies_at
            running.drain(timeout=1800)
            elapsed = time.perf_counter() - started
            output = running.output()
    refused = sum(1 for status in statuses if status != 200)
    result = check(database_url, [f"scale-{n}@client.test" for n in range(count)])
    log(f"inbound: {result['statuses']}; gaps {result['gaps']}")
    deadlocks = output.lower().count("deadlock detected")
    Path(tempfile.gettempdir(), "bench-scale-output.log").write_text(output)
    print(
        f"BENCH scale mails={count} webs=2 workers=2 refused={refused} "
        f"accepted_per_s={count / posting:.0f} end_to_end_per_s={count / elapsed:.0f} "
        f"missing={len(result['missing'])} doubled={len(result['doubled'])} "
        f"number_gaps={len(result['gaps'])} threads_miscounted={result['threads_miscounted']} "
        f"deadlocks={deadlocks}"
    )


if __name__ == "__main__":
    main()
