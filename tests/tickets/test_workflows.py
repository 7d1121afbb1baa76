import re

import pytest

from tests.conftest import api_client
from tests.mail import deliver, deliver_without_ticket, make_mail
from tickets import macros, queues, services, workflows
from tickets.models import Macro, Note, Ticket, TicketThread
from tisket.errors import ConflictError, NotAllowedError

S = Ticket.Status


def new(acme, subject: str = "x", **fields) -> Ticket:
    return services.ticket_create(
        organization=acme.org, subject=subject, actor=acme.agent, **fields
    )


def test_escalation_raises_the_level_and_hands_to_the_least_busy_supervisor(acme):
    busy = new(acme, "busy")
    services.ticket_assign(ticket=busy, assignee=acme.supervisor, actor=None)
    ticket = new(acme)
    workflows.ticket_escalate(ticket=ticket, actor=acme.agent)
    ticket.refresh_from_db()
    assert ticket.escalation_level == 1
    assert ticket.assignee in (acme.admin, acme.owner)  # the supervisor has a ticket already
    workflows.ticket_escalate(ticket=ticket, actor=acme.agent, to=acme.supervisor)
    ticket.refresh_from_db()
    assert (ticket.escalation_level, ticket.assignee) == (2, acme.supervisor)
    assert ticket.events.filter(kind="escalated").count() == 2
    with pytest.raises(services.TicketError, match="not a supervisor"):
        workflows.ticket_escalate(ticket=ticket, actor=acme.agent, to=acme.agent2)


def test_resolving_an_incident_resolves_its_open_tickets_with_a_note(acme):
    incident = new(acme, "Outage")
    waiting, closed = new(acme, "a"), new(acme, "b")
    services.ticket_set_status(ticket=waiting, status=S.WAITING_ON_CUSTOMER, actor=None)
    services.ticket_set_status(ticket=closed, status=S.CLOSED, actor=None)
    for child in (waiting, closed):
        workflows.incident_link(parent=incident, child=child, actor=acme.agent)
    services.ticket_set_status(ticket=incident, status=S.RESOLVED, actor=acme.supervisor)
    waiting.refresh_from_db()
    closed.refresh_from_db()
    assert waiting.status == S.RESOLVED
    assert closed.status == S.CLOSED  # already done: left alone
    assert Note.objects.get(ticket=waiting).body == "Resolved with its incident TKT-ACME-001."
    workflows.incident_unlink(parent=incident, child=waiting, actor=acme.agent)
    waiting.refresh_from_db()
    assert waiting.status == S.WAITING_ON_CUSTOMER  # restored
    assert waiting.parent is None


def test_incidents_refuse_loops_strangers_and_second_parents(acme, globex):
    a, b, c = new(acme, "a"), new(acme, "b"), new(acme, "c")
    workflows.incident_link(parent=a, child=b, actor=None)
    workflows.incident_link(parent=b, child=c, actor=None)
    with pytest.raises(services.TicketError, match="above"):
        workflows.incident_link(parent=c, child=a, actor=None)
    with pytest.raises(services.TicketError, match="its own"):
        workflows.incident_link(parent=a, child=a, actor=None)
    with pytest.raises(ConflictError):
        workflows.incident_link(parent=c, child=b, actor=None)
    theirs = services.ticket_create(organization=globex.org, subject="x", actor=None)
    with pytest.raises(services.TicketError, match="not of this organization"):
        workflows.incident_link(parent=a, child=theirs, actor=None)


def test_merging_moves_threads_notes_and_events_and_closes_the_duplicate(acme, inbox):
    keep, duplicate = new(acme, "keep"), new(acme, "dup")
    thread = deliver_without_ticket(make_mail()).thread
    services.ticket_thread_link(ticket=duplicate, thread=thread, actor=None)
    services.ticket_note_add(ticket=duplicate, body="seen before", actor=acme.agent)
    workflows.ticket_merge(source=duplicate, target=keep, actor=acme.agent)
    duplicate.refresh_from_db()
    assert duplicate.status == S.CLOSED
    assert duplicate.merged_into == keep
    assert TicketThread.objects.get(thread=thread).ticket == keep
    assert keep.notes.get().body == "seen before"
    assert keep.events.filter(kind="note_added").exists()
    with pytest.raises(ConflictError, match="merged already"):
        workflows.ticket_merge(source=duplicate, target=keep, actor=None)
    with pytest.raises(services.TicketError, match="itself"):
        workflows.ticket_merge(source=keep, target=keep, actor=None)


def test_a_macro_applies_its_actions_with_their_events_and_renders_its_reply(acme, inbox):
    queue = queues.queue_create(organization=acme.org, name="Billing", actor=None)
    macro = macros.macro_save(
        organization=acme.org,
        actor=acme.supervisor,
        name="Refund",
        body="Hello {{ client_name }}, about {{ thread.reference }} ({{ ticket.reference }}): "
        "refunded. {{ agent_name }}",
        actions={
            "status": "waiting_on_customer",
            "priority": "high",
            "queue": queue.pk,
            "tags_add": ["refund"],
        },
    )
    thread = deliver_without_ticket(make_mail(sender="Jane Client <jane@client.test>")).thread
    ticket = new(acme, customer_email="jane@client.test")
    services.ticket_thread_link(ticket=ticket, thread=thread, actor=None)
    result = macros.macro_apply(macro=macro, ticket=ticket, actor=acme.agent)
    assert result.reply == (
        f"Hello Jane Client, about {thread.reference} ({ticket.reference}): refunded. "
        f"{acme.agent.user.full_name}"
    )
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.queue) == (S.WAITING_ON_CUSTOMER, "high", queue)
    assert list(ticket.tags.values_list("name", flat=True)) == ["refund"]
    kinds = list(ticket.events.values_list("kind", flat=True))
    assert kinds[kinds.index("macro_applied") :] == [
        "macro_applied",
        "priority",
        "queue",
        "tags",
        "status",
    ]


@pytest.mark.parametrize(
    ("body", "actions", "message"),
    [
        ("{% if %}", {}, "tags are not allowed"),
        ("hi", {"explode": True}, "Unknown actions"),
        ("hi", {"status": "sleeping"}, "Unknown status"),
        ("hi", {"queue": 99999}, "queue"),
        ("hi", {"assignee": 99999}, "assignee"),
    ],
)
def test_a_bad_macro_is_refused_with_the_reason(acme, body, actions, message):
    with pytest.raises(macros.MacroError, match=message):
        macros.macro_save(organization=acme.org, actor=None, name="m", body=body, actions=actions)
    assert not Macro.objects.exists()


def test_macro_text_cannot_reach_into_objects(acme):
    for body in (
        "{{ ticket.organization }}",
        "{{ settings.SECRET_KEY }}",
        "{{ ticket.reference.upper }}",
        "{{ x.__class__ }}",
    ):
        with pytest.raises(macros.MacroError, match=re.escape(body)):
            macros.macro_save(organization=acme.org, actor=None, name="probe", body=body)
    assert not Macro.objects.exists()


def test_only_supervisors_manage_macros(acme):
    with pytest.raises(NotAllowedError):
        macros.macro_save(organization=acme.org, actor=acme.agent, name="m")


def test_the_workflows_through_the_api(acme, globex):
    client = api_client(acme.agent)
    for subject in ("incident", "child", "dup"):
        client.post("/api/v1/tickets/", {"subject": subject}, format="json")
    linked = client.post(
        "/api/v1/tickets/TKT-ACME-001/children/", {"ticket": "TKT-ACME-002"}, format="json"
    )
    assert linked.status_code == 201
    children = client.get("/api/v1/tickets/TKT-ACME-001/children/").json()["results"]
    assert [c["reference"] for c in children] == ["TKT-ACME-002"]
    assert client.delete("/api/v1/tickets/TKT-ACME-001/children/TKT-ACME-002/").status_code == 200
    merged = client.post(
        "/api/v1/tickets/TKT-ACME-003/merge/", {"into": "TKT-ACME-001"}, format="json"
    )
    assert merged.json()["reference"] == "TKT-ACME-001"
    nowhere = client.post(
        "/api/v1/tickets/TKT-ACME-002/merge/", {"into": "TKT-GLX-001"}, format="json"
    )
    assert nowhere.status_code == 400
    escalated = client.post("/api/v1/tickets/TKT-ACME-002/escalate/", {}, format="json")
    assert escalated.json()["escalation_level"] == 1

    supervisor = api_client(acme.supervisor)
    macro = supervisor.post(
        "/api/v1/macros/",
        {"name": "Close", "body": "Bye {{ ticket.reference }}", "actions": {"status": "closed"}},
        format="json",
    ).json()
    assert client.post("/api/v1/macros/", {"name": "x"}, format="json").status_code == 403
    applied = client.post(f"/api/v1/tickets/TKT-ACME-002/macros/{macro['id']}/apply/")
    assert applied.json()["reply"] == "Bye TKT-ACME-002"
    assert applied.json()["pending_actions"] == {"status": "closed"}
    assert applied.json()["pending_text"] == "status Closed" and not applied.json()["applied"]
    assert Ticket.objects.get(reference="TKT-ACME-002").status == "new"  # pending, not applied
    applied = client.post(
        f"/api/v1/tickets/TKT-ACME-002/macros/{macro['id']}/apply/",
        {"apply_now": True},
        format="json",
    )
    assert applied.json()["ticket"]["status"] == "closed" and applied.json()["applied"]
    theirs = macros.macro_save(organization=globex.org, actor=None, name="theirs")
    assert client.post(f"/api/v1/tickets/TKT-ACME-002/macros/{theirs.pk}/apply/").status_code == 404


def test_a_macros_actions_apply_with_the_reply_sent_through_the_api(acme, globex, inbox):
    thread = deliver(make_mail(to=inbox.address)).thread
    ticket = Ticket.objects.get(thread_links__thread=thread)
    macro = macros.macro_save(
        organization=acme.org,
        actor=None,
        name="Wait",
        body="Hello {{ client_name }}",
        actions={"status": "waiting_on_customer", "tags_add": ["billing"]},
    )
    client = api_client(acme.agent)
    filled = client.post(f"/api/v1/tickets/{ticket.reference}/macros/{macro.pk}/apply/").json()
    assert Ticket.objects.get(pk=ticket.pk).sla_paused_at is None  # nothing happened yet
    url = f"/api/v1/threads/{thread.reference}/messages/"
    theirs = macros.macro_save(organization=globex.org, actor=None, name="theirs")
    refused = client.post(url, {"body": "x", "macro": theirs.pk}, format="json")
    assert refused.status_code == 400 and "macro" in refused.json()
    sent = client.post(url, {"body": filled["reply"], "macro": filled["macro"]}, format="json")
    assert sent.status_code == 201
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.status == "waiting_on_customer"
    assert [t.name for t in ticket.tags.all()] == ["billing"]
    assert ticket.events.filter(kind="macro_applied").count() == 1
