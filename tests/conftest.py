import fcntl
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dj_database_url
import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from rest_framework.test import APIClient

from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tisket import services
from tisket.models import Membership, Organization, Role, User

REQUIRE_SERVICES = os.environ.get("TISKET_REQUIRE_SERVICES") == "1"


def require_service(name: str, available: bool, how: str) -> None:
    """Skip a test whose service is absent, or fail it where services are required (CI)."""
    if available:
        return
    reason = f"{name} is not available: {how}"
    if REQUIRE_SERVICES:
        pytest.fail(f"TISKET_REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


def require_postgres() -> None:
    """Concurrency tests need a server database; SQLite serializes writers by design."""
    require_service(
        "PostgreSQL", connection.vendor == "postgresql", "concurrent writers need DATABASE_URL"
    )


def in_parallel(function: Callable, items: Iterable, workers: int = 16) -> list:
    """function(item) for each item on a pool of threads, each with its own connection."""

    def run(item):
        try:
            return function(item)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, items))


def redis_url() -> str:
    """A Redis for tests that need one: REDIS_URL, else the local default; skips when absent."""
    import redis

    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        available = True
    except redis.RedisError:
        available = False
    require_service("Redis", available, f"nothing answers at {url} (set REDIS_URL)")
    return url


@pytest.fixture(scope="session", autouse=True)
def _database_is_postgres_where_required(django_db_blocker) -> None:
    if REQUIRE_SERVICES and connection.vendor != "postgresql":
        pytest.exit(
            "TISKET_REQUIRE_SERVICES=1 needs the suite on PostgreSQL: set DATABASE_URL",
            returncode=3,
        )


@contextmanager
def rows_for_the_module(django_db_blocker) -> Iterator[None]:
    """Rows a module's tests all read, made once: in a transaction that is rolled back
    after the module's last test. Each test (`db`) runs in a savepoint inside it, so
    what a test changes is undone before the next. For a module-scoped fixture whose
    module has no test that commits (`transaction=True`)."""
    with django_db_blocker.unblock(), transaction.atomic():
        try:
            yield
        finally:
            transaction.set_rollback(True)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory, django_db_setup, django_db_blocker) -> Path:
    """A migrated SQLite database file for real processes to copy, made once per run.

    A copy of pytest-django's test database where that is SQLite in memory; else (on
    PostgreSQL, or when no test of the run uses the database) the same migrations are
    applied to a new file. Parallel workers share one file: the first one to need it
    migrates it under a lock, the others wait for it and take it as it is.
    """
    with django_db_blocker.unblock():
        if connection.vendor == "sqlite" and connection.is_in_memory_db():
            path = tmp_path_factory.mktemp("migrated") / "db.sqlite3"
            connection.ensure_connection()
            target = sqlite3.connect(path)
            try:
                connection.connection.backup(target)
            finally:
                target.close()
            return path
        # The workers' base folders share a parent that belongs to this run alone.
        shared = tmp_path_factory.getbasetemp()
        worker_id = os.environ.get("PYTEST_XDIST_WORKER", "master")
        if worker_id != "master":
            shared = shared.parent
        path = shared / "migrated.sqlite3"
        with (shared / "migrated.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not path.exists():
                partial = path.with_suffix(f".{worker_id}")
                partial.unlink(missing_ok=True)
                _sqlite_migrate(partial)
                partial.rename(path)
    return path


def _sqlite_migrate(path: Path) -> None:
    alias = "migrated_sqlite"
    databases = {"default": {}, alias: dj_database_url.parse(f"sqlite:///{path}")}
    connections.settings[alias] = connections.configure_settings(databases)[alias]
    try:
        call_command("migrate", database=alias, interactive=False, verbosity=0)
    finally:
        connections[alias].close()
        del connections[alias]
        del connections.settings[alias]


@pytest.fixture(scope="session")
def imap_server():
    """A real Dovecot IMAP server, one per test process; each test takes a user of its own."""
    from tests import dovecot

    require_service(
        "Dovecot", dovecot.available(), "install dovecot-imapd (CI does) and run the tests as root"
    )
    server, config = dovecot.start()
    yield server
    dovecot.stop(config)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Throttle counters and cached lookups never carry over from one test to the next."""
    from django.core.cache import cache

    from tickets.sla import terms_memo_clear

    cache.clear()
    terms_memo_clear()


@pytest.fixture(autouse=True)
def _no_outside_dns(settings) -> None:
    """No test asks the machine's resolver: DNS goes where nothing answers, and gives up
    at once, unless the test starts its own server (tests/dns.py) and names it."""
    settings.TISKET_DNS_SERVERS = ["127.0.0.1:9"]
    settings.TISKET_DOMAIN_CHECK_DEADLINE = 0.2


@dataclass
class Cast:
    """One organization and its standard people."""

    org: Organization
    owner: Membership
    admin: Membership
    supervisor: Membership
    agent: Membership
    agent2: Membership
    viewer: Membership

    def member(self, role: str) -> Membership:
        return {
            Role.OWNER: self.owner,
            Role.ADMIN: self.admin,
            Role.SUPERVISOR: self.supervisor,
            Role.AGENT: self.agent,
            Role.VIEWER: self.viewer,
        }[Role(role)]


def make_cast(slug: str, code: str) -> Cast:
    """The organization and its people in three inserts (some 1,300 tests make one)."""
    org = OrganizationFactory(slug=slug, code=code, name=slug.capitalize())
    roles = dict(zip(CAST_ROLES, [Role.OWNER, Role.ADMIN, Role.SUPERVISOR, Role.AGENT,
                                  Role.AGENT, Role.VIEWER], strict=True))  # fmt: skip
    users = User.objects.bulk_create(
        UserFactory.build(email=f"{name}@{slug}.test") for name in CAST_ROLES
    )
    people = Membership.objects.bulk_create(
        MembershipFactory.build(organization=org, role=roles[name], user=user)
        for name, user in zip(CAST_ROLES, users, strict=True)
    )
    return Cast(org=org, **dict(zip(CAST_ROLES, people, strict=True)))


def cast_fetched(cast: Cast) -> Cast:
    """The same cast read again from the database: for a test that shares rows made once
    for its module, as instances no earlier test has touched."""
    people = {
        m.pk: m
        for m in Membership.objects.select_related("user", "organization").filter(
            pk__in=[getattr(cast, name).pk for name in CAST_ROLES]
        )
    }
    return Cast(
        org=Organization.objects.get(pk=cast.org.pk),
        **{name: people[getattr(cast, name).pk] for name in CAST_ROLES},
    )


CAST_ROLES = ("owner", "admin", "supervisor", "agent", "agent2", "viewer")


@pytest.fixture
def acme(db) -> Cast:
    return make_cast("acme", "ACME")


@pytest.fixture
def globex(db) -> Cast:
    return make_cast("globex", "GLX")


@pytest.fixture
def inbox(acme):
    from inboxes.services import inbox_create

    return inbox_create(organization=acme.org, name="support", auto_ack_enabled=False)


@pytest.fixture
def globex_inbox(globex):
    from inboxes.services import inbox_create

    return inbox_create(organization=globex.org, name="help", auto_ack_enabled=False)


def api_client(membership: Membership, role: str = "") -> APIClient:
    """An API client authenticated with a fresh token of this member."""
    _, key = services.api_token_create(membership=membership, name="test", role=role)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def web(client):
    """The Django test client, logged in as the given membership's user."""

    def login(membership: Membership):
        client.force_login(membership.user)
        return client

    return login


@pytest.fixture
def smtp(settings):
    """A real SMTP server (aiosmtpd) as the installation's default transport; what it got."""
    from aiosmtpd.controller import Controller

    from tests.smtp import Mailbox, free_port

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    yield mailbox
    controller.stop()


# Tests that start processes, browsers or servers, or walk migrations: the longest ones.
HEAVY_FIXTURES = {
    "migrated_sqlite",
    "live_server",
    "transactional_db",
    "django_db_serialized_rollback",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The heavy tests first (module order kept): spread over the workers while the light
    ones fill the gaps, rather than left for last, where one long test is the run's tail."""
    items.sort(key=lambda item: not HEAVY_FIXTURES.intersection(item.fixturenames))
