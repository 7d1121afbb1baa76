"""The sweep: warnings and breaches claimed once each, notices, escalation; and the
catch-up after a policy or calendar change (tickets whose deadlines predate it)."""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from sla.models import (
    METRICS,
    Metric,
    SlaPolicy,
)
from tickets.models import OPEN_STATUSES, SlaBreach, Ticket, TicketEvent
from tickets.notifications import Notice, audience, notify_all
from tickets.sla.clocks import CLOCK_FIELDS, sla_children_follow, sla_refresh, terms_of
from tisket.models import Membership, Notification, Organization
from tisket.notifications.matrix import Event
from tisket.notifications.selectors import Reach

logger = logging.getLogger(__name__)


def _recompute(tickets: QuerySet[Ticket], *, organization_id: int) -> int:
    """Refresh these tickets' deadlines in batches, each written with one bulk update."""
    terms = terms_of(organization_id)
    count = 0
    last_id = 0
    now = timezone.now()
    while True:
        with transaction.atomic():
            batch = list(
                tickets.filter(pk__gt=last_id)
                .select_related("parent")
                .order_by("pk")
                .select_for_update(of=("self",))[:500]
            )
            if not batch:
                return count
            for ticket in batch:
                sla_refresh(ticket, terms=terms.get(ticket.sla_policy_id), now=now)
            Ticket.objects.bulk_update(batch, CLOCK_FIELDS)
            # An incident's tickets follow its new deadlines (they read it before it moved).
            incidents = set(
                Ticket.objects.filter(parent__in=batch).values_list("parent_id", flat=True)
            )
            for ticket in batch:
                if ticket.pk in incidents:
                    sla_children_follow(ticket)
        count += len(batch)
        last_id = batch[-1].pk


def sla_recompute_stale() -> int:
    """Recompute the open tickets whose deadlines predate a change of their policy or calendar.

    Every write of a policy or calendar bumps its updated_at (sla.services); a
    policy records which change its tickets were last recomputed for. So after
    any change, by whatever path (API, settings pages, Django admin, a script),
    the next sweep catches up, and no caller has to remember to ask for it.
    """
    count = 0
    stale_policies = SlaPolicy.objects.select_related("calendar").filter(
        Q(deadlines_recomputed_at__isnull=True)
        | Q(deadlines_recomputed_at__lt=F("updated_at"))
        | Q(deadlines_recomputed_at__lt=F("calendar__updated_at"))
    )
    for policy in stale_policies:
        changed = max(policy.updated_at, policy.calendar.updated_at)
        tickets = Ticket.objects.filter(sla_policy=policy, status__in=OPEN_STATUSES).filter(
            # At the same instant as the change (a frozen clock, or a coarse one), it
            # cannot be told which came first: recomputing is safe, so it is stale.
            Q(sla_computed_at__isnull=True) | Q(sla_computed_at__lte=changed)
        )
        count += _recompute(tickets, organization_id=policy.organization_id)
        # Only as far as the change read above: one made meanwhile is caught next time.
        SlaPolicy.objects.filter(pk=policy.pk).update(deadlines_recomputed_at=changed)
    # A deleted policy leaves its tickets without one, and their deadlines to clear.
    orphans = Ticket.objects.filter(
        sla_policy__isnull=True, status__in=OPEN_STATUSES, sla_due_at__isnull=False
    )
    for organization_id in set(orphans.values_list("organization_id", flat=True)):
        count += _recompute(
            orphans.filter(organization_id=organization_id), organization_id=organization_id
        )
    return count


# The sweep ------------------------------------------------------------------


def _claim(metric: str, kind: str, now: datetime) -> list[tuple[int, datetime]]:
    """Move due alerts of one metric a stage on, atomically: [(ticket id, due at)].

    A warning claim moves the alert to the deadline; a breach claim clears it.
    Under concurrent sweeps each row is claimed once: PostgreSQL re-checks the
    WHERE clause on a row another sweep just updated.
    """
    quote = connection.ops.quote_name
    table = quote(Ticket._meta.db_table)
    alert, due = quote(f"{metric}_alert_at"), quote(f"{metric}_due_at")
    if kind == "warning":
        change, stage = f"{alert} = {due}", f"{alert} < {due}"
    else:
        change, stage = f"{alert} = NULL", f"{alert} >= {due}"
    # Only quoted model field names go into the statement; `now` is a parameter.
    sql = (
        f"UPDATE {table} SET {change} "  # noqa: S608
        f"WHERE {alert} IS NOT NULL AND {quote('sla_paused_at')} IS NULL "
        f"AND {alert} <= %s AND {stage} RETURNING {quote('id')}, {due}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [now])
        rows = cursor.fetchall()
    return [(pk, _aware(due_at)) for pk, due_at in rows]


def _aware(value) -> datetime:
    if isinstance(value, str):  # SQLite hands RETURNING values back as text
        value = parse_datetime(value)
    return value if timezone.is_aware(value) else timezone.make_aware(value, UTC)


@dataclass
class SweepResult:
    warnings: int = 0
    breaches: int = 0
    escalated: int = 0


@transaction.atomic
def sla_sweep(*, now: datetime | None = None) -> SweepResult:
    """Warn at 75 %, record breaches at 100 %, notify, and escalate urgent breaches."""
    now = now or timezone.now()
    result = SweepResult()
    claimed: dict[str, list[tuple[str, int, datetime]]] = {"warning": [], "breach": []}
    for metric in METRICS:
        for kind in ("warning", "breach"):
            claimed[kind] += [(metric, pk, due) for pk, due in _claim(metric, kind, now)]
    if not claimed["warning"] and not claimed["breach"]:
        return result
    ids = {pk for rows in claimed.values() for _, pk, _ in rows}
    tickets = Ticket.objects.select_related(
        "organization", "assignee__user", "assignee__organization"
    ).in_bulk(ids)
    result.warnings = len(claimed["warning"])
    result.breaches = len(claimed["breach"])
    _record(claimed, tickets, now)
    _notify(claimed, tickets)
    result.escalated = _escalate_urgent(claimed["breach"], tickets)
    return result


def _record(claimed, tickets: dict[int, Ticket], now: datetime) -> None:
    SlaBreach.objects.bulk_create(
        [
            SlaBreach(
                organization_id=tickets[pk].organization_id,
                ticket_id=pk,
                metric=metric,
                priority=tickets[pk].priority,
                due_at=due,
                breached_at=now,
            )
            for metric, pk, due in claimed["breach"]
        ],
        ignore_conflicts=True,
    )
    kinds = {"warning": TicketEvent.Kind.SLA_WARNING, "breach": TicketEvent.Kind.SLA_BREACHED}
    TicketEvent.objects.bulk_create(
        [
            TicketEvent(
                ticket_id=pk,
                kind=kinds[kind],
                data={"metric": metric, "due_at": due.isoformat()},
                created_at=now,
            )
            for kind, rows in claimed.items()
            for metric, pk, due in rows
        ]
    )


def _notify(claimed, tickets: dict[int, Ticket]) -> None:
    """Everyone a warning or a breach reaches, per their matrix (by default the assignee of
    both, and supervisors of every breach).

    One notice per member and kind per sweep: a member with one ticket at
    stake gets it by name, one with many gets a digest, never a flood.
    """
    at_stake: dict[tuple[int, str], tuple[Membership, list, list]] = {}
    for kind, rows in claimed.items():
        event = Event.SLA_WARNING if kind == "warning" else Event.SLA_BREACHED
        reached = audience(event=event, tickets=list({tickets[pk] for _, pk, _ in rows}))
        for metric, pk, due in rows:
            for member, reach in reached.get(pk, []):
                entry = at_stake.setdefault((member.pk, kind), (member, [], []))
                entry[1].append((metric, tickets[pk], due))
                entry[2].append(reach)
    notify_all(
        [
            _notice(member, kind, items, reaches)
            for (_, kind), (member, items, reaches) in at_stake.items()
        ]
    )


def _notice(member: Membership, kind: str, items: list, reaches: list[Reach]) -> Notice:
    notification_kind = (
        Notification.Kind.SLA_WARNING if kind == "warning" else Notification.Kind.SLA_BREACHED
    )
    lines = [
        f"{ticket.reference} {ticket.subject} ({ticket.priority}): "
        f"{Metric(metric).label.lower()} due {_when(due, ticket.organization)}"
        for metric, ticket, due in items
    ]
    slug = member.organization.slug
    if len(items) == 1:
        metric, ticket, due = items[0]
        label = Metric(metric).label.lower()
        title = (
            f"{ticket.reference}: {label} due {_when(due, ticket.organization)}"
            if kind == "warning"
            else f"{ticket.reference}: {label} target missed"
        )
        url = reverse("tickets:ticket", kwargs={"org_slug": slug, "ticket": ticket.reference})
    else:
        what = "at risk of missing their SLA" if kind == "warning" else "missed their SLA"
        title = f"{len(items)} tickets {what}"
        state = "at_risk" if kind == "warning" else "breached"
        url = reverse("tickets:queue", kwargs={"org_slug": slug}) + f"?sla={state}"
    # A breach is critical to the one who has the ticket: never held back by an unsubscribe.
    critical = kind == "breach" and any(t.assignee_id == member.pk for _, t, _ in items)
    return Notice(
        recipient=member,
        kind=notification_kind,
        title=title,
        body="\n".join(lines),
        url=url,
        topic=items[0][1].reference if len({t.pk for _, t, _ in items}) == 1 else "",
        in_app=any(r.in_app for r in reaches),
        email=any(r.email for r in reaches),
        critical=critical or any(r.critical for r in reaches),
    )


def _when(due: datetime, organization: Organization) -> str:
    local = timezone.localtime(due, ZoneInfo(organization.timezone))
    return local.strftime("%a %d %b %H:%M %Z")


def _escalate_urgent(breaches, tickets: dict[int, Ticket]) -> int:
    """Urgent tickets that missed a target go up to a supervisor, unless one has them already
    (an escalated ticket is not escalated again by the next missed target)."""
    from tickets.workflows import ticket_escalate

    escalated = 0
    for pk in sorted({pk for _, pk, _ in breaches}):
        ticket = tickets[pk]
        if ticket.priority != Ticket.Priority.URGENT or ticket.status not in OPEN_STATUSES:
            continue
        if ticket.escalation_level > 0:
            continue
        try:
            ticket_escalate(ticket=ticket, actor=None)
        except Exception:  # its own savepoint: one failure never stops the sweep
            logger.exception("escalating %s after its SLA breach failed", ticket.reference)
            continue
        escalated += 1
    return escalated
