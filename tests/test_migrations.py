"""The migrations apply, reverse and apply again, on SQLite and on PostgreSQL, in real processes.

pytest-django builds the test database once, forwards only; this walks the
recent migrations back and forth on a database of their own.
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[1]
BACK_TO = [("threads", "0007")]  # before this session's search indexes


def manage(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]


def walk(env: dict[str, str]) -> None:
    manage(env, "migrate", "-v0")
    for app, name in BACK_TO:
        manage(env, "migrate", app, name, "-v0")
    manage(env, "migrate", "-v0")
    manage(env, "makemigrations", "--check", "--dry-run", "-v0")


def base_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", TISKET_DATA_DIR=str(tmp_path))
    return env


def test_migrations_walk_back_and_forth_on_sqlite(tmp_path):
    walk(base_env(tmp_path))


def test_migrations_walk_back_and_forth_on_postgresql(tmp_path):
    url = os.environ.get("DATABASE_URL", "")
    require_service(
        "PostgreSQL", url.startswith(("postgres://", "postgresql://")), "set DATABASE_URL"
    )
    name = f"tisket_migrations_{uuid.uuid4().hex[:8]}"
    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        walk(
            base_env(tmp_path)
            | {"DATABASE_URL": urlunsplit(urlsplit(url)._replace(path=f"/{name}"))}
        )
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
