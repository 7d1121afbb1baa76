"""Notification mail: after the delay and only if unread, one per conversation, never in
quiet hours (but what no one may turn off), and the daily digest by SLA risk. Time travels;
the mails go through the outbox to a real SMTP server."""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine

from threads.models import OutboundMail
from tickets import services
from tickets.models import Ticket
from tickets.notifications import Notice, notify_all
from tickets.tasks import notification_mails_task
from tisket.models import Notification
from tisket.notifications import services as prefs

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 10:00 in Paris


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def sweep(clock, when: datetime, capture) -> dict:
    clock.move_to(when)
    with capture(execute=True):
        return notification_mails_task()


def ticket_for(acme, subject: str = "Printer") -> Ticket:
    return services.ticket_create(organization=acme.org, subject=subject, actor=None)


def test_a_mail_waits_for_the_delay_and_brings_every_unread_notice_of_its_conversation(
    acme, clock, smtp, django_capture_on_commit_callbacks
):
    printer, scanner = ticket_for(acme), ticket_for(acme, "Scanner")
    services.ticket_assign(ticket=printer, assignee=acme.agent, actor=acme.supervisor)
    clock.move_to(at(60))
    services.ticket_assign(ticket=scanner, assignee=acme.agent, actor=acme.supervisor)
    clock.move_to(at(120))
    services.ticket_note_add(ticket=printer, body="@agent the toner is here", actor=acme.agent2)
    clock.move_to(at(200))
    seen = Notification.objects.get(recipient=acme.agent, topic=scanner.reference)
    prefs.notifications_mark_read(membership=acme.agent, ids=[seen.pk])

    assert sweep(clock, at(299), django_capture_on_commit_callbacks)["mails"] == 0
    assert sweep(clock, at(301), django_capture_on_commit_callbacks)["mails"] == 1
    assert sweep(clock, at(900), django_capture_on_commit_callbacks)["mails"] == 0

    [(to, mail)] = smtp.received  # the printer's two notices in one; the scanner was read
    assert to == [acme.agent.user.email]
    assert mail["Subject"] == f"2 updates on {printer.reference}"
    assert mail["Auto-Submitted"] == "auto-generated"
    body = mail.get_body(("plain",)).get_content()
    assert f"{printer.reference} assigned to you" in body and "the toner is here" in body
    assert scanner.reference not in body
    assert "/accounts/profile/notifications/acme/" in body
    statuses = dict(
        Notification.objects.filter(recipient=acme.agent).values_list("title", "email_status")
    )
    assert sorted(statuses.values()) == ["sent", "sent", "skipped"]


def test_with_no_delay_the_mail_goes_at_once(
    acme, settings, clock, smtp, django_capture_on_commit_callbacks
):
    settings.TISKET_NOTIFY_EMAIL_DELAY = 0
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_assign(ticket=ticket_for(acme), assignee=acme.agent, actor=None)
    [(to, mail)] = smtp.received
    assert to == [acme.agent.user.email] and "assigned to you" in mail["Subject"]


def test_quiet_hours_hold_mail_in_the_members_time_zone_but_not_a_breach_of_their_own(
    acme, clock, smtp, django_capture_on_commit_callbacks
):
    acme.agent.user.timezone = "Europe/Paris"
    acme.agent.user.save(update_fields=["timezone"])
    prefs.notification_preferences_set(
        membership=acme.agent, cells={}, quiet_hours_start=time(22), quiet_hours_end=time(7)
    )
    night = datetime(2026, 3, 2, 21, 30, tzinfo=UTC)  # 22:30 in Paris
    clock.move_to(night)
    ticket = ticket_for(acme)
    services.ticket_assign(ticket=ticket, assignee=acme.agent, actor=None)
    other = ticket_for(acme, "Server down")
    notify_all(
        [
            Notice(
                recipient=acme.agent,
                kind=Notification.Kind.SLA_BREACHED,
                title=f"{other.reference}: first response target missed",
                topic=other.reference,
                critical=True,
            )
        ]
    )
    sweep(clock, night + timedelta(minutes=10), django_capture_on_commit_callbacks)
    assert [mail["Subject"] for _, mail in smtp.received] == [
        f"{other.reference}: first response target missed"
    ]
    sweep(clock, datetime(2026, 3, 3, 5, 59, tzinfo=UTC), django_capture_on_commit_callbacks)
    assert len(smtp.received) == 1  # 06:59 in Paris: still quiet
    sweep(clock, datetime(2026, 3, 3, 6, 0, tzinfo=UTC), django_capture_on_commit_callbacks)
    assert "assigned to you" in smtp.received[-1][1]["Subject"]
    assert len(smtp.received) == 2


def test_the_daily_digest_puts_the_conversations_most_at_risk_first_and_goes_once_a_day(
    acme, clock, smtp, django_capture_on_commit_callbacks
):
    acme.agent.user.timezone = "Europe/Paris"
    acme.agent.user.save(update_fields=["timezone"])
    prefs.notification_preferences_set(
        membership=acme.agent, cells={}, email_digest=True, digest_time=time(8)
    )
    calm, late, risky = (
        ticket_for(acme, "Calm"),
        ticket_for(acme, "Late"),
        ticket_for(acme, "Risky"),
    )
    Ticket.objects.filter(pk=late.pk).update(sla_due_at=at(3600), sla_warn_at=at(1800))
    Ticket.objects.filter(pk=risky.pk).update(sla_due_at=at(7200), sla_warn_at=at(600))
    for ticket in (calm, risky, late):
        services.ticket_assign(ticket=ticket, assignee=acme.agent, actor=None)
    breach = Notice(
        recipient=acme.agent,
        kind="sla_breached",
        title="Late breached",
        topic=late.reference,
        critical=True,
    )
    notify_all([breach])
    assert set(
        Notification.objects.filter(recipient=acme.agent).values_list("email_status", flat=True)
    ) == {"digest", "pending"}

    sweep(clock, at(400), django_capture_on_commit_callbacks)
    assert [m["Subject"] for _, m in smtp.received] == ["Late breached"]  # the breach, at once
    # 07:59 in Paris the next morning: not yet; 08:00: the digest.
    sweep(clock, datetime(2026, 3, 3, 6, 59, tzinfo=UTC), django_capture_on_commit_callbacks)
    assert len(smtp.received) == 1
    result = sweep(
        clock, datetime(2026, 3, 3, 7, 0, tzinfo=UTC), django_capture_on_commit_callbacks
    )
    assert result["digests"] == 1
    digest = smtp.received[-1][1]
    assert digest["Subject"] == "Your daily digest: 3 unread in Acme"
    body = digest.get_body(("plain",)).get_content()
    # Late breached its SLA by then, Risky is at risk, Calm has no SLA.
    order = [body.index(f"== {t.reference} {t.subject}") for t in (late, risky, calm)]
    assert order == sorted(order)
    assert "(SLA breached)" in body and "(SLA on track)" not in body
    again = sweep(
        clock, datetime(2026, 3, 3, 7, 30, tzinfo=UTC), django_capture_on_commit_callbacks
    )
    assert again["digests"] == 0 and len(smtp.received) == 2


def test_turning_the_digest_off_sends_what_waited_for_it_with_the_next_sweep(
    acme, clock, django_capture_on_commit_callbacks
):
    prefs.notification_preferences_set(membership=acme.agent, cells={}, email_digest=True)
    services.ticket_assign(ticket=ticket_for(acme), assignee=acme.agent, actor=None)
    assert Notification.objects.get(recipient=acme.agent).email_status == "digest"
    prefs.notification_preferences_set(membership=acme.agent, cells={}, email_digest=False)
    sweep(clock, at(1), django_capture_on_commit_callbacks)
    assert OutboundMail.objects.filter(to=[acme.agent.user.email]).count() == 1


def test_mail_goes_to_each_organizations_own_members_only(
    acme, globex, clock, django_capture_on_commit_callbacks
):
    services.ticket_assign(ticket=ticket_for(acme), assignee=acme.agent, actor=None)
    theirs = services.ticket_create(organization=globex.org, subject="Theirs", actor=None)
    services.ticket_assign(ticket=theirs, assignee=globex.agent, actor=None)
    sweep(clock, at(301), django_capture_on_commit_callbacks)
    mails = {(m.organization_id, m.to[0]) for m in OutboundMail.objects.all()}
    assert mails == {
        (acme.org.pk, acme.agent.user.email),
        (globex.org.pk, globex.agent.user.email),
    }
    acme_mail = OutboundMail.objects.get(organization=acme.org)
    assert theirs.reference not in acme_mail.text
