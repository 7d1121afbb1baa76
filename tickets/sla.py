"""A ticket's SLA clocks: its policy, when each target falls due, pauses, and the sweep.

Three clocks run on a ticket, each against its policy's target for the
ticket's priority, counted in business minutes of the policy's calendar:

- first response: from creation until the first public agent reply;
- next response: from a client message (once answered before) until the next
  public agent reply;
- resolution: from creation, or from the last reopen, until resolved.

Deadlines are columns on the ticket. Each clock also has an alert instant:
the warning point (75 % of the target), then the deadline itself, then
nothing once breached. The sweep claims alerts that are due with one UPDATE
per metric and kind, so each warning and each breach happens once however
often and however concurrently it runs, and it reads only the index of due
alerts: its cost grows with the due tickets, not the open ones.

While a ticket waits on the customer its clocks pause; when it resumes, the
paused business time is added back (the deadline moves by exactly the
business minutes the pause lasted).
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from sla import clock
from sla.models import (
    METRICS,
    WARNING_SHARE,
    CustomerDomain,
    CustomerOrganization,
    Metric,
    SlaPolicy,
    SlaTarget,
)
from tickets.models import OPEN_STATUSES, SlaBreach, Ticket, TicketEvent
from tickets.notifications import Notice, notify_all
from tisket.models import Membership, Notification, Organization, Role

logger = logging.getLogger(__name__)

PAUSED = Ticket.Status.WAITING_ON_CUSTOMER
CLOCK_FIELDS = [
    "sla_policy",
    "sla_started_at",
    "sla_paused_at",
    "sla_pauses",
    "first_response_due_at",
    "first_response_alert_at",
    "next_response_started_at",
    "next_response_due_at",
    "next_response_alert_at",
    "resolution_due_at",
    "resolution_alert_at",
    "sla_warn_at",
    "sla_due_at",
    "sla_computed_at",
]


@dataclass(frozen=True)
class Terms:
    """A policy with what its deadlines need: targets by priority and the pure calendar."""

    policy: SlaPolicy
    targets: dict[str, SlaTarget]
    calendar: clock.Calendar

    def minutes(self, priority: str, metric: str) -> int | None:
        target = self.targets.get(priority)
        return target.minutes(metric) if target is not None else None


def _policies_prefetched():
    return SlaPolicy.objects.select_related("calendar").prefetch_related(
        "targets", "calendar__hours", "calendar__holidays"
    )


def policy_terms(policies: Iterable[SlaPolicy]) -> dict[int, Terms]:
    """Terms of policies fetched with their targets and calendars (see _policies_prefetched)."""
    return {
        policy.pk: Terms(
            policy=policy,
            targets={t.priority: t for t in policy.targets.all()},
            calendar=policy.calendar.as_clock(),
        )
        for policy in policies
    }


def terms_of(organization_id: int) -> dict[int, Terms]:
    return policy_terms(_policies_prefetched().filter(organization_id=organization_id))


def policy_for(ticket: Ticket) -> SlaPolicy | None:
    """The tier of the ticket's customer organization (by name, else by the client's
    address domain), else the organization's default policy."""
    customer = None
    if ticket.customer_organization:
        customer = CustomerOrganization.objects.filter(
            organization_id=ticket.organization_id,
            name__iexact=ticket.customer_organization.strip(),
        ).first()
    if customer is None and "@" in ticket.customer_email:
        domain = ticket.customer_email.rsplit("@", 1)[1].lower()
        found = (
            CustomerDomain.objects.filter(organization_id=ticket.organization_id, domain=domain)
            .select_related("customer")
            .first()
        )
        customer = found.customer if found else None
    if customer is not None and customer.policy_id is not None:
        return customer.policy
    return SlaPolicy.objects.filter(organization_id=ticket.organization_id, is_default=True).first()


def _pauses(ticket: Ticket, now: datetime) -> list[tuple[datetime, datetime]]:
    pauses = [(parse_datetime(start), parse_datetime(end)) for start, end in ticket.sla_pauses]
    if ticket.sla_paused_at is not None:
        pauses.append((ticket.sla_paused_at, max(now, ticket.sla_paused_at)))
    return pauses


def _paused_minutes(
    pauses: list[tuple[datetime, datetime]], since: datetime, calendar: clock.Calendar
) -> float:
    """Business minutes of the pauses after `since`: what the clock gives back."""
    return sum(
        clock.business_minutes(max(start, since), end, calendar)
        for start, end in pauses
        if end > since
    )


def _clock_start(ticket: Ticket, metric: str) -> datetime | None:
    """When the metric's clock started, or None when it does not run."""
    if ticket.status not in OPEN_STATUSES:
        return None
    if metric == Metric.FIRST_RESPONSE:
        return ticket.created_at if ticket.first_responded_at is None else None
    if metric == Metric.NEXT_RESPONSE:
        if ticket.first_responded_at is None:
            return None  # the first response covers the client's early messages
        return ticket.next_response_started_at
    return ticket.sla_started_at or ticket.created_at


def _stage(ticket: Ticket, metric: str) -> str:
    due = getattr(ticket, f"{metric}_due_at")
    alert = getattr(ticket, f"{metric}_alert_at")
    if due is None:
        return "stopped"
    if alert is None:
        return "breached"
    return "warned" if alert >= due else "running"


def sla_refresh(
    ticket: Ticket,
    *,
    terms: Terms | None,
    now: datetime | None = None,
    restart: Iterable[str] = (),
) -> None:
    """Set the ticket's deadlines and alerts from its state (in memory; the caller saves).

    A clock in `restart` starts afresh (its warning and breach may happen
    again); otherwise a warning or breach already claimed is not claimed
    twice, unless the new deadline lies ahead again (a lowered priority).
    """
    now = now or timezone.now()
    restart = set(restart)
    pauses = _pauses(ticket, now)
    dues, warnings = [], []
    for metric in METRICS:
        start = _clock_start(ticket, metric)
        minutes = terms.minutes(ticket.priority, metric) if terms is not None else None
        due = alert = None
        if start is not None and minutes is not None:
            calendar = terms.calendar
            paused = _paused_minutes(pauses, start, calendar)
            due = clock.due_at(start, minutes + paused, calendar)
            warn = clock.due_at(start, minutes * WARNING_SHARE + paused, calendar)
            dues.append(due)
            warnings.append(warn)
            stage = "running" if metric in restart else _stage(ticket, metric)
            if stage in ("running", "stopped"):
                alert = warn
            elif stage == "warned" or due > now:
                alert = due
        setattr(ticket, f"{metric}_due_at", due)
        setattr(ticket, f"{metric}_alert_at", alert)
    # The state at a glance: at risk from the first warning point, breached from the
    # first deadline. Plain instants, so the queue filters by state with a range.
    ticket.sla_warn_at = min(warnings, default=None)
    ticket.sla_due_at = min(dues, default=None)
    # The wall clock, not `now` (which may be an instant the caller computes for): a
    # policy changed after this moment finds these deadlines stale.
    ticket.sla_computed_at = timezone.now()


_TERMS_CACHE: dict[tuple, Terms] = {}


def terms_memo_clear() -> None:
    _TERMS_CACHE.clear()


def _terms_for(ticket: Ticket) -> Terms | None:
    """The ticket's policy terms: one query while the policy and calendar are unchanged.

    Every change to a policy's targets or a calendar's hours and holidays
    bumps its updated_at (sla.services), which keys this process-wide memo.
    """
    if ticket.sla_policy_id is None:
        return None
    policy = SlaPolicy.objects.select_related("calendar").filter(pk=ticket.sla_policy_id).first()
    if policy is None:
        return None
    key = (policy.pk, policy.updated_at, policy.calendar_id, policy.calendar.updated_at)
    terms = _TERMS_CACHE.get(key)
    if terms is None:
        if len(_TERMS_CACHE) > 256:
            _TERMS_CACHE.clear()
        terms = policy_terms(_policies_prefetched().filter(pk=policy.pk))[policy.pk]
        _TERMS_CACHE[key] = terms
    return terms


def _save(ticket: Ticket) -> None:
    ticket.save(update_fields=CLOCK_FIELDS)


def sla_ticket_created(ticket: Ticket) -> None:
    """Start the clocks of a new ticket under its customer's policy."""
    ticket.sla_policy = policy_for(ticket)
    ticket.sla_started_at = ticket.created_at
    sla_refresh(ticket, terms=_terms_for(ticket), restart=METRICS)
    _save(ticket)


def sla_terms_changed(ticket: Ticket) -> None:
    """Priority or customer changed: the policy may differ, and the deadlines do."""
    ticket.sla_policy = policy_for(ticket)
    sla_refresh(ticket, terms=_terms_for(ticket))
    _save(ticket)


def sla_status_changed(ticket: Ticket, *, old: str, now: datetime) -> None:
    """Pause while waiting on the customer, resume with the time given back, restart on reopen."""
    new = ticket.status
    restart: list[str] = []
    if new == PAUSED and ticket.sla_paused_at is None:
        ticket.sla_paused_at = now
    elif new != PAUSED and ticket.sla_paused_at is not None:
        ticket.sla_pauses = [
            *ticket.sla_pauses,
            [ticket.sla_paused_at.isoformat(), now.isoformat()],
        ]
        ticket.sla_paused_at = None
    if old not in OPEN_STATUSES and new in OPEN_STATUSES:
        # A reopen restarts the clocks: the client waits for an answer again.
        ticket.sla_started_at = now
        ticket.sla_pauses = []
        ticket.next_response_started_at = now
        restart = [Metric.NEXT_RESPONSE, Metric.RESOLUTION]
    if new not in OPEN_STATUSES:
        ticket.next_response_started_at = None
    sla_refresh(ticket, terms=_terms_for(ticket), now=now, restart=restart)
    _save(ticket)


def sla_client_wrote(ticket: Ticket, *, at: datetime) -> None:
    """A client message starts the next-response clock, unless one already waits."""
    if ticket.next_response_started_at is not None or ticket.status not in OPEN_STATUSES:
        return
    ticket.next_response_started_at = at
    sla_refresh(ticket, terms=_terms_for(ticket), restart=[Metric.NEXT_RESPONSE])
    _save(ticket)


def sla_agent_replied(ticket: Ticket) -> None:
    """A public agent reply stops the first-response and next-response clocks."""
    ticket.next_response_started_at = None
    sla_refresh(ticket, terms=_terms_for(ticket))
    _save(ticket)


def _recompute(tickets: QuerySet[Ticket], *, organization_id: int) -> int:
    """Refresh these tickets' deadlines in batches, each written with one bulk update."""
    terms = terms_of(organization_id)
    count = 0
    last_id = 0
    now = timezone.now()
    while True:
        with transaction.atomic():
            batch = list(tickets.filter(pk__gt=last_id).order_by("pk").select_for_update()[:500])
            if not batch:
                return count
            for ticket in batch:
                sla_refresh(ticket, terms=terms.get(ticket.sla_policy_id), now=now)
            Ticket.objects.bulk_update(batch, CLOCK_FIELDS)
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


def _supervisors(organization_ids: set[int]) -> dict[int, list[Membership]]:
    found: dict[int, list[Membership]] = {}
    for membership in Membership.objects.filter(
        organization_id__in=organization_ids,
        role__in=[Role.SUPERVISOR, Role.ADMIN, Role.OWNER],
        user__is_active=True,
    ).select_related("user", "organization"):
        found.setdefault(membership.organization_id, []).append(membership)
    return found


def _notify(claimed, tickets: dict[int, Ticket]) -> None:
    """The assignee hears of warnings and breaches; supervisors of breaches too.

    One notice per member and kind per sweep: a member with one ticket at
    stake gets it by name, one with many gets a digest, never a flood.
    """
    supervisors = _supervisors({tickets[pk].organization_id for _, pk, _ in claimed["breach"]})
    at_stake: dict[tuple[int, str], tuple[Membership, list]] = {}
    for kind, rows in claimed.items():
        for metric, pk, due in rows:
            ticket = tickets[pk]
            recipients = [ticket.assignee] if ticket.assignee_id else []
            if kind == "breach":
                recipients += supervisors.get(ticket.organization_id, [])
            for member in recipients:
                at_stake.setdefault((member.pk, kind), (member, []))[1].append(
                    (metric, ticket, due)
                )
    notify_all([_notice(member, kind, items) for (_, kind), (member, items) in at_stake.items()])


def _notice(member: Membership, kind: str, items: list) -> Notice:
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
    return Notice(
        recipient=member, kind=notification_kind, title=title, body="\n".join(lines), url=url
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


# Reading the clocks ----------------------------------------------------------


def sla_state(ticket: Ticket, now: datetime | None = None) -> str | None:
    """paused, breached, at_risk, on_track; None when no clock runs."""
    if ticket.sla_due_at is None:
        return None
    if ticket.sla_paused_at is not None:
        return "paused"
    now = now or timezone.now()
    if ticket.sla_due_at <= now:
        return "breached"
    if ticket.sla_warn_at is not None and ticket.sla_warn_at <= now:
        return "at_risk"
    return "on_track"


def sla_state_q(state: str, now: datetime, prefix: str = "") -> Q:
    """Tickets in an SLA state, as ranges over the first warning point and deadline.

    `prefix` reaches the ticket through a relation (e.g. "ticket_link__ticket__").
    """

    def q(**lookups) -> Q:
        return Q(**{prefix + name: value for name, value in lookups.items()})

    if state == "paused":
        return q(sla_due_at__isnull=False, sla_paused_at__isnull=False)
    unpaused = q(sla_paused_at__isnull=True)
    if state == "breached":
        return unpaused & q(sla_due_at__lte=now)
    if state == "at_risk":
        return unpaused & q(sla_warn_at__lte=now, sla_due_at__gt=now)
    if state == "on_track":
        return unpaused & q(sla_warn_at__gt=now)
    raise ValueError(f"unknown SLA state {state!r}")
