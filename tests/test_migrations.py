"""The migrations apply, reverse and apply again, on SQLite and on PostgreSQL, in a real process.

pytest-django builds the test database once, forwards only; this walks the
recent migrations back and forth on a database of their own, in one
`manage.py` process as an operator's upgrade or rollback runs. It starts from a
copy of the migrated test database: on SQLite a file, on PostgreSQL a copy of the
template the run's test databases are made from (tests/postgresql/creation.py),
which was itself migrated forwards from empty.
"""

import os
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.db import connection

from tests.conftest import require_service
from tests.processes import django, installation, production_env

# Each app's latest migration: what an operator rolls back after an upgrade; and the
# notification preferences, whose data migration the walk checks (the old mail switch
# becomes email cells of the matrix).
STEPS_BACK = 1
APPS = ["tickets", "threads", "kb", "sla", "inboxes", "tisket"]  # the top of the graph first
BEFORE_THE_MATRIX = ("tisket", "0010_client_portal")

WALK = """
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

call_command("migrate", verbosity=0)
graph = MigrationLoader(connection).graph
for app in {apps!r}:
    [leaf] = graph.leaf_nodes(app)
    own = [name for label, name in graph.forwards_plan(leaf) if label == app]
    target = own[-{steps} - 1] if len(own) > {steps} else "zero"
    call_command("migrate", app, target, verbosity=0)
call_command("migrate", verbosity=0)
"""

# Back to before the matrix (every later migration of every app undone), then forwards:
# a member who had turned their notification mail off keeps it off, cell by cell.
BACK_BEFORE_THE_MATRIX = """
call_command("migrate", *{before!r}, verbosity=0)
old = MigrationLoader(connection).project_state({before!r}).apps
org = old.get_model("tisket", "Organization").objects.create(slug="w", code="WALK", name="W")
user = old.get_model("tisket", "User").objects.create(email="quiet@walk.test")
old.get_model("tisket", "Membership").objects.create(
    organization=org, user=user, email_notifications=False
)
call_command("migrate", verbosity=0)
from tisket.models import NotificationPreference

cells = dict(
    NotificationPreference.objects.filter(membership__user__email="quiet@walk.test")
    .values_list("event", "scope")
)
assert cells.pop("sla_breached") == "mine", cells  # a breach of their own still mails them
assert len(cells) == 6 and set(cells.values()) == {{"off"}}, cells
"""

CHECK = """
call_command("makemigrations", "--check", "--dry-run", verbosity=0)
"""


def walk(env: dict[str, str], *, far: bool) -> None:
    """Each app's latest migration back and forth; `far`: back before the matrix too (the
    walk that costs most, once a run: on PostgreSQL, which production runs)."""
    code = WALK + (BACK_BEFORE_THE_MATRIX if far else "") + CHECK
    django(env, code.format(apps=APPS, steps=STEPS_BACK, before=BEFORE_THE_MATRIX))


def test_migrations_walk_back_and_forth_on_sqlite(migrated_sqlite, tmp_path):
    walk(installation(migrated_sqlite, tmp_path), far=False)


@pytest.mark.django_db
def test_migrations_walk_back_and_forth_on_postgresql(tmp_path: Path):
    url = os.environ.get("DATABASE_URL", "")
    require_service(
        "PostgreSQL", url.startswith(("postgres://", "postgresql://")), "set DATABASE_URL"
    )
    name = f"tisket_migrations_{uuid.uuid4().hex[:8]}"
    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    connection.creation.clone_of_template(name)
    try:
        env = production_env(tmp_path, urlunsplit(urlsplit(url)._replace(path=f"/{name}")))
        walk(env, far=True)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
