"""Real processes for tests: an installation's environment, its web server and workers.

A cold process (Python, Django, Celery or gunicorn starting) may take long on a
loaded machine, and that is never what a test measures: each one is waited for
until it is ready, within READY_WITHIN, and only then does a test's own clock start.
"""

import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
READY_WITHIN = 120  # seconds: a bound on a cold start under load, never a budget under test
WORKER = ["-m", "celery", "--app", "config", "worker", "--pool", "solo",
          "--without-mingle", "--without-gossip", "--loglevel", "INFO"]  # fmt: skip
WORKER_READY = r"\S+@\S+ ready\."
EMBEDDED_WORKER = ["-m", "config.worker"]
EMBEDDED_READY = r"embedded worker ready"


def production_env(data_dir: Path, database_url: str = "") -> dict[str, str]:
    """A production process's environment: its data dir; no broker (the embedded worker)."""
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CELERY_", "EMAIL_")) and k not in {"REDIS_URL", "DATABASE_URL"}
    }
    return inherited | {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "TISKET_DATA_DIR": str(data_dir),
        "DATABASE_URL": database_url or f"sqlite:///{data_dir / 'db.sqlite3'}",
        "TISKET_INBOUND_DOMAIN": "in.tisket.test",
    }


def installation(migrated_sqlite: Path, data_dir: Path) -> dict[str, str]:
    """A new installation in data_dir on a copy of the migrated database; its environment."""
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(migrated_sqlite, data_dir / "db.sqlite3")
    return production_env(data_dir)


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """`manage.py <args>` in a process of its own; it must succeed."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=READY_WITHIN,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def django(env: dict[str, str], code: str) -> str:
    """Run code in `manage.py shell` under env; what it printed."""
    return manage(env, "shell", "--no-imports", "-c", code).stdout


def wait(condition: Callable[[], object], timeout: float = 30, what: str = "") -> None:
    """Until condition() holds; timeout only stops the waiting."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what or condition} not within {timeout} s"
        time.sleep(0.05)


class Child:
    """A child process (and its own children), its output collected as it comes."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=env, text=True, start_new_session=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.lines: list[str] = []
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, pattern: str, count: int = 1, timeout: float = 30) -> None:
        """Until `count` lines of the output match pattern."""
        deadline = time.monotonic() + timeout
        while sum(bool(re.search(pattern, line)) for line in list(self.lines)) < count:
            assert self.process.poll() is None, f"it exited:\n{self.output}"
            assert time.monotonic() < deadline, f"no {pattern!r} in {timeout} s:\n{self.output}"
            time.sleep(0.05)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@contextmanager
def running(args: list[str], env: dict[str, str]) -> Iterator[Child]:
    child = Child(args, env)
    try:
        yield child
    finally:
        child.kill(signal.SIGTERM)


@contextmanager
def worker_running(env: dict[str, str]) -> Iterator[Child]:
    """The worker `make run` and production start, once it takes work: a Celery worker
    when env names a broker, else the embedded worker."""
    if env.get("CELERY_BROKER_URL") or env.get("REDIS_URL"):
        # A node name of its own: two workers named alike on one broker (another suite's,
        # say) fight over their control queue, and RabbitMQ stops the second.
        command, ready = [*WORKER, "--hostname", f"test-{uuid.uuid4().hex[:12]}@%h"], WORKER_READY
    else:
        command, ready = EMBEDDED_WORKER, EMBEDDED_READY
    with running(command, env) as worker:
        worker.wait_for(ready, timeout=READY_WITHIN)
        yield worker


def http_answers(port: int, path: str = "/api/v1/me/") -> bool:
    """Whether a web server on port has its application loaded: any HTTP answer will do."""
    web = http.client.HTTPConnection("127.0.0.1", port, timeout=READY_WITHIN)
    try:
        web.request("GET", path)
        web.getresponse().read()
    except OSError:
        return False
    finally:
        web.close()
    return True


def shared_database_url(host: str = "", port: int = 0) -> str:
    """The URL of the tests' own PostgreSQL database (for processes that share it),
    optionally through another host and port (a proxy)."""
    from django.db import connection

    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    return (
        f"postgres://{quote(db['USER'], safe='')}{password}@{host or db['HOST'] or 'localhost'}"
        f":{port or db['PORT'] or 5432}/{db['NAME']}"
    )
