"""Serve Tisket with its background worker in one command (what `make run` starts).

The web server (uvicorn, serving config.asgi: the site and the MCP server at
/mcp) and a worker run as two child processes: the embedded worker
(config/worker.py) when no broker is configured, else a Celery worker with an
embedded beat. Ctrl-C or SIGTERM stops both. The web server never stops
because the worker died: a dead worker is started again, waiting longer after
each quick death (1 s, 2 s, 4 s... up to a minute), and /healthz says whether a
worker is alive. If the web server itself exits, everything stops.

The address it serves at is written to DATA_DIR/site_url, where settings read
it, so links built by a manage.py command in another shell point to it. Bound to
every interface (--host 0.0.0.0), it serves at this machine's LAN address and
accepts its host names.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BACKOFF_MAX = 60.0
STEADY = 60.0  # seconds a worker must live for its next death to count as a first one


def log(message: str) -> None:
    print(f"tisket: {message}", file=sys.stderr, flush=True)


def _lan_address() -> str:
    """This machine's address on its network (no packet is sent), else its host name."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: only picks the outgoing interface
            address = probe.getsockname()[0]
        except OSError:
            address = ""
    return address if address and not address.startswith("127.") else socket.gethostname()


def _own_names() -> list[str]:
    """The names and addresses by which other machines may reach this one."""
    hostname = socket.gethostname()
    names = {hostname, f"{hostname}.local", socket.getfqdn(), _lan_address()}
    try:
        for *_, sockaddr in socket.getaddrinfo(hostname, None):
            names.add(str(sockaddr[0]))
    except OSError:
        pass
    return sorted(name for name in names if name)


def site(host: str, port: int) -> tuple[str, dict[str, str]]:
    """The URL the desk is served at, and what the children's environment adds for it."""
    extra: dict[str, str] = {}
    everywhere = host in {"0.0.0.0", "::", "[::]", ""}  # noqa: S104 (what the user asked for)
    if everywhere and not os.environ.get("ALLOWED_HOSTS"):
        extra["TISKET_EXTRA_HOSTS"] = ",".join(_own_names())
    if url := os.environ.get("SITE_URL"):
        return url.rstrip("/"), extra
    shown = _lan_address() if everywhere else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}", extra


def data_dir() -> Path:
    return Path(os.environ.get("TISKET_DATA_DIR", str(ROOT / "var"))).resolve()


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f"{path.name}.{os.getpid()}")
    draft.write_text(text)
    draft.replace(path)


def _commands(host: str, port: int, debug: bool) -> dict[str, list[str]]:
    web = [
        sys.executable,
        "-m",
        "uvicorn",
        "config.asgi:application",
        "--host",
        host,
        "--port",
        str(port),
        "--lifespan",
        "on",
    ]
    # --reload watches the code in one process; otherwise a few workers share the port.
    web += ["--reload"] if debug else ["--workers", os.environ.get("WEB_CONCURRENCY", "2")]
    if os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL"):
        worker = [
            sys.executable, "-m", "celery", "--app", "config", "worker", "--beat",
            "--pool", "solo", "--loglevel", "INFO", "--without-mingle", "--without-gossip",
        ]  # fmt: skip
    else:
        worker = [sys.executable, "-m", "config.worker"]
    return {"web": web, "worker": worker}


class Worker:
    """The worker child: started again when it dies, backing off while it keeps dying."""

    def __init__(self, command: list[str], env: dict[str, str], pid_file: Path) -> None:
        self.command, self.env, self.pid_file = command, env, pid_file
        self.backoff = 1.0
        self.restart_at: float | None = None
        self.restarts = 0
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, env=self.env)  # noqa: S603 (our own argv)
        self.started = time.monotonic()
        self.restart_at = None
        _write(self.pid_file, f"{self.process.pid}\n")

    def watch(self) -> None:
        if self.restart_at is not None:
            if time.monotonic() >= self.restart_at:
                self.restarts += 1
                self.start()
                log(
                    f"the worker is started again (pid {self.process.pid}, restart {self.restarts})"
                )
            return
        code = self.process.poll()
        if code is None:
            return
        if time.monotonic() - self.started >= STEADY:
            self.backoff = 1.0
        log(
            f"the worker exited ({code}); the web server carries on and the worker "
            f"starts again in {self.backoff:.0f} s"
        )
        self.restart_at = time.monotonic() + self.backoff
        self.backoff = min(self.backoff * 2, BACKOFF_MAX)

    def stop(self) -> None:
        if self.restart_at is None and self.process.poll() is None:
            self.process.terminate()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--site-url-only",
        action="store_true",
        help="write DATA_DIR/site_url and exit (so that what runs before the server agrees)",
    )
    args = parser.parse_args(argv)
    debug = os.environ.get("DEBUG", "").lower() in {"1", "true", "yes", "on"}

    url, extra = site(args.host, args.port)
    folder = data_dir()
    _write(folder / "site_url", url + "\n")
    if args.site_url_only:
        return 0
    env = os.environ | extra | {"SITE_URL": url}
    log(f"serving at {url}/ (written to {folder / 'site_url'} for manage.py commands)")

    commands = _commands(args.host, args.port, debug)
    web = subprocess.Popen(commands["web"], env=env)  # noqa: S603 (our own fixed argv)
    worker = Worker(commands["worker"], env, folder / "worker.pid")
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    exit_code = 0
    while not stopping:
        if web.poll() is not None:
            log(f"the web server exited ({web.returncode}); stopping.")
            exit_code = web.returncode or 1
            break
        worker.watch()
        time.sleep(0.2)

    if web.poll() is None:
        web.terminate()
    worker.stop()
    deadline = time.monotonic() + 15
    for child in (web, worker.process):
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
