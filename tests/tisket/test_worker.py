"""The real worker, as `make run` and production start it, picks up work after commit."""

import sqlite3

import pytest

from tests.conftest import redis_url
from tests.processes import django, installation, wait, worker_running

EXPIRED_SESSION = (
    "INSERT INTO django_session (session_key, session_data, expire_date)"
    " VALUES (?, '', datetime('now', '-1 day'))"
)


def _sessions(path) -> int:
    database = sqlite3.connect(path)
    try:
        return database.execute("SELECT count(*) FROM django_session").fetchone()[0]
    finally:
        database.close()


@pytest.mark.parametrize("broker", ["embedded", "redis"])
def test_a_task_sent_after_commit_is_run_by_the_worker(migrated_sqlite, tmp_path, broker):
    env = installation(migrated_sqlite, tmp_path)
    if broker == "redis":
        env["CELERY_BROKER_URL"] = redis_url().rsplit("/", 1)[0] + "/14"
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
        wait(lambda: _sessions(database) == 0, what="the worker running the task")
    assert "Traceback" not in worker.output, worker.output
