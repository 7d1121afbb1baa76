"""What the benchmarks share: a PostgreSQL database of their own, and Django set up on it."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parents[2]


def bench_database_url(bench: str, name: str) -> str:
    """DATABASE_URL with the database renamed; PostgreSQL only (the figures are its)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(
            f"bench {bench}: set DATABASE_URL to a PostgreSQL server (it makes its own database)"
        )
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def recreate_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str, data_dir: str, *, static: bool = False, **env: str) -> None:
    """Migrate the bench database and set Django up in this process on it.

    The broker is Celery's in-memory one: what a bench times never waits on a
    queue. static=True collects the static files the pages name (production's
    manifest storage refuses to render without them).
    """
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="config.settings",
        TISKET_DATA_DIR=data_dir,
        CELERY_BROKER_URL="memory://",
        LOG_LEVEL="WARNING",
        **env,
    )
    os.environ.pop("REDIS_URL", None)
    commands = [["migrate", "-v0"]] + ([["collectstatic", "--noinput", "-v0"]] if static else [])
    for command in commands:
        subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=os.environ, check=True
        )
    import django

    django.setup()
