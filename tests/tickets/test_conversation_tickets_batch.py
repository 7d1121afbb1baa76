"""A batch of new conversations opens its tickets at once (tickets.conversations
.conversations_tickets_open), with what opening them one after the other did: the same
references, queues, round-robin turns, SLA policies and deadlines, links, events, thread
statuses, notices and acknowledgements; and in a number of queries that does not grow with
the batch."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from inboxes.services import inbox_create
from sla import services as sla_services
from tests.mail import make_mail
from threads import inbound, outbound
from threads.inbound import inbound_record
from threads.models import OutboundMail, Thread
from tickets import notifications, queues, services, sla
from tickets.conversations import queue_default, queues_for_inboxes
from tickets.intake import mail_after_store
from tickets.intake.effects import tickets_after_ingest
from tickets.models import Ticket, TicketEvent
from tisket.models import Notification
from tisket.notifications.matrix import Channel, Event, Scope
from tisket.notifications.services import notification_defaults_set

PARIS = ZoneInfo("Europe/Paris")
# A Saturday: every clock of the office calendar starts at Monday's opening, so the
# deadlines are the same whatever the exact instant each way runs at.
SATURDAY = datetime(2026, 3, 7, 10, 0, tzinfo=PARIS)
STANDARD = {
    priority: {
        "first_response_minutes": 60,
        "next_response_minutes": 120,
        "resolution_minutes": 960,
    }
    for priority in ("urgent", "high", "normal", "low")
}
GOLD = {"normal": {"first_response_minutes": 30, "resolution_minutes": 240}}


@pytest.fixture
def desk(acme, inbox):
    """Two inboxes: support feeds a round-robin queue of three (at most three open tickets
    each), sales feeds no queue; a default policy on office hours and a gold tier for
    gold.test; auto-acknowledgements on support; new conversations told to everyone."""
    inbox.auto_ack_enabled = True
    inbox.save(update_fields=["auto_ack_enabled"])
    sales = inbox_create(organization=acme.org, name="sales", auto_ack_enabled=False)
    support = queues.queue_create(
        organization=acme.org,
        name="Support",
        actor=acme.admin,
        auto_assign=True,
        open_ticket_cap=3,
        inboxes=[inbox],
    )
    for member in (acme.agent, acme.agent2, acme.supervisor):  # their turns in this order
        queues.queue_set_members(queue=support, members=[*support.members.all(), member])
    office = sla_services.calendar_create(
        organization=acme.org, name="Office", timezone_name="Europe/Paris"
    )
    sla_services.policy_create(
        organization=acme.org, name="Standard", calendar=office, is_default=True, targets=STANDARD
    )
    gold = sla_services.policy_create(
        organization=acme.org, name="Gold", calendar=office, targets=GOLD
    )
    sla_services.customer_save(
        organization=acme.org, name="Gold Co", policy=gold, domains=["gold.test"]
    )
    notification_defaults_set(
        organization=acme.org,
        cells={
            (Event.NEW_CONVERSATION, Channel.IN_APP): (Scope.ALL, False),
            (Event.NEW_CONVERSATION, Channel.EMAIL): (Scope.QUEUES, False),
        },
        actor=None,
    )
    queue_default(organization=acme.org)
    # The agent has a ticket open already: one turn fewer before their cap.
    held = services.ticket_create(organization=acme.org, subject="Earlier", actor=None)
    services.ticket_assign(ticket=held, assignee=acme.agent, actor=acme.admin)
    return inbox, sales


def mails(inbox, sales, start: int, count: int) -> list[bytes]:
    """Mails of every kind a batch holds: clients of the default tier and of the gold tier,
    an auto-reply, one without a subject, and some to the inbox that feeds no queue."""
    made = []
    for n in range(start, start + count):
        sender, to, headers, subject = f"c{n}@client.test", inbox.address, {}, f"Question {n}"
        if n % 4 == 1:
            sender = f"g{n}@gold.test"
        if n % 5 == 2:
            headers = {"Auto-Submitted": "auto-replied"}
        if n % 6 == 3:
            to = sales.address
        if n == 4:
            subject = ""
        made.append(
            make_mail(
                sender=sender,
                to=to,
                subject=subject,
                headers=headers,
                message_id=f"<m{n}@client.test>",
                body=f"Hello, this is question {n}.",
            )
        )
    return made


def one_after_the_other(results: list[inbound.InboundResult]) -> None:
    """What a stored mail did before batches: each new conversation's ticket opened alone,
    as conversation_ticket_open was written (ticket_create, the link, then the round-robin),
    then the notices of the new conversations, then the acknowledgements."""
    new = [
        r
        for r in results
        if r.message is not None and r.inbound.status == "accepted" and r.thread_created
    ]
    organization = new[0].thread.organization
    by_inbox = queues_for_inboxes(
        organization=organization, inbox_ids={r.thread.inbox_id for r in new}
    )
    opened = []
    for result in new:
        thread, queue = result.thread, by_inbox[result.thread.inbox_id]
        ticket = services.ticket_create(
            organization=thread.organization,
            subject=thread.subject or "(no subject)",
            actor=None,
            description=result.message.visible_text,
            queue=queue,
            customer_email=thread.client_email,
            created_via=Ticket.Via.EMAIL,
            round_robin=False,
        )
        services.ticket_thread_link(ticket=ticket, thread=thread, actor=None)
        if queue.auto_assign:
            services.ticket_assign_round_robin(ticket=ticket, actor=None)
        if not result.message.is_automated:
            title = f"New conversation {thread.reference} from {result.message.from_email}"
            opened.append((ticket, title, ticket.subject))
    notifications.tickets_notify(
        event=Event.NEW_CONVERSATION, kind=Notification.Kind.NEW_CONVERSATION, items=opened
    )
    outbound.auto_ack_after_ingest(results)


CLOCKS = [
    "first_response_due_at",
    "first_response_alert_at",
    "next_response_started_at",
    "next_response_due_at",
    "next_response_alert_at",
    "resolution_due_at",
    "resolution_alert_at",
    "sla_warn_at",
    "sla_due_at",
    "sla_paused_at",
    "sla_pauses",
    "sla_override_due_at",
]


NOTICE_FIELDS = ("recipient__user__email", "kind", "title", "body", "url", "topic", "in_app",
                 "email_status", "critical")  # fmt: skip


def snapshot() -> dict:
    """Everything opening tickets writes, but the instants it was written at."""
    tickets = {}
    for ticket in Ticket.objects.select_related("queue", "assignee__user", "sla_policy"):
        tickets[ticket.reference] = {
            "fields": (
                ticket.subject,
                ticket.description,
                ticket.status,
                ticket.priority,
                ticket.queue.name if ticket.queue else None,
                ticket.assignee.user.email if ticket.assignee else None,
                ticket.customer_email,
                ticket.created_via,
                ticket.sla_policy.name if ticket.sla_policy else None,
                ticket.sla_started_at == ticket.created_at,
                ticket.sla_computed_at is not None,
            ),
            "clocks": {name: getattr(ticket, name) for name in CLOCKS},
            "threads": list(
                ticket.thread_links.order_by("created_at", "id").values_list(
                    "thread__reference", flat=True
                )
            ),
            "events": [
                (event.kind, event.actor_id, event.data)
                for event in TicketEvent.objects.filter(ticket=ticket).order_by("created_at", "id")
            ],
        }
    return {
        "tickets": tickets,
        "threads": sorted(Thread.objects.values_list("reference", "status")),
        "notices": list(Notification.objects.order_by("id").values_list(*NOTICE_FIELDS)),
        "outbound": sorted(
            (mail.thread.reference, mail.kind, tuple(mail.to))
            for mail in OutboundMail.objects.select_related("thread")
        ),
    }


def run(ids_by_batch: list[list[int]], after_store) -> dict:
    """Process the batches of mails with this after_store and take the snapshot; undone."""
    sizes = []

    def counted(results):
        sizes.append(len(results))
        after_store(results)

    with transaction.atomic():
        for ids in ids_by_batch:
            inbound.inbound_process_many(inbound_ids=ids, after_store=counted)
        taken = snapshot()
        transaction.set_rollback(True)
    assert sizes == [len(ids) for ids in ids_by_batch]  # each batch ran whole, not mail by mail
    return taken


def test_a_batch_opens_the_same_tickets_as_one_conversation_after_the_other(acme, desk):
    inbox, sales = desk
    with time_machine.travel(SATURDAY, tick=True):
        rows = [inbound_record(raw=raw, source="test")[0] for raw in mails(inbox, sales, 0, 12)]
        batches = [[row.pk for row in rows[:8]], [row.pk for row in rows[8:]]]
        before = run(batches, one_after_the_other)
        sla.terms_memo_clear()
        now = run(batches, mail_after_store)
    assert now == before
    # What the comparison covers, so that it cannot pass by comparing nothing. Mail n is
    # thread n + 1: 2 and 7 are auto-replies, 3 and 9 went to sales, 1, 5 and 9 are gold.
    tickets = now["tickets"]
    assert len(tickets) == 13
    support = [t["fields"][5] for _, t in sorted(tickets.items()) if t["fields"][4] == "Support"]
    assert support == [
        "agent@acme.test",  # the agent held one already: two more take them to the cap
        "agent2@acme.test",
        "supervisor@acme.test",
        "agent@acme.test",
        "agent2@acme.test",
        "supervisor@acme.test",
        "agent2@acme.test",
        "supervisor@acme.test",  # the second batch goes on with the turns where the first ended
        None,  # everyone at the cap: the rest wait unassigned
        None,
    ]
    sales = [t for t in tickets.values() if t["fields"][4] == "General"]
    assert len(sales) == 2 and all(t["fields"][5] is None for t in sales)
    gold = [t for t in tickets.values() if t["fields"][8] == "Gold"]
    assert len(gold) == 3
    assert {t["clocks"]["first_response_due_at"] for t in gold} == {
        datetime(2026, 3, 9, 9, 30, tzinfo=PARIS)  # Monday's opening and 30 minutes
    }
    standard = tickets["TKT-ACME-002"]
    assert standard["fields"][8] == "Standard"
    assert standard["clocks"]["resolution_due_at"] == datetime(2026, 3, 10, 17, 0, tzinfo=PARIS)
    assert tickets["TKT-ACME-006"]["fields"][0] == "(no subject)"
    assert tickets["TKT-ACME-002"]["events"] == [
        ("created", None, {"via": "email"}),
        ("linked", None, {"thread": "THD-ACME-001"}),
        ("assigned", None, {"assignee": "agent@acme.test", "automatic": True}),
    ]
    new = {title.split()[2] for _, kind, title, *_ in now["notices"] if kind == "new_conversation"}
    assert new == {f"THD-ACME-{n + 1:03d}" for n in range(12)} - {"THD-ACME-003", "THD-ACME-008"}
    assigned = [title for _, kind, title, *_ in now["notices"] if kind == "assigned"]
    assert "THD-ACME-001 assigned to you" in assigned
    assert [thread for thread, _, _ in now["outbound"]] == [
        f"THD-ACME-{n + 1:03d}" for n in (0, 1, 4, 5, 6, 8, 10, 11)
    ]


def test_opening_the_tickets_of_5_or_50_new_conversations_costs_the_same_queries(acme, desk):
    inbox, sales = desk
    # No cap: every ticket of both batches takes a turn.
    queues.queue_update(
        queue=queues_for_inboxes(organization=acme.org, inbox_ids={inbox.pk})[inbox.pk],
        open_ticket_cap=None,
    )
    counted = []
    for start, count in ((3, 5), (100, 50)):  # each with mail of every kind
        rows = [
            inbound_record(raw=raw, source="test")[0] for raw in mails(inbox, sales, start, count)
        ]
        stored = []
        inbound.inbound_process_many(
            inbound_ids=[row.pk for row in rows], after_store=stored.extend
        )
        assert sum(r.thread_created for r in stored) == count
        sla.terms_memo_clear()
        with CaptureQueriesContext(connection) as queries:
            tickets_after_ingest(stored)
        counted.append(len(queries))
    assert Ticket.objects.filter(thread_links__isnull=False).count() == 55
    assert counted[0] == counted[1], counted
