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

# Each app's latest migration: what an operator rolls back after an upgrade. Then, once a run,
# the far walk: back before the data migrations it checks, rows seeded in the old state,
# forwards in stages (a stage where the next data migration's rows are seeded), every check.
STEPS_BACK = 1
APPS = ["tickets", "threads", "kb", "sla", "inboxes", "tisket"]  # the top of the graph first
# tisket 0011: the old mail switch becomes email cells of the notification matrix.
BEFORE_THE_MATRIX = ("tisket", "0010_client_portal")
# threads 0012: the installation-wide suppressions of old go to the organizations whose mail
# to the address bounced, and to no other; backwards, one row per address again.
BEFORE_OWN_SUPPRESSIONS = ("threads", "0011_guarded_mail")
# tickets 0013: every conversation from before "every conversation has its ticket" gets one,
# in the queue its inbox feeds, in batches, and a second run changes nothing.
BEFORE_CONVERSATION_TICKETS = ("tickets", "0012_reply_drafts_per_agent")
CONVERSATION_TICKETS = ("tickets", "0013_conversation_tickets")

WALK = """
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
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

# One walk back, to before all three data migrations (every later migration of every app
# undone), then forwards in stages.
FAR = """
import importlib
import itertools
from datetime import timedelta

from django.utils import timezone


def migrate(*targets):
    executor = MigrationExecutor(connection)
    executor.migrate(list(targets))
    executor.loader.build_graph()
    return executor.loader.project_state(list(targets)).apps


# Suppressions of each organization's own, as the latest state keeps them: backwards, the
# latest to expire of each address is kept.
latest = MigrationLoader(connection).project_state().apps
Organization = latest.get_model("tisket", "Organization")
acme, globex, initech = (
    Organization.objects.create(slug=slug, code=slug[:4].upper(), name=slug)
    for slug in ("acme", "globex", "initech")
)
until = timezone.now() + timedelta(days=30)
Suppression = latest.get_model("threads", "Suppression")
for organization, address, days in [(acme, "jane@client.test", 0),
        (globex, "jane@client.test", -1), (initech, "bob@client.test", 0)]:  # fmt: skip
    Suppression.objects.create(organization_id=organization.pk, address=address,
                               reason="bounced", until=until + timedelta(days=days))  # fmt: skip

old = migrate({before_matrix!r}, {before_suppressions!r})
Suppression = old.get_model("threads", "Suppression")
assert sorted(Suppression.objects.values_list("address", "until")) == [
    ("bob@client.test", until), ("jane@client.test", until)]  # fmt: skip

# A member who had turned their notification mail off keeps it off, cell by cell.
org = old.get_model("tisket", "Organization").objects.create(slug="w", code="WALK", name="W")
user = old.get_model("tisket", "User").objects.create(email="quiet@walk.test")
old.get_model("tisket", "Membership").objects.create(
    organization=org, user=user, email_notifications=False
)

# Installation-wide suppressions, and the outbox that says whose mail bounced.
Suppression.objects.create(address="nobody@client.test", reason="bounced", until=until)
OutboundMail = old.get_model("threads", "OutboundMail")
serial = itertools.count()


def mailed(organization, to, cc=(), event="", earlier=()):
    OutboundMail.objects.create(
        organization_id=organization.pk, kind="reply", to=list(to), cc=list(cc),
        subject="s", text="t", message_id_header=f"{{next(serial)}}@in.tisket.test",
        status="sent", delivery_event=event,
        earlier_attempts=[{{"delivery_event": e}} for e in earlier],
    )  # fmt: skip


mailed(acme, ["Jane@Client.test"], event="bounced")
mailed(globex, ["x@client.test"], cc=["jane@client.test"], event="complained")
mailed(initech, ["jane@client.test"], event="delivered")  # mailed it, no bounce
mailed(initech, ["bob@client.test"], earlier=["bounced"])  # bounced, then sent again
mailed(acme, ["nobody@client.test"], event="delivered")

# Conversations from before every conversation had its ticket, one of them with one; the
# other apps at their latest, their tables as they are (e.g. an inbox's columns).
others = [node for node in MigrationLoader(connection).graph.leaf_nodes() if node[0] != "tickets"]
get = migrate(*others, {before_tickets!r}).get_model
Inbox, Queue, Thread = get("inboxes", "Inbox"), get("tickets", "Queue"), get("threads", "Thread")
Ticket, TicketThread = get("tickets", "Ticket"), get("tickets", "TicketThread")
support, sales = (
    Inbox.objects.create(organization_id=acme.pk, name=n, address=f"{{n}}@in.tisket.test")
    for n in ("support", "sales")
)
default, _ = Queue.objects.update_or_create(  # tickets 0010 gave each organization its own
    organization_id=acme.pk, name="General", defaults={{"is_default": True}}
)
sales_queue = Queue.objects.create(organization_id=acme.pk, name="Sales")
sales_queue.inboxes.add(sales)
threads = [
    Thread.objects.create(
        organization_id=acme.pk, inbox=sales if n == 2 else support, number=n,
        reference=f"THD-ACME-{{n:03d}}", subject=f"Question {{n}}",
        status="resolved" if n == 3 else "open", client_email=f"c{{n}}@client.test",
    )
    for n in range(1, 7)
]  # fmt: skip
had = Ticket.objects.create(
    organization_id=acme.pk, number=1, reference="TKT-ACME-001", subject="Question 1"
)
TicketThread.objects.create(ticket=had, thread=threads[0])
get("tisket", "Sequence").objects.create(organization_id=acme.pk, name="ticket", last_value=1)

backfill = importlib.import_module("tickets.migrations.{conversation_tickets}")
backfill.BATCH = 2  # three batches for five conversations
new = migrate(*others, ("tickets", {conversation_tickets!r}))
Ticket, TicketThread = new.get_model("tickets", "Ticket"), new.get_model("tickets", "TicketThread")
rows = sorted(
    TicketThread.objects.values_list(
        "thread__reference", "ticket__reference", "ticket__queue__name",
        "ticket__status", "ticket__customer_email", "ticket__subject",
    )
)  # fmt: skip
assert rows[:3] == [
    ("THD-ACME-001", "TKT-ACME-001", None, "new", "", "Question 1"),
    ("THD-ACME-002", "TKT-ACME-002", "Sales", "open", "c2@client.test", "Question 2"),
    ("THD-ACME-003", "TKT-ACME-003", "General", "resolved", "c3@client.test", "Question 3"),
], rows  # fmt: skip
assert len(rows) == 6 and rows[-1][1] == "TKT-ACME-006", rows
assert new.get_model("tisket", "Sequence").objects.get(name="ticket").last_value == 6
events = new.get_model("tickets", "TicketEvent").objects
assert events.filter(kind="created").count() == 5


class Editor:
    connection = connection


backfill.conversation_tickets(new, Editor())  # run again: nothing left to do
assert Ticket.objects.count() == 6 and events.count() == 5
assert default.pk == Ticket.objects.get(reference="TKT-ACME-004").queue_id

call_command("migrate", verbosity=0)
from threads.models import Suppression
from tisket.models import NotificationPreference

cells = dict(
    NotificationPreference.objects.filter(membership__user__email="quiet@walk.test")
    .values_list("event", "scope")
)
assert cells.pop("sla_breached") == "mine", cells  # a breach of their own still mails them
assert len(cells) == 6 and set(cells.values()) == {{"off"}}, cells
kept = sorted(Suppression.objects.values_list("organization__slug", "address", "until"))
assert kept == [
    ("acme", "jane@client.test", until),
    ("globex", "jane@client.test", until),
    ("initech", "bob@client.test", until),
], kept
"""

CHECK = """
call_command("makemigrations", "--check", "--dry-run", verbosity=0)
"""


def walk(env: dict[str, str], *, far: bool) -> None:
    """Each app's latest migration back and forth; `far`: back before the data migrations too
    (the walk that costs most, once a run: on PostgreSQL, which production runs)."""
    code = WALK + (FAR if far else "") + CHECK
    django(
        env,
        code.format(
            apps=APPS, steps=STEPS_BACK, before_matrix=BEFORE_THE_MATRIX,
            before_suppressions=BEFORE_OWN_SUPPRESSIONS,
            before_tickets=BEFORE_CONVERSATION_TICKETS,
            conversation_tickets=CONVERSATION_TICKETS[1],
        ),
    )  # fmt: skip


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
