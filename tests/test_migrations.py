"""The migrations apply, reverse and apply again, on SQLite and on PostgreSQL, in a real process.

pytest-django builds the test database once, forwards only; this walks the
recent migrations back and forth on a database of their own, in one
`manage.py` process as an operator's upgrade or rollback runs. On SQLite it
starts from a copy of the migrated test database; PostgreSQL starts empty.
"""

import os
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from tests.conftest import require_service
from tests.processes import django, installation, production_env

BACK_TO = [("threads", "0007"), ("kb", "zero")]  # search indexes, and the knowledge base

WALK = """
from django.core.management import call_command

call_command("migrate", verbosity=0)
for app, name in {back_to!r}:
    call_command("migrate", app, name, verbosity=0)
call_command("migrate", verbosity=0)
call_command("makemigrations", "--check", "--dry-run", verbosity=0)
"""


def walk(env: dict[str, str]) -> None:
    django(env, WALK.format(back_to=BACK_TO))


def test_migrations_walk_back_and_forth_on_sqlite(migrated_sqlite, tmp_path):
    walk(installation(migrated_sqlite, tmp_path))


def test_migrations_walk_back_and_forth_on_postgresql(tmp_path: Path):
    url = os.environ.get("DATABASE_URL", "")
    require_service(
        "PostgreSQL", url.startswith(("postgres://", "postgresql://")), "set DATABASE_URL"
    )
    name = f"tisket_migrations_{uuid.uuid4().hex[:8]}"
    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        walk(production_env(tmp_path, urlunsplit(urlsplit(url)._replace(path=f"/{name}"))))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
