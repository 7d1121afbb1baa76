"""SLA clocks on real tickets: deadlines, the sweep's warnings and breaches, pause, reopen."""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine

from sla import services as sla_services
from sla.models import SlaPolicy
from tests.conftest import api_client, in_parallel, require_postgres
from tests.factories import always_open_policy
from tests.mail import deliver, deliver_without_ticket, make_mail
from threads.models import OutboundMail
from tickets import services
from tickets.models import SlaBreach, Ticket, TicketEvent
from tickets.notification_mail import notification_mails_send
from tickets.sla import sla_state, sla_sweep
from tisket.models import Notification

S = Ticket.Status
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
TARGETS = {
    "urgent": {
        "first_response_minutes": 30,
        "next_response_minutes": 30,
        "resolution_minutes": 240,
    },
    "normal": {
        "first_response_minutes": 60,
        "next_response_minutes": 120,
        "resolution_minutes": 480,
    },
}


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def policy(acme, clock):
    return always_open_policy(acme.org, TARGETS)


def minutes(n: float) -> datetime:
    return START + timedelta(minutes=n)


def ticket_for(acme, **fields) -> Ticket:
    fields.setdefault("assignee", acme.agent)
    return services.ticket_create(organization=acme.org, subject="Printer", actor=None, **fields)


def fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def test_a_new_ticket_gets_the_default_policy_and_its_deadlines(acme, policy):
    ticket = fresh(ticket_for(acme))
    assert ticket.sla_policy == policy
    assert ticket.first_response_due_at == minutes(60)
    assert ticket.resolution_due_at == minutes(480)
    assert ticket.next_response_due_at is None
    assert sla_state(ticket) == "on_track"


def test_a_ticket_without_any_policy_has_no_clock(acme, clock):
    ticket = fresh(ticket_for(acme))
    assert ticket.sla_policy is None
    assert (ticket.first_response_due_at, ticket.resolution_due_at) == (None, None)
    assert sla_state(ticket) is None


def test_a_customer_organization_gets_its_tier_by_name_or_by_domain(acme, policy):
    enterprise = sla_services.policy_create(
        organization=acme.org,
        name="Enterprise",
        calendar=policy.calendar,
        targets={"normal": {"first_response_minutes": 15}},
    )
    sla_services.customer_save(
        organization=acme.org, name="Bigco", policy=enterprise, domains=["bigco.example"]
    )
    by_domain = fresh(ticket_for(acme, customer_email="Ann@BIGCO.example"))
    by_name = fresh(ticket_for(acme, customer_organization="bigco"))
    other = fresh(ticket_for(acme, customer_email="bob@small.example"))
    assert by_domain.sla_policy == by_name.sla_policy == enterprise
    assert by_domain.first_response_due_at == minutes(15)
    assert by_domain.resolution_due_at is None  # Enterprise sets no resolution target
    assert other.sla_policy == policy


def test_warning_at_75_percent_and_breach_at_100_each_notified_once(acme, policy, clock):
    ticket = ticket_for(acme)
    clock.move_to(minutes(44))
    assert sla_sweep().warnings == 0
    clock.move_to(minutes(45))
    assert (sla_sweep().warnings, sla_sweep().warnings) == (1, 0)
    assert sla_state(fresh(ticket)) == "at_risk"
    assert Notification.objects.filter(recipient=acme.agent, kind="sla_warning").count() == 1

    clock.move_to(minutes(60))
    result = sla_sweep()
    assert (result.warnings, result.breaches) == (0, 1)
    assert sla_sweep().breaches == 0
    breach = SlaBreach.objects.get()
    assert (breach.ticket_id, breach.metric, breach.due_at) == (
        ticket.pk,
        "first_response",
        minutes(60),
    )
    assert sla_state(fresh(ticket)) == "breached"
    kinds = list(ticket.events.values_list("kind", flat=True))
    assert kinds.count("sla_warning") == 1 and kinds.count("sla_breached") == 1
    # The assignee hears of both; supervisors (and admins, owners) of the breach only.
    breached_to = set(
        Notification.objects.filter(kind="sla_breached").values_list("recipient", flat=True)
    )
    assert breached_to == {acme.agent.pk, acme.supervisor.pk, acme.admin.pk, acme.owner.pk}
    # Only the assignee's breach mail is one no one may turn off.
    critical = Notification.objects.filter(kind="sla_breached", critical=True)
    assert [n.recipient_id for n in critical] == [acme.agent.pk]
    # Still unread after the delay: one mail each, the assignee's warning and breach together.
    assert notification_mails_send(now=minutes(66)) == 4
    mails = OutboundMail.objects.filter(kind=OutboundMail.Kind.NOTIFICATION)
    assert sorted(m.to[0] for m in mails) == sorted(
        m.user.email for m in (acme.agent, acme.supervisor, acme.admin, acme.owner)
    )
    [to_agent] = [m for m in mails if m.to == [acme.agent.user.email]]
    assert "target missed" in to_agent.text and "due" in to_agent.text
    assert all(m.inbox_id is None and m.headers["Auto-Submitted"] for m in mails)


def test_a_sweep_that_missed_both_instants_warns_then_breaches(acme, policy, clock):
    ticket_for(acme)
    clock.move_to(minutes(90))
    result = sla_sweep()
    assert (result.warnings, result.breaches) == (1, 1)
    assert sla_sweep().breaches == 0


def test_an_urgent_breach_escalates_to_a_supervisor(acme, policy, clock):
    ticket = ticket_for(acme, priority="urgent")
    clock.move_to(minutes(31))
    assert sla_sweep().escalated == 1
    ticket = fresh(ticket)
    assert ticket.escalation_level == 1
    assert ticket.assignee.role in ("supervisor", "admin", "owner")
    assert TicketEvent.objects.filter(ticket=ticket, kind="escalated").count() == 1
    clock.move_to(minutes(300))  # the resolution target is missed too: no second escalation
    assert sla_sweep().escalated == 0


def test_a_priority_change_moves_the_deadlines(acme, policy, clock):
    ticket = ticket_for(acme)
    clock.move_to(minutes(10))
    services.ticket_update(ticket=ticket, actor=acme.agent, priority="urgent")
    ticket = fresh(ticket)
    assert ticket.first_response_due_at == minutes(30)
    assert ticket.resolution_due_at == minutes(240)


def test_waiting_on_the_customer_pauses_the_clocks_and_gives_the_time_back(acme, policy, clock):
    ticket = ticket_for(acme)
    clock.move_to(minutes(10))
    services.ticket_set_status(ticket=ticket, status=S.WAITING_ON_CUSTOMER, actor=acme.agent)
    clock.move_to(minutes(600))
    assert sla_sweep().breaches == 0  # nothing runs out while paused
    assert sla_state(fresh(ticket)) == "paused"
    clock.move_to(minutes(130))  # back in time is fine for the test: resume after 120 minutes
    services.ticket_set_status(ticket=fresh(ticket), status=S.OPEN, actor=acme.agent)
    ticket = fresh(ticket)
    assert ticket.first_response_due_at == minutes(60 + 120)
    assert ticket.resolution_due_at == minutes(480 + 120)
    assert ticket.sla_paused_at is None


def test_a_pause_over_closed_hours_gives_back_business_time_only(acme, clock):
    office = sla_services.calendar_create(
        organization=acme.org,
        name="Office",
        timezone_name="UTC",
        hours=[{"weekday": d, "opens": time(9), "closes": time(17)} for d in range(5)],
    )
    sla_services.policy_create(
        organization=acme.org,
        name="Office",
        calendar=office,
        is_default=True,
        targets={"normal": {"resolution_minutes": 600}},
    )
    ticket = ticket_for(acme)  # Monday 09:00: 8 hours today, 2 more on Tuesday
    assert fresh(ticket).resolution_due_at == datetime(2026, 3, 3, 11, 0, tzinfo=UTC)
    clock.move_to(datetime(2026, 3, 2, 16, 0, tzinfo=UTC))
    services.ticket_set_status(ticket=ticket, status=S.WAITING_ON_CUSTOMER, actor=acme.agent)
    clock.move_to(datetime(2026, 3, 3, 10, 0, tzinfo=UTC))  # 1 h Monday + 1 h Tuesday paused
    services.ticket_set_status(ticket=fresh(ticket), status=S.OPEN, actor=acme.agent)
    assert fresh(ticket).resolution_due_at == datetime(2026, 3, 3, 13, 0, tzinfo=UTC)


def reply(acme, thread, body: str) -> None:
    """An agent's public reply, as the API posts it."""
    response = api_client(acme.agent).post(
        f"/api/v1/threads/{thread.reference}/messages/", {"body": body}, format="json"
    )
    assert response.status_code == 201, response.content


def test_replies_stop_and_start_the_response_clocks(acme, policy, inbox, clock):
    mail = deliver_without_ticket(
        make_mail(to=inbox.address, sender="client@example.com", subject="Broken")
    )
    ticket = services.ticket_create(
        organization=acme.org, subject="Broken", actor=None, assignee=acme.agent
    )
    services.ticket_thread_link(ticket=ticket, thread=mail.thread, actor=None)
    clock.move_to(minutes(20))
    reply(acme, mail.thread, "Looking into it.")
    ticket = fresh(ticket)
    assert ticket.first_responded_at == minutes(20)
    assert ticket.first_response_due_at is None and ticket.next_response_due_at is None

    clock.move_to(minutes(30))
    deliver(
        make_mail(
            to=inbox.address,
            sender="client@example.com",
            subject=f"Re: [{mail.thread.reference}] Broken",
            message_id="<second@example.com>",
        )
    )
    ticket = fresh(ticket)
    assert ticket.next_response_due_at == minutes(30 + 120)
    clock.move_to(minutes(40))
    reply(acme, mail.thread, "Fixed.")
    assert fresh(ticket).next_response_due_at is None


def test_a_reopen_restarts_the_response_and_resolution_clocks(acme, policy, clock):
    ticket = ticket_for(acme)
    clock.move_to(minutes(30))
    ticket.first_responded_at = minutes(30)
    ticket.save(update_fields=["first_responded_at"])
    services.ticket_set_status(ticket=ticket, status=S.RESOLVED, actor=acme.agent)
    ticket = fresh(ticket)
    assert (ticket.first_response_due_at, ticket.resolution_due_at) == (None, None)
    assert sla_state(ticket) is None

    clock.move_to(minutes(1000))
    services.ticket_set_status(ticket=ticket, status=S.OPEN, actor=None)
    ticket = fresh(ticket)
    assert ticket.next_response_due_at == minutes(1000 + 120)
    assert ticket.resolution_due_at == minutes(1000 + 480)
    assert sla_state(ticket) == "on_track"


def test_a_policy_change_recomputes_open_tickets(acme, policy, clock):
    open_ticket = ticket_for(acme)
    done = ticket_for(acme)
    services.ticket_set_status(ticket=done, status=S.RESOLVED, actor=acme.agent)
    sla_services.policy_update(policy=policy, targets={"normal": {"first_response_minutes": 240}})
    from tickets.sla import sla_recompute_stale

    assert sla_recompute_stale() == 1  # the sweep catches up: no caller asked for it
    assert sla_recompute_stale() == 0  # and only once
    open_ticket = fresh(open_ticket)
    assert open_ticket.first_response_due_at == minutes(240)
    assert open_ticket.resolution_due_at is None
    assert fresh(done).first_response_due_at is None


def test_a_deleted_policys_tickets_lose_their_deadlines_at_the_next_sweep(acme, policy, clock):
    from tickets.sla import sla_recompute_stale

    ticket = ticket_for(acme)
    assert fresh(ticket).first_response_due_at is not None
    SlaPolicy.objects.filter(pk=policy.pk).update(is_default=False)
    policy.is_default = False  # no longer the default: now it may go
    sla_services.policy_delete(policy=policy)
    assert sla_recompute_stale() == 1
    ticket = fresh(ticket)
    assert (ticket.first_response_due_at, ticket.sla_due_at, ticket.sla_policy) == (None,) * 3
    assert sla_sweep().breaches == 0


def test_a_breached_clock_whose_deadline_moves_ahead_can_breach_again_later(acme, policy, clock):
    ticket = ticket_for(acme, priority="urgent")
    clock.move_to(minutes(35))
    assert sla_sweep().breaches == 1
    services.ticket_update(ticket=fresh(ticket), actor=acme.agent, priority="normal")
    assert sla_state(fresh(ticket)) == "on_track"  # the new target's 75 % point is ahead
    clock.move_to(minutes(61))
    assert sla_sweep().breaches == 1
    assert SlaBreach.objects.filter(ticket=ticket).count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_claim_each_transition_once(acme, clock):
    require_postgres()
    always_open_policy(acme.org, TARGETS)
    tickets = [ticket_for(acme) for _ in range(20)]
    clock.move_to(minutes(70))
    results = in_parallel(lambda _: sla_sweep(), range(8), workers=8)
    assert sum(r.warnings for r in results) == 20
    assert sum(r.breaches for r in results) == 20
    assert SlaBreach.objects.filter(ticket__in=tickets).count() == 20
    assert TicketEvent.objects.filter(kind="sla_breached").count() == 20


def test_many_breaches_in_one_sweep_make_one_digest_per_member(acme, policy, clock):
    first, second = ticket_for(acme), ticket_for(acme)
    clock.move_to(minutes(61))
    sla_sweep()
    notice = Notification.objects.get(recipient=acme.agent, kind="sla_breached")
    assert notice.title == "2 tickets missed their SLA"
    assert first.reference in notice.body and second.reference in notice.body
    assert notice.url == "/acme/?sla=breached"
    notification_mails_send(now=minutes(67))
    # The warnings and the breaches of the same sweep, unread: one mail (the assignments
    # came each in their own, about their ticket).
    mails = OutboundMail.objects.filter(to=[acme.agent.user.email])
    [to_agent] = [m for m in mails if notice.title in m.text]
    assert "2 tickets at risk" in to_agent.text
