"""Schemathesis over /api/schema/: every operation, generated input and chained calls,
against a populated organization. No 5xx, every answer as documented, and nothing of
another organization in any answer."""

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import TestCase
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from inboxes.services import inbox_create
from sla.services import customer_save
from tests.conftest import Cast, make_cast
from tests.factories import always_open_policy
from tests.mail import deliver, make_mail
from threads.models import Attachment, InboundMail, Message
from tickets.macros import macro_save
from tickets.models import Note, TicketEvent
from tickets.queues import queue_create
from tickets.services import thread_reply_send, ticket_create, ticket_note_add
from tisket import invitations, services


@schemathesis.serializer("message/rfc822")
def rfc822(ctx, value) -> bytes:
    """Generated raw mail: whatever bytes the generator made (the endpoint checks them)."""
    return value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogateescape")


schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# The suite draws a few generated examples of each operation, the same on every run; `make fuzz`
# draws many more, new ones each time (TISKET_API_FUZZ_EXAMPLES per operation).
LONG_RUN = "TISKET_API_FUZZ_EXAMPLES" in os.environ
EXAMPLES_PER_OPERATION = int(os.environ.get("TISKET_API_FUZZ_EXAMPLES", "8"))
VIEWER_EXAMPLES_PER_READ = max(2, EXAMPLES_PER_OPERATION // 2)
WORKFLOWS = 2 * EXAMPLES_PER_OPERATION
WORKFLOW_STEPS = 10
# In the suite Hypothesis draws the same examples on every run: CI fails or passes the
# same way.
# The schema's own examples (some forty an operation, every combination of the documented
# values) are the long run's: the suite draws generated ones only.
FUZZ = {
    "deadline": None,
    "derandomize": not LONG_RUN,
    "phases": list(Phase) if LONG_RUN else [Phase.generate, Phase.shrink],
    "database": None,
    "suppress_health_check": list(HealthCheck),
}


@dataclass
class Tenant:
    """An organization with some of everything the API serves, and what names it."""

    cast: Cast
    ids: dict[str, set[int]] = field(default_factory=dict)
    references: dict[str, list[str]] = field(default_factory=dict)
    markers: tuple[str, ...] = ()


def populate(cast: Cast, *, inbox_name: str) -> Tenant:
    """Inboxes, queues, macros, SLA, customers, threads with messages and tickets, quarantine."""
    org, admin = cast.org, cast.admin
    inbox = inbox_create(organization=org, name=inbox_name, auto_ack_enabled=False)
    spare = inbox_create(organization=org, name=f"{inbox_name}-spare", auto_ack_enabled=False)
    queue = queue_create(
        organization=org,
        name=f"{org.name} desk",
        actor=None,
        members=[cast.agent, cast.agent2],
        inboxes=[inbox],
    )
    policy = always_open_policy(
        org, {"urgent": {"first_response_minutes": 30, "resolution_minutes": 240}}
    )
    customer = customer_save(
        organization=org, name=f"{org.name} client", policy=policy, domains=[f"{org.slug}-c.test"]
    )
    macro = macro_save(
        organization=org,
        actor=None,
        name=f"{org.name} thanks",
        body="Thanks {{ client_name }}",
        actions={"status": "resolved", "queue": queue.pk, "tags_add": ["thanked"]},
    )
    invitation, _ = invitations.invitation_create(
        organization=org, email=f"newcomer@{org.slug}.test", role="agent", actor=admin
    )
    token, _ = services.api_token_create(membership=cast.agent, name=f"{org.slug} script")
    client = f"Jane <jane@{org.slug}-c.test>"
    first = deliver(make_mail(sender=client, to=inbox.address, subject=f"{org.name} login"))
    reference = first.thread.reference
    deliver(
        make_mail(
            sender=client,
            to=inbox.address,
            subject=f"Re: [{reference}] {org.name} login",
            attachments=[("shot.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * 32)],
        )
    )
    deliver(make_mail(sender=f"bob@{org.slug}-c.test", to=spare.address, subject="Invoice"))
    quarantined = deliver(
        make_mail(
            sender=f"stranger@{org.slug}-x.test",
            to=inbox.address,
            subject=f"Re: [{reference}] {org.name} login",
        )
    ).inbound
    assert quarantined.status == InboundMail.Status.QUARANTINED
    thread_reply_send(thread=first.thread, author=cast.agent, body="On it.")
    parent = ticket_create(
        organization=org, subject=f"{org.name} outage", actor=admin, priority="urgent", queue=queue
    )
    child = ticket_create(organization=org, subject=f"{org.name} outage too", actor=admin)
    child.parent = parent
    child.save(update_fields=["parent"])
    ticket_note_add(ticket=parent, body=f"@{cast.agent.user.email} look", actor=admin)
    return Tenant(
        cast=cast,
        ids={
            "Inbox": {inbox.pk, spare.pk},
            "Queue": {queue.pk},
            "Macro": {macro.pk},
            "Policy": {policy.pk},
            "Calendar": {policy.calendar_id},
            "Customer": {customer.pk},
            "Invitation": {invitation.pk},
            "Token": {token.pk},
            "Member": set(org.memberships.values_list("pk", flat=True)),
            "InboundMail": set(
                InboundMail.objects.filter(organization=org).values_list("pk", flat=True)
            ),
            "Message": set(
                Message.objects.filter(thread__organization=org).values_list("pk", flat=True)
            ),
            "Note": set(Note.objects.filter(ticket__organization=org).values_list("pk", flat=True)),
            "Event": set(
                TicketEvent.objects.filter(ticket__organization=org).values_list("pk", flat=True)
            ),
            "Attachment": set(
                Attachment.objects.filter(organization=org).values_list("pk", flat=True)
            ),
        },
        references={
            "Thread": sorted(org.threads.values_list("reference", flat=True)),
            "Ticket": sorted(org.tickets.values_list("reference", flat=True)),
        },
        markers=(org.slug, f"-{org.code}-", org.name),
    )


# Answers that carry an object of one kind under another schema's name.
KINDS = {"InvitationSent": "Invitation", "TokenCreated": "Token", "InboundAccepted": "InboundMail"}


def leaks(tenant: Tenant, case, response) -> list[str]:
    """What of the tenant an answer shows: its names, or the id of one of its objects."""
    text = response.content.decode("utf-8", "replace")
    found = [marker for marker in tenant.markers if marker.lower() in text.lower()]
    documented = case.operation.definition.raw["responses"].get(str(response.status_code), {})
    reference = documented.get("content", {}).get("application/json", {}).get("schema", {})
    kind = reference.get("$ref", "").rsplit("/", 1)[-1]
    kind = kind.removeprefix("Paginated").removesuffix("List")
    ids = tenant.ids.get(KINDS.get(kind, kind), set())
    try:
        data = json.loads(text)
    except ValueError:
        return found
    items = data.get("results", [data]) if isinstance(data, dict) else []
    found += [
        f"{kind} {item['id']}" for item in items if isinstance(item, dict) and item.get("id") in ids
    ]
    return found


# The organizations of the running test, for the hook below.
WORLD: dict[str, Tenant] = {}
SEGMENT_KINDS = {
    "inboxes": "Inbox", "queues": "Queue", "macros": "Macro", "policies": "Policy",
    "calendars": "Calendar", "customers": "Customer", "members": "Member",
    "invitations": "Invitation", "tokens": "Token", "quarantine": "InboundMail",
    "messages": "Message", "attachments": "Attachment",
}  # fmt: skip


def parameter_kind(path: str, name: str) -> str | None:
    """The kind of object a path parameter names: /inboxes/{id}/ an Inbox, {child} a Ticket..."""
    if name in ("reference", "thread", "child"):
        return "Thread" if name == "thread" or path.startswith("/api/v1/threads/") else "Ticket"
    if name == "id":
        return SEGMENT_KINDS.get(path.split("/{id}")[0].rsplit("/", 1)[-1])
    return None


@schema.hook
def map_path_parameters(context, path_parameters: dict | None) -> dict | None:
    """Point most generated ids at real objects, this organization's or the other one's.

    Random ids only ever find nothing. The choice is a function of the drawn
    value, so that a failing example replays the same.
    """
    if not WORLD or not path_parameters:
        return path_parameters
    mapped = dict(path_parameters)
    for name, value in path_parameters.items():
        kind = parameter_kind(context.operation.path, name)
        if kind is None or not isinstance(value, int | str) or isinstance(value, bool):
            continue
        seed = value if isinstance(value, int) else sum(map(ord, value))
        owner = (WORLD["acme"], WORLD["acme"], WORLD["globex"], None)[seed % 4]
        if owner is None:
            continue
        real = owner.references.get(kind) or sorted(owner.ids.get(kind, ()))
        if real:
            mapped[name] = real[seed // 4 % len(real)]
    return mapped


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    # Calling the WSGI app directly fires request_finished, which would close
    # the connection that holds the test's transaction; Django's test client
    # disconnects the same handler for the same reason.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def _world_of_the_module(django_db_setup, django_db_blocker) -> Iterator[dict[str, Tenant]]:
    """Both organizations, built once for the module inside a transaction that is
    rolled back after its last test; each test runs in a savepoint within it."""
    with django_db_blocker.unblock(), transaction.atomic():
        with TestCase.captureOnCommitCallbacks(execute=True):
            # The other organization first: its ids are all below this one's, so no
            # object of this one can carry an id of the other's by chance.
            globex = populate(make_cast("globex", "GLX"), inbox_name="help")
            acme = populate(make_cast("acme", "ACME"), inbox_name="support")
        WORLD.update(acme=acme, globex=globex)
        try:
            yield WORLD
        finally:
            WORLD.clear()
            transaction.set_rollback(True)


@pytest.fixture
def world(_world_of_the_module, db) -> dict[str, Tenant]:
    return _world_of_the_module


def token_headers(membership) -> dict[str, str]:
    key = services.api_token_create(membership=membership, name="fuzz")[1]
    return {"Authorization": f"Token {key}", "Host": "127.0.0.1"}


def check(case, response, other: Tenant) -> None:
    case.validate_response(response, checks=CHECKS)
    shown = leaks(other, case, response)
    assert not shown, f"{case.method} {case.formatted_path} shows {shown} of another organization"


def call_and_check(case, headers: dict[str, str], other: Tenant) -> None:
    # Each example starts from the same organization: what one example
    # deletes, the next one still finds, and a failure replays the same way.
    with transaction.atomic():
        response = case.call(headers=headers)
        transaction.set_rollback(True)
    check(case, response, other)


@schema.parametrize()
@hypothesis_settings(max_examples=EXAMPLES_PER_OPERATION, **FUZZ)
def test_every_operation_answers_an_admin_within_its_schema(case, world):
    headers = token_headers(world["acme"].cast.admin)
    call_and_check(case, headers, world["globex"])


@schema.include(method="GET").parametrize()
@hypothesis_settings(max_examples=VIEWER_EXAMPLES_PER_READ, **FUZZ)
def test_every_read_answers_a_viewer_within_its_schema(case, world):
    headers = token_headers(world["acme"].cast.viewer)
    call_and_check(case, headers, world["globex"])


def test_chained_calls_answer_an_admin_within_the_schema(world):
    headers = token_headers(world["acme"].cast.admin)
    other = world["globex"]

    class Workflow(schema.as_state_machine()):
        """Calls chained through the schema's links; each workflow starts from the same data."""

        def setup(self) -> None:
            self.savepoint = transaction.savepoint()

        def teardown(self) -> None:
            transaction.savepoint_rollback(self.savepoint)

        def get_call_kwargs(self, case) -> dict:
            return {"headers": headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
            check(case, response, other)

    Workflow.run(
        settings=hypothesis_settings(
            max_examples=WORKFLOWS, stateful_step_count=WORKFLOW_STEPS, **FUZZ
        )
    )


@pytest.mark.parametrize(
    ("path", "parameters"),
    [
        ("/api/v1/inboxes/{id}/", lambda globex: {"id": min(globex.ids["Inbox"])}),
        ("/api/v1/inboxes/", lambda globex: {}),
        ("/api/v1/threads/{reference}/", lambda globex: {"reference": "THD-GLX-001"}),
    ],
)
def test_the_leak_check_sees_what_belongs_to_the_other_organization(world, path, parameters):
    globex = world["globex"]
    case = schema[path]["GET"].Case(path_parameters=parameters(globex))
    response = case.call(headers=token_headers(globex.cast.admin))
    assert response.status_code == 200
    assert leaks(globex, case, response)


def test_the_fuzzer_chains_each_create_to_its_object():
    schema.as_state_machine()  # adds the links it infers to the schema's own
    assert schema.statistic.transitions.total > 100
    paths = schema.raw_schema["paths"]
    path_of = {
        operation["operationId"]: path
        for path, operations in paths.items()
        for operation in operations.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    for created, then in [
        ("/api/v1/inboxes/", "/api/v1/inboxes/{id}/"),
        ("/api/v1/queues/", "/api/v1/queues/{id}/"),
        ("/api/v1/macros/", "/api/v1/macros/{id}/"),
        ("/api/v1/tickets/", "/api/v1/tickets/{reference}/"),
        ("/api/v1/threads/", "/api/v1/threads/{reference}/"),
        ("/api/v1/tokens/", "/api/v1/tokens/{id}/"),
    ]:
        links = paths[created]["post"]["responses"]["201"].get("links", {}).values()
        assert then in {path_of.get(link.get("operationId")) for link in links}, created


def test_the_schema_builds_without_a_warning(tmp_path):
    from django.core.management import call_command

    # --fail-on-warn turns drf-spectacular's warnings (a name collision, an
    # unresolvable serializer) into a failed command.
    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert "openapi: 3" in (tmp_path / "schema.yml").read_text()
