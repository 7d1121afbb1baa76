"""The Celery app. Configuration lives in settings (CELERY_* names); the beat schedule too.

With a broker (production), tasks are published and Celery workers run them. In
the embedded default (no broker configured) nothing is published: every task
queued from a web request stands for a row the embedded worker finds in the
database (config/worker.py), so queueing one only wakes that worker.
"""

import logging
import os
import threading

from celery import Celery, Task
from celery.signals import task_postrun, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

logger = logging.getLogger(__name__)


class TisketTask(Task):
    def apply_async(self, args=None, kwargs=None, **options):
        from django.conf import settings

        if settings.TISKET_EMBEDDED_WORKER and not self.app.conf.task_always_eager:
            from tisket import liveness

            if self.name in liveness.EMBEDDED_DETACHED:
                threading.Thread(
                    target=_run_detached, args=(self, args or (), kwargs or {}), daemon=True
                ).start()
                return None
            if self.name not in liveness.EMBEDDED_TASKS:
                # A task must stand for a row the embedded worker looks for (or run on its
                # schedule); config/worker.py and tests/tisket/test_celery.py say which.
                logger.error("%s is not run by the embedded worker; not queued", self.name)
            liveness.worker_wake()
            return None
        return super().apply_async(args, kwargs, **options)


def _run_detached(task: Task, args, kwargs) -> None:
    from django.db import connections

    try:
        result = task.apply(args, kwargs)
        if result.failed():
            logger.error("%s failed: %s", task.name, result.result)
    finally:
        connections.close_all()


app = Celery("tisket", task_cls=TisketTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def _ready(**kwargs: object) -> None:
    from tisket import liveness

    liveness.worker_seen(force=True)


@task_postrun.connect
def _ran(**kwargs: object) -> None:
    from tisket import liveness

    liveness.worker_seen()
