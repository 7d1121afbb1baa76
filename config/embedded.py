"""Serve Tisket with its background worker in one command (what `make run` starts).

The web server (uvicorn, serving config.asgi: the site and the MCP server at /mcp)
and a Celery worker with an embedded beat run as two child processes; Ctrl-C or
SIGTERM stops both, and if either dies the other is stopped too, so a half-running
desk never goes unnoticed.
"""

import argparse
import os
import signal
import subprocess
import sys
import time


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
    worker = [
        sys.executable,
        "-m",
        "celery",
        "--app",
        "config",
        "worker",
        "--beat",
        "--pool",
        "solo",
        "--loglevel",
        "INFO",
        "--without-mingle",
        "--without-gossip",
    ]
    return {"web": web, "worker": worker}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    debug = os.environ.get("DEBUG", "").lower() in {"1", "true", "yes", "on"}

    children = {
        name: subprocess.Popen(command)  # noqa: S603 (our own fixed argv)
        for name, command in _commands(args.host, args.port, debug).items()
    }
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    exit_code = 0
    while not stopping:
        for name, child in children.items():
            if child.poll() is not None:
                print(
                    f"tisket: the {name} process exited ({child.returncode}); stopping.",
                    file=sys.stderr,
                )
                exit_code = child.returncode or 1
                stopping = True
        time.sleep(0.2)

    for child in children.values():
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + 15
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
