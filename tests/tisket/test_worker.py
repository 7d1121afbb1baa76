"""The real worker, as `make run` and production start it, picks up work after commit."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import redis_url

ROOT = Path(__file__).resolve().parents[2]


def _manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True
    )


@pytest.mark.parametrize("broker", ["embedded", "redis"])
def test_a_task_sent_after_commit_is_run_by_the_worker(tmp_path, broker):
    env = {k: v for k, v in os.environ.items() if k not in {"CELERY_BROKER_URL", "REDIS_URL"}} | {
        "TISKET_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    if broker == "redis":
        env["CELERY_BROKER_URL"] = redis_url().rsplit("/", 1)[0] + "/14"
    _manage(env, "migrate", "-v0")
    # An expired session for the worker's housekeeping task to delete.
    _manage(
        env,
        "shell",
        "--no-imports",
        "-c",
        "from django.contrib.sessions.models import Session;"
        "from django.utils import timezone;"
        "from datetime import timedelta;"
        "Session.objects.create(session_key='x'*32, session_data='',"
        " expire_date=timezone.now()-timedelta(days=1))",
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "--app", "config", "worker", "--pool", "solo",
         "--without-mingle", "--without-gossip", "--loglevel", "WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        _manage(
            env,
            "shell",
            "--no-imports",
            "-c",
            "from django.db import transaction; from tisket.tasks import sessions_clear\n"
            "with transaction.atomic(): transaction.on_commit(sessions_clear.delay)",
        )
        deadline = time.monotonic() + 30
        remaining = "1"
        while time.monotonic() < deadline:
            remaining = (
                _manage(
                    env,
                    "shell",
                    "--no-imports",
                    "-c",
                    "from django.contrib.sessions.models import Session;"
                    "print(Session.objects.count())",
                )
                .stdout.decode()
                .strip()
            )
            if remaining == "0":
                break
            time.sleep(0.5)
        assert remaining == "0", "the worker did not run the task within 30 s"
    finally:
        worker.terminate()
        output = worker.communicate(timeout=20)[0].decode()
    assert "Traceback" not in output, output
