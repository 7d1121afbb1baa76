"""Migration 0013: every conversation from before "every conversation has its ticket" gets one,
in the queue its inbox feeds, in batches, and a second run changes nothing."""

import importlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("tickets", "0012_reply_drafts_per_agent")]
AFTER = [("tickets", "0013_conversation_tickets")]
backfill = importlib.import_module("tickets.migrations.0013_conversation_tickets")


def _migrate(targets: list[tuple[str, str]]):
    executor = MigrationExecutor(connection)
    # The other apps stay at their latest: their tables as they are, e.g. an inbox's columns.
    others = [n for n in executor.loader.graph.leaf_nodes() if n[0] != "tickets"]
    targets = [*others, *targets] if targets[0][0] == "tickets" else targets
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


class _Editor:
    connection = connection


@pytest.mark.django_db(transaction=True)
def test_ticketless_conversations_get_their_tickets_once(monkeypatch):
    monkeypatch.setattr(backfill, "BATCH", 2)  # three batches for five conversations
    old = _migrate(BEFORE)
    try:
        get = old.get_model
        Organization, Inbox, Queue = (get(*m) for m in (("tisket", "Organization"),
                                      ("inboxes", "Inbox"), ("tickets", "Queue")))  # fmt: skip
        Thread, Ticket, TicketThread, Sequence = (
            get("threads", "Thread"), get("tickets", "Ticket"),
            get("tickets", "TicketThread"), get("tisket", "Sequence"),
        )  # fmt: skip
        acme = Organization.objects.create(slug="acme", code="ACME", name="Acme")
        support, sales = (
            Inbox.objects.create(organization=acme, name=n, address=f"{n}@in.tisket.test")
            for n in ("support", "sales")
        )
        default = Queue.objects.create(organization=acme, name="General", is_default=True)
        sales_queue = Queue.objects.create(organization=acme, name="Sales")
        sales_queue.inboxes.add(sales)
        threads = [
            Thread.objects.create(
                organization=acme, inbox=sales if n == 2 else support, number=n,
                reference=f"THD-ACME-{n:03d}", subject=f"Question {n}",
                status="resolved" if n == 3 else "open", client_email=f"c{n}@client.test",
            )
            for n in range(1, 7)
        ]  # fmt: skip
        had = Ticket.objects.create(
            organization=acme, number=1, reference="TKT-ACME-001", subject="Question 1"
        )
        TicketThread.objects.create(ticket=had, thread=threads[0])
        Sequence.objects.create(organization=acme, name="ticket", last_value=1)

        new = _migrate(AFTER)
        Ticket, TicketThread = (
            new.get_model("tickets", "Ticket"),
            new.get_model("tickets", "TicketThread"),
        )
        rows = sorted(
            TicketThread.objects.values_list(
                "thread__reference", "ticket__reference", "ticket__queue__name",
                "ticket__status", "ticket__customer_email", "ticket__subject",
            )
        )  # fmt: skip
        assert rows[:3] == [
            ("THD-ACME-001", "TKT-ACME-001", None, "new", "", "Question 1"),
            ("THD-ACME-002", "TKT-ACME-002", "Sales", "open", "c2@client.test", "Question 2"),
            ("THD-ACME-003", "TKT-ACME-003", "General", "resolved", "c3@client.test",
             "Question 3"),
        ]  # fmt: skip
        assert len(rows) == 6 and rows[-1][1] == "TKT-ACME-006"
        assert new.get_model("tisket", "Sequence").objects.get(name="ticket").last_value == 6
        events = new.get_model("tickets", "TicketEvent").objects
        assert events.filter(kind="created").count() == 5

        backfill.conversation_tickets(new, _Editor())  # run again: nothing left to do
        assert Ticket.objects.count() == 6 and events.count() == 5
        assert default.pk == Ticket.objects.get(reference="TKT-ACME-004").queue_id
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
