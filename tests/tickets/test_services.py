import pytest

from tests.factories import MembershipFactory
from tests.mail import deliver, deliver_without_ticket, make_mail
from threads.inbound import inbound_record
from threads.models import Message
from tickets import conversations, queues, services
from tickets.intake import mail_after_store, mail_retry
from tickets.models import Ticket, TicketEvent
from tisket.errors import ConflictError, NotAllowedError
from tisket.models import Role

S = Ticket.Status


def kinds(ticket: Ticket) -> list[str]:
    return list(ticket.events.values_list("kind", flat=True))


@pytest.fixture
def queue(acme):
    return queues.queue_create(
        organization=acme.org, name="Support", actor=acme.admin, members=[acme.agent, acme.agent2]
    )


def test_a_ticket_gets_the_next_reference_and_a_created_event(acme, globex):
    first = services.ticket_create(organization=acme.org, subject="Printer", actor=acme.agent)
    second = services.ticket_create(organization=acme.org, subject="Scanner", actor=acme.agent)
    theirs = services.ticket_create(organization=globex.org, subject="X", actor=globex.agent)
    assert (first.reference, second.reference, theirs.reference) == (
        "TKT-ACME-001",
        "TKT-ACME-002",
        "TKT-GLX-001",
    )
    assert first.status == S.NEW
    assert kinds(first) == ["created"]


def test_every_change_writes_its_event(acme, queue):
    ticket = services.ticket_create(organization=acme.org, subject="Printer", actor=acme.agent)
    services.ticket_update(
        ticket=ticket,
        actor=acme.agent,
        priority=Ticket.Priority.URGENT,
        queue=queue,
        tags=["Hardware", " floor 2 ", "hardware"],
        subject="Printer on fire",
    )
    ticket.refresh_from_db()
    assert ticket.priority == "urgent"
    assert ticket.queue == queue
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["floor 2", "hardware"]
    assert kinds(ticket) == ["created", "updated", "priority", "queue", "tags"]
    priority = ticket.events.get(kind="priority")
    assert priority.data == {"old": "normal", "new": "urgent"}
    assert priority.actor == acme.agent
    services.ticket_update(
        ticket=ticket, actor=acme.agent, priority="urgent", tags=["hardware", "floor 2"]
    )
    assert len(kinds(ticket)) == 5  # nothing changed, nothing written


def test_leaving_resolved_or_closed_is_a_reopen_and_counts(acme):
    ticket = services.ticket_create(organization=acme.org, subject="x", actor=acme.agent)
    services.ticket_set_status(ticket=ticket, status=S.RESOLVED, actor=acme.agent)
    assert ticket.resolved_at is not None
    services.ticket_set_status(ticket=ticket, status=S.OPEN, actor=acme.agent)
    services.ticket_set_status(ticket=ticket, status=S.CLOSED, actor=acme.agent)
    services.ticket_set_status(ticket=ticket, status=S.IN_PROGRESS, actor=acme.agent)
    ticket.refresh_from_db()
    assert ticket.reopen_count == 2
    assert ticket.events.filter(kind="status").count() == 4


def test_only_agents_of_the_organization_are_assigned(acme, globex):
    ticket = services.ticket_create(organization=acme.org, subject="x", actor=acme.agent)
    with pytest.raises(services.TicketError, match="cannot be assigned"):
        services.ticket_assign(ticket=ticket, assignee=acme.viewer, actor=acme.admin)
    with pytest.raises(services.TicketError, match="not of this organization"):
        services.ticket_assign(ticket=ticket, assignee=globex.agent, actor=acme.admin)
    services.ticket_assign(ticket=ticket, assignee=acme.agent2, actor=acme.admin)
    assert ticket.events.get(kind="assigned").data == {
        "assignee": "agent2@acme.test",
        "automatic": False,
    }


def test_round_robin_takes_turns_among_the_queues_agents(acme, queue):
    third = MembershipFactory(organization=acme.org, role=Role.AGENT)
    queues.queue_set_members(queue=queue, members=[acme.agent, acme.agent2, third])
    queues.queue_update(queue=queue, auto_assign=True)
    assignees = [
        services.ticket_create(
            organization=acme.org, subject=f"t{n}", actor=None, queue=queue
        ).assignee
        for n in range(6)
    ]
    assert assignees[:3] == assignees[3:]
    assert set(assignees) == {acme.agent, acme.agent2, third}


def test_round_robin_skips_agents_at_their_cap_and_gives_up_when_all_are(acme, queue):
    queues.queue_update(queue=queue, open_ticket_cap=1)
    first = services.ticket_create(organization=acme.org, subject="a", actor=None, queue=queue)
    assert services.ticket_assign_round_robin(ticket=first, actor=None) is not None
    second = services.ticket_create(organization=acme.org, subject="b", actor=None, queue=queue)
    other = services.ticket_assign_round_robin(ticket=second, actor=None)
    assert other is not None
    assert other != first.assignee
    third = services.ticket_create(organization=acme.org, subject="c", actor=None, queue=queue)
    assert services.ticket_assign_round_robin(ticket=third, actor=None) is None
    services.ticket_set_status(ticket=first, status=S.RESOLVED, actor=None)
    assert services.ticket_assign_round_robin(ticket=third, actor=None) == first.assignee


def test_notes_are_for_agents_and_leave_an_event(acme):
    ticket = services.ticket_create(organization=acme.org, subject="x", actor=acme.agent)
    note = services.ticket_note_add(ticket=ticket, body="  call them back  ", actor=acme.agent)
    assert note.body == "call them back"
    assert kinds(ticket)[-1] == "note_added"
    with pytest.raises(NotAllowedError):
        services.ticket_note_add(ticket=ticket, body="hi", actor=acme.viewer)
    with pytest.raises(services.TicketError):
        services.ticket_note_add(ticket=ticket, body="   ", actor=acme.agent)


def test_a_thread_belongs_to_one_ticket_at_most(acme, inbox):
    thread = deliver_without_ticket(make_mail()).thread
    one = services.ticket_create(organization=acme.org, subject="one", actor=acme.agent)
    two = services.ticket_create(organization=acme.org, subject="two", actor=acme.agent)
    services.ticket_thread_link(ticket=one, thread=thread, actor=acme.agent)
    services.ticket_thread_link(ticket=one, thread=thread, actor=acme.agent)  # idempotent
    with pytest.raises(ConflictError, match=f"already belongs to {one.reference}"):
        services.ticket_thread_link(ticket=two, thread=thread, actor=acme.agent)
    services.ticket_thread_unlink(ticket=one, thread=thread, actor=acme.agent)
    services.ticket_thread_link(ticket=two, thread=thread, actor=acme.agent)
    assert kinds(one) == ["created", "linked", "unlinked"]


def test_queues_are_managed_by_supervisors_and_an_inbox_feeds_one_queue(acme, inbox):
    with pytest.raises(NotAllowedError):
        queues.queue_create(organization=acme.org, name="X", actor=acme.agent)
    queues.queue_create(organization=acme.org, name="A", actor=acme.supervisor, inboxes=[inbox])
    with pytest.raises(ConflictError, match="already feeds"):
        queues.queue_create(organization=acme.org, name="B", actor=acme.admin, inboxes=[inbox])
    with pytest.raises(ConflictError, match="exists already"):
        queues.queue_create(organization=acme.org, name="A", actor=acme.admin)


# --- what mail does to tickets ------------------------------------------------------


@pytest.fixture
def routed(acme, inbox, queue):
    queues.queue_set_inboxes(queue=queue, inboxes=[inbox])
    return queue


def test_a_new_thread_opens_a_ticket_in_its_inboxs_queue(acme, routed):
    result = deliver(make_mail(subject="Cannot log in", body="Since this morning."))
    ticket = result.thread.ticket_link.ticket
    assert ticket.reference == "TKT-ACME-001"
    assert ticket.subject == "Cannot log in"
    assert ticket.queue == routed
    assert ticket.created_via == "email"
    assert ticket.customer_email == "jane@client.test"
    assert ticket.description.startswith("Since this morning.")
    assert kinds(ticket) == ["created", "linked"]


def test_automatic_mail_starting_a_thread_opens_a_ticket_too(acme, routed):
    result = deliver(make_mail(subject="Out of office", headers={"Auto-Submitted": "auto-replied"}))
    assert result.inbound.status == "accepted"
    assert result.thread.ticket_link.ticket.queue == routed


def test_a_thread_of_an_inbox_in_no_queue_opens_its_ticket_in_the_default_queue(acme, inbox):
    result = deliver(make_mail())
    assert result.thread.ticket_link.ticket.queue.is_default


def test_a_new_thread_and_its_ticket_are_one_transaction(acme, routed, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("ticket service down")

    monkeypatch.setattr(conversations, "ticket_new", broken)
    result = deliver(make_mail())
    assert result.inbound.status == "failed"
    assert not Message.objects.exists()
    monkeypatch.undo()

    retried = mail_retry(inbound_mail=result.inbound)
    assert retried.thread.ticket_link.ticket.reference == "TKT-ACME-001"


@pytest.mark.parametrize("status", [S.WAITING_ON_CUSTOMER, S.RESOLVED])
def test_a_client_reply_moves_a_waiting_or_resolved_ticket_back_to_open(acme, routed, status):
    thread = deliver(make_mail(message_id="<q@client.test>")).thread
    ticket = thread.ticket_link.ticket
    services.ticket_set_status(ticket=ticket, status=status, actor=acme.agent)
    deliver(make_mail(in_reply_to="<q@client.test>", subject="Re: still broken"))
    ticket.refresh_from_db()
    assert ticket.status == S.OPEN
    assert ticket.reopen_count == (1 if status == S.RESOLVED else 0)
    assert "client_replied" in kinds(ticket)


def test_an_auto_reply_leaves_the_ticket_waiting(acme, routed):
    thread = deliver(make_mail(message_id="<q@client.test>")).thread
    ticket = thread.ticket_link.ticket
    services.ticket_set_status(ticket=ticket, status=S.WAITING_ON_CUSTOMER, actor=acme.agent)
    deliver(make_mail(in_reply_to="<q@client.test>", headers={"Auto-Submitted": "auto-replied"}))
    ticket.refresh_from_db()
    assert ticket.status == S.WAITING_ON_CUSTOMER


def test_a_members_reply_from_their_mail_client_is_the_first_response(acme, routed):
    thread = deliver(make_mail(message_id="<q@client.test>")).thread
    deliver(
        make_mail(
            sender="agent@acme.test",
            in_reply_to="<q@client.test>",
            subject="Re: x",
            authenticated=True,
        )
    )
    ticket = thread.ticket_link.ticket
    ticket.refresh_from_db()
    assert ticket.first_responded_at is not None
    assert ticket.status == S.OPEN  # answered: no longer new
    assert not TicketEvent.objects.filter(kind="client_replied").exists()
    # On the timeline as the member's reply, as one sent from the page would be.
    [event] = TicketEvent.objects.filter(ticket=ticket, kind="reply_sent")
    assert event.actor == acme.agent


def test_an_agents_first_reply_takes_a_new_ticket_to_open(acme, routed):
    from tests.conftest import api_client

    thread = deliver(make_mail(message_id="<q@client.test>")).thread
    response = api_client(acme.agent).post(
        f"/api/v1/threads/{thread.reference}/messages/", {"body": "On it."}, format="json"
    )
    assert response.status_code == 201
    ticket = thread.ticket_link.ticket
    ticket.refresh_from_db()
    assert ticket.status == S.OPEN
    assert kinds(ticket)[-1] == "status"


def test_a_batch_opens_one_ticket_per_new_thread(acme, routed):
    from threads.ingest import ingest

    ids = [inbound_record(raw=make_mail(subject=f"q{n}"), source="test")[0].pk for n in range(5)]
    ingest(after_store=mail_after_store, ids=ids)
    assert sorted(Ticket.objects.values_list("reference", flat=True)) == [
        f"TKT-ACME-{n:03d}" for n in range(1, 6)
    ]
