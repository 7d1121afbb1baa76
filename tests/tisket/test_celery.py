"""The Celery app: what the embedded default does with a queued task, and the limits
every task must keep under the broker's redelivery timeout."""

import pytest
from django.conf import settings

from config.celery import app
from tisket import liveness


def _project_tasks() -> dict:
    app.loader.import_default_modules()
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def test_every_task_is_one_the_embedded_worker_runs():
    """A new task must stand for rows the embedded worker finds, or run on beat's schedule:
    add it to liveness.EMBEDDED_TASKS (and config/worker.py) knowingly."""
    assert set(_project_tasks()) <= liveness.EMBEDDED_TASKS | liveness.EMBEDDED_DETACHED
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled <= liveness.EMBEDDED_TASKS


def test_every_task_ends_before_the_broker_would_hand_it_to_another_worker():
    """Redis redelivers a task unacknowledged after the visibility timeout: a task still
    running then would run twice. Every hard time limit is below it."""
    for name, task in _project_tasks().items():
        limit = task.time_limit or settings.CELERY_TASK_TIME_LIMIT
        assert limit < settings.TISKET_BROKER_VISIBILITY_TIMEOUT, name


@pytest.fixture
def embedded(settings, tmp_path):
    settings.TISKET_EMBEDDED_WORKER = True
    settings.DATA_DIR = tmp_path
    app.conf.task_always_eager = False
    yield tmp_path
    app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER


def test_in_the_embedded_default_a_queued_task_is_not_published_but_wakes_the_worker(embedded):
    from tisket.tasks import sessions_clear

    assert not (embedded / "worker.wake").exists()
    assert sessions_clear.delay() is None  # published nowhere: the memory broker is never used
    assert (embedded / "worker.wake").exists()


def test_a_task_the_embedded_worker_does_not_run_is_refused_loudly(embedded, caplog):
    @app.task(name="tests.tasks.stray")
    def stray() -> None:  # pragma: no cover (never run)
        raise AssertionError

    try:
        assert stray.delay() is None
    finally:
        del app.tasks["tests.tasks.stray"]
    assert "tests.tasks.stray is not run by the embedded worker" in caplog.text
