"""The embedded worker: the background work of the embedded default, found in the database.

`make run` starts it beside the web server when no broker is configured. It has
no queue of its own to lose or corrupt: the inbound log and the outbox are
durable tables, and this loop runs the same task functions a Celery worker runs
whenever they hold work, claiming rows exactly as a Celery worker does:

- pending inbound mail: tickets.tasks.inbound_mail_process (each batch locks its mails);
- outbound mail that is due: threads.tasks.outbox_sweep_task, which sends each row once,
  claimed in its own commit before the transport is called;
- beat's schedule (settings.CELERY_BEAT_SCHEDULE): the SLA sweep, mailbox polls,
  housekeeping, each at its interval.

A task queued from a web request only touches DATA_DIR/worker.wake (config/celery.py):
the loop looks at once, and every second anyway. Killed at any point, it loses nothing:
a transaction that did not commit leaves its rows as they were, for the next run.
Started again (config/embedded.py restarts it), it carries on.

Run it alone with `python -m config.worker`.
"""

import logging
import os
import signal
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

logger = logging.getLogger("tisket.worker")

LOOK_EVERY = 1.0  # seconds between looks at the tables when nothing woke the loop
NAP = 0.1  # seconds between looks at the wake file
INBOUND = "tickets.tasks.inbound_mail_process"
OUTBOX = "threads.tasks.outbox_sweep_task"


class Loop:
    def __init__(self) -> None:
        from django.conf import settings

        from config.celery import app

        # Tasks that queue other tasks (a poll per mailbox, a send per due row) run
        # them inline here: there is no broker to hand them to.
        app.conf.task_always_eager = True
        app.conf.task_eager_propagates = False
        app.loader.import_default_modules()  # the apps' tasks modules, as a worker loads them
        self.app = app
        self.stopping = False
        now = time.monotonic()
        # Beat's schedule, each entry first run at start: a restarted worker catches up.
        self.schedule = {
            entry["task"]: float(entry["schedule"])
            for entry in settings.CELERY_BEAT_SCHEDULE.values()
        }
        self.next_run = dict.fromkeys(self.schedule, now)
        self.last_look = float("-inf")
        self.wake_seen = self._wake_mtime()

    def _wake_mtime(self) -> float:
        from tisket import liveness

        try:
            return liveness.wake_path().stat().st_mtime
        except OSError:
            return 0.0

    def run(self, name: str) -> object:
        """One task, run here as a Celery worker would run it; its failure is logged, not raised."""
        # Celery logs the outcome ("Task <name>[<id>] succeeded in <s>: <result>") as in a worker.
        result = self.app.tasks[name].apply()
        return None if result.failed() else result.result

    def has_work(self) -> tuple[bool, bool]:
        """Whether inbound mail is pending, and whether outbound mail is due."""
        from django.db.models import Q
        from django.utils import timezone

        from threads.models import InboundMail, OutboundMail

        now = timezone.now()
        # Mail claimed by a run under way (or by a dead one, until its claim runs out)
        # is not for this loop yet: threads.ingest.claims.
        inbound = InboundMail.objects.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
            status=InboundMail.Status.PENDING,
        ).exists()
        outbound = OutboundMail.objects.filter(
            status=OutboundMail.Status.PENDING, next_attempt_at__lte=now
        ).exists()
        return inbound, outbound

    def tick(self) -> None:
        from django.db import close_old_connections

        from tisket import liveness

        liveness.worker_seen()
        now = time.monotonic()
        wake = self._wake_mtime()
        if wake != self.wake_seen or now - self.last_look >= LOOK_EVERY:
            self.wake_seen, self.last_look = wake, now
            close_old_connections()
            try:
                inbound, outbound = self.has_work()
            except Exception as exc:  # the database is away: look again in a second
                logger.warning("the database did not answer (%s); looking again", exc)
                return
            if inbound:
                self.run(INBOUND)
            if outbound:
                self.run(OUTBOX)
        for name, every in self.schedule.items():
            if self.stopping:
                return
            if time.monotonic() >= self.next_run[name]:
                self.next_run[name] = time.monotonic() + every
                close_old_connections()
                self.run(name)

    def forever(self) -> None:
        logger.info("embedded worker ready (pid %s)", os.getpid())
        while not self.stopping:
            self.tick()
            time.sleep(NAP)
        logger.info("embedded worker stopped")


def main() -> int:
    import django

    django.setup()
    loop = Loop()

    def stop(signum: int, frame: object) -> None:
        loop.stopping = True  # the job at hand finishes first

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    loop.forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
