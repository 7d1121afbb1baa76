import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import api_client
from tests.mail import deliver, deliver_without_ticket, make_mail
from tickets import queues, services
from tickets.models import Queue, Ticket
from tisket.models import Role


@pytest.fixture
def queue(acme):
    return queues.queue_create(
        organization=acme.org, name="Support", actor=None, members=[acme.agent, acme.agent2]
    )


def create(client, **fields):
    return client.post("/api/v1/tickets/", {"subject": "Printer", **fields}, format="json")


def test_an_agent_opens_a_ticket_through_the_api(acme, queue):
    response = create(
        api_client(acme.agent),
        priority="high",
        queue=queue.pk,
        assignee=acme.agent2.pk,
        tags=["Hardware"],
        customer_email="Jane@Client.test",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["reference"] == "TKT-ACME-001"
    assert body["created_via"] == "api"
    assert body["assignee_email"] == "agent2@acme.test"
    assert body["tags"] == ["hardware"]
    assert body["customer_email"] == "jane@client.test"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"subject": ""}, "subject"),
        ({"priority": "whenever"}, "priority"),
        ({"queue": 99999}, "queue"),
        ({"assignee": 99999}, "assignee"),
        ({"customer_email": "not an email"}, "customer_email"),
    ],
)
def test_bad_ticket_input_is_a_400_naming_the_field(acme, payload, field):
    response = api_client(acme.agent).post(
        "/api/v1/tickets/", {"subject": "x", **payload}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not Ticket.objects.exists()


def test_another_organizations_queue_or_member_cannot_be_named(acme, globex):
    theirs = queues.queue_create(organization=globex.org, name="Theirs", actor=None)
    client = api_client(acme.agent)
    assert create(client, queue=theirs.pk).status_code == 400
    assert create(client, assignee=globex.agent.pk).status_code == 400


@pytest.mark.parametrize(
    ("role", "read", "write", "manage_queues"),
    [
        (Role.VIEWER, 200, 403, 403),
        (Role.AGENT, 200, 201, 403),
        (Role.SUPERVISOR, 200, 201, 201),
        (Role.ADMIN, 200, 201, 201),
    ],
)
def test_who_may_do_what(acme, role, read, write, manage_queues):
    client = api_client(acme.member(role))
    assert client.get("/api/v1/tickets/").status_code == read
    assert client.get("/api/v1/queues/").status_code == read
    assert create(client).status_code == write
    response = client.post("/api/v1/queues/", {"name": f"Q {role}"}, format="json")
    assert response.status_code == manage_queues


def test_the_list_filters_and_keeps_a_constant_number_of_queries(acme, queue):
    client = api_client(acme.agent)
    create(client, priority="urgent", queue=queue.pk, assignee=acme.agent.pk, tags=["vip"])
    create(client, subject="other")
    client.get("/api/v1/tickets/")
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/tickets/")
    for n in range(10):
        create(client, subject=f"t{n}", queue=queue.pk, assignee=acme.agent2.pk, tags=[f"t{n}"])
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/api/v1/tickets/").json()["results"]) == 12
    assert len(many) == len(few)

    def refs(query: str) -> list[str]:
        return [t["reference"] for t in client.get(f"/api/v1/tickets/?{query}").json()["results"]]

    assert refs("priority=urgent") == ["TKT-ACME-001"]
    assert refs("assignee=me") == ["TKT-ACME-001"]
    assert refs("assignee=none") == ["TKT-ACME-002"]
    assert refs("tag=VIP") == ["TKT-ACME-001"]
    assert len(refs(f"queue={queue.pk}")) == 11
    assert len(refs("status=new")) == 12
    assert refs("updated_since=2999-01-01T00:00:00Z") == []
    bad = client.get("/api/v1/tickets/?updated_since=yesterday")
    assert bad.status_code == 400


def test_patch_assign_notes_events_and_thread_links(acme, queue, inbox):
    client = api_client(acme.agent)
    create(client)
    response = client.patch(
        "/api/v1/tickets/tkt-acme-001/",
        {"status": "in_progress", "priority": "low", "queue": queue.pk},
        format="json",
    )
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["priority"]) == ("in_progress", "low")
    assigned = client.post(
        "/api/v1/tickets/TKT-ACME-001/assign/", {"round_robin": True}, format="json"
    )
    assert assigned.json()["assignee_email"] in {"agent@acme.test", "agent2@acme.test"}
    client.post("/api/v1/tickets/TKT-ACME-001/assign/", {"assignee": None}, format="json")
    note = client.post("/api/v1/tickets/TKT-ACME-001/notes/", {"body": "secret"}, format="json")
    assert note.status_code == 201
    assert (
        client.get("/api/v1/tickets/TKT-ACME-001/notes/").json()["results"][0]["body"] == "secret"
    )
    thread = deliver_without_ticket(make_mail()).thread
    linked = client.post(
        "/api/v1/tickets/TKT-ACME-001/threads/", {"thread": thread.reference}, format="json"
    )
    assert linked.json()["threads"] == [thread.reference]
    bad = client.post("/api/v1/tickets/TKT-ACME-001/threads/", {"thread": "THD-X-1"}, format="json")
    assert bad.status_code == 400
    unlinked = client.delete(f"/api/v1/tickets/TKT-ACME-001/threads/{thread.reference}/")
    assert unlinked.json()["threads"] == []
    kinds = [
        e["kind"] for e in client.get("/api/v1/tickets/TKT-ACME-001/events/").json()["results"]
    ]
    assert kinds == [
        "created",
        "priority",
        "queue",
        "status",
        "assigned",
        "assigned",
        "note_added",
        "linked",
        "unlinked",
    ]


def test_a_viewer_reads_tickets_but_changes_nothing(acme):
    create(api_client(acme.agent))
    viewer = api_client(acme.viewer)
    assert viewer.get("/api/v1/tickets/TKT-ACME-001/").status_code == 200
    for method, url, data in [
        ("patch", "/api/v1/tickets/TKT-ACME-001/", {"status": "closed"}),
        ("post", "/api/v1/tickets/TKT-ACME-001/assign/", {"assignee": None}),
        ("post", "/api/v1/tickets/TKT-ACME-001/notes/", {"body": "x"}),
    ]:
        assert getattr(viewer, method)(url, data, format="json").status_code == 403


def test_internal_notes_never_reach_the_thread_or_its_messages(acme, queue, inbox):
    queues.queue_set_inboxes(queue=queue, inboxes=[inbox])
    thread = deliver(make_mail()).thread
    ticket = thread.ticket_link.ticket
    services.ticket_note_add(ticket=ticket, body="NOTE-7c1f internal only", actor=acme.agent)
    client = api_client(acme.agent)
    for url in (
        f"/api/v1/threads/{thread.reference}/",
        f"/api/v1/threads/{thread.reference}/messages/",
    ):
        assert "NOTE-7c1f" not in client.get(url).content.decode()


def test_queues_are_managed_through_the_api(acme, inbox):
    client = api_client(acme.supervisor)
    created = client.post(
        "/api/v1/queues/",
        {"name": "Billing", "members": [acme.agent.pk], "inboxes": [inbox.pk], "auto_assign": True},
        format="json",
    )
    assert created.status_code == 201, created.content
    queue_id = created.json()["id"]
    assert created.json()["members"] == [acme.agent.pk]
    patched = client.patch(
        f"/api/v1/queues/{queue_id}/",
        {"members": [acme.agent.pk, acme.agent2.pk], "open_ticket_cap": 5},
        format="json",
    )
    assert sorted(patched.json()["members"]) == sorted([acme.agent.pk, acme.agent2.pk])
    assert patched.json()["open_ticket_cap"] == 5
    assert client.post("/api/v1/queues/", {"name": "Billing"}, format="json").status_code == 409
    assert client.delete(f"/api/v1/queues/{queue_id}/").status_code == 204


@pytest.mark.parametrize(
    "fields",
    [
        {"inboxes": [2**64]},
        {"members": [2**64]},
        {"inboxes": [-(2**64)]},
        {"open_ticket_cap": 2**64},
        {"open_ticket_cap": 2**40},
    ],
)
def test_a_queue_with_an_id_or_cap_out_of_range_is_a_400(acme, fields):
    client = api_client(acme.admin)
    client.raise_request_exception = False
    response = client.post("/api/v1/queues/", {"name": "Huge", **fields}, format="json")
    assert response.status_code == 400, response.content
    assert set(response.json()) & {"inboxes", "members", "open_ticket_cap"}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/tickets/{reference}/threads/{thread}/",
        "/api/v1/tickets/{reference}/children/{child}/",
    ],
)
def test_unlinking_from_a_ticket_is_documented_as_the_200_it_answers(client, db, path):
    responses = client.get("/api/schema/?format=json").json()["paths"][path]["delete"]["responses"]
    assert responses["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Ticket"
    }
    assert "204" not in responses


def test_unlinking_a_thread_answers_200_with_the_ticket(acme, inbox):
    thread = deliver_without_ticket(make_mail()).thread
    ticket = services.ticket_create(organization=acme.org, subject="Login", actor=acme.agent)
    services.ticket_thread_link(ticket=ticket, thread=thread, actor=acme.agent)
    response = api_client(acme.agent).delete(
        f"/api/v1/tickets/{ticket.reference}/threads/{thread.reference}/"
    )
    assert response.status_code == 200
    assert response.json()["reference"] == ticket.reference


def test_a_threads_ticket_is_in_the_thread_and_the_tickets_list_finds_it_by_thread(acme, inbox):
    queues.queue_create(organization=acme.org, name="Support", actor=None, inboxes=[inbox])
    thread = deliver(make_mail(to=inbox.address)).thread
    queues.queue_set_inboxes(queue=Queue.objects.get(), inboxes=[])
    lone = deliver_without_ticket(
        make_mail(to=inbox.address, sender="bob@client.test", subject="x")
    ).thread
    client = api_client(acme.agent)
    ticket = thread.ticket_link.ticket.reference
    assert client.get(f"/api/v1/threads/{thread.reference}/").json()["ticket"] == ticket
    assert client.get(f"/api/v1/threads/{lone.reference}/").json()["ticket"] is None
    listed = {t["reference"]: t["ticket"] for t in client.get("/api/v1/threads/").json()["results"]}
    assert listed == {thread.reference: ticket, lone.reference: None}
    found = client.get(f"/api/v1/tickets/?thread={thread.reference.lower()}").json()["results"]
    assert [t["reference"] for t in found] == [ticket]
    assert client.get(f"/api/v1/tickets/?thread={lone.reference}").json()["results"] == []
