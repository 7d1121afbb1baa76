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

A supervisor may override the deadline (`tickets.sla.override`): the new
instant replaces every running clock's deadline, the warning falls at 75 % of
the time from the override to it, and a pause does not move it. A ticket
grouped under an incident keeps no clock of its own: it shows the incident's
deadlines and never warns or breaches by itself; the incident does.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

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
from tickets.models import OPEN_STATUSES, Ticket

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
    "sla_override_due_at",
    "sla_override_at",
    "sla_override_reason",
]
# The paused flag too: a child of an incident that waits on its customer is paused with it,
# and one grouped (or merged in) while the incident is paused is paused at once.
FOLLOWED_FIELDS = [
    *(f"{metric}_due_at" for metric in METRICS),
    "sla_warn_at",
    "sla_due_at",
    "sla_paused_at",
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
    return policies_for([ticket])[0]


def policies_for(tickets: list[Ticket]) -> list[SlaPolicy | None]:
    """policy_for of each ticket, with its calendar, in a few queries for any number of
    tickets (one per customer organization named)."""
    by_name: dict[tuple[int, str], CustomerOrganization | None] = {}
    for ticket in tickets:
        name = ticket.customer_organization.strip()
        if ticket.customer_organization and (ticket.organization_id, name) not in by_name:
            by_name[ticket.organization_id, name] = (
                CustomerOrganization.objects.filter(
                    organization_id=ticket.organization_id, name__iexact=name
                )
                .select_related("policy__calendar")
                .first()
            )
    wanted = {
        (ticket.organization_id, _domain(ticket))
        for ticket in tickets
        if by_name.get((ticket.organization_id, ticket.customer_organization.strip())) is None
        and "@" in ticket.customer_email
    }
    by_domain: dict[tuple[int, str], CustomerOrganization] = {}
    if wanted:
        for found in CustomerDomain.objects.filter(
            organization_id__in={organization_id for organization_id, _ in wanted},
            domain__in={domain for _, domain in wanted},
        ).select_related("customer__policy__calendar"):
            by_domain[found.organization_id, found.domain] = found.customer
    chosen: list[SlaPolicy | None] = []
    defaults_needed = set()
    for ticket in tickets:
        customer = None
        if ticket.customer_organization:
            customer = by_name[ticket.organization_id, ticket.customer_organization.strip()]
        if customer is None and "@" in ticket.customer_email:
            customer = by_domain.get((ticket.organization_id, _domain(ticket)))
        if customer is not None and customer.policy_id is not None:
            chosen.append(customer.policy)
        else:
            chosen.append(None)
            defaults_needed.add(ticket.organization_id)
    defaults: dict[int, SlaPolicy] = {}
    if defaults_needed:
        for policy in SlaPolicy.objects.filter(
            organization_id__in=defaults_needed, is_default=True
        ).select_related("calendar"):
            defaults[policy.organization_id] = policy
    return [
        policy if policy is not None else defaults.get(ticket.organization_id)
        for ticket, policy in zip(tickets, chosen, strict=True)
    ]


def _domain(ticket: Ticket) -> str:
    return ticket.customer_email.rsplit("@", 1)[1].lower()


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
    override = ticket.sla_override_due_at
    for metric in METRICS:
        start = _clock_start(ticket, metric)
        minutes = terms.minutes(ticket.priority, metric) if terms is not None else None
        due = alert = None
        if start is not None and override is not None:
            # The supervisor's deadline holds for the resolution clock, policy or not.
            if minutes is not None or metric == Metric.RESOLUTION:
                due = override
                warn = _override_warning(ticket)
        elif start is not None and minutes is not None:
            calendar = terms.calendar
            paused = _paused_minutes(pauses, start, calendar)
            due = clock.due_at(start, minutes + paused, calendar)
            warn = clock.due_at(start, minutes * WARNING_SHARE + paused, calendar)
        if due is not None:
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
    if _follows_incident(ticket):
        _follow(ticket, ticket.parent)
    # The wall clock, not `now` (which may be an instant the caller computes for): a
    # policy changed after this moment finds these deadlines stale.
    ticket.sla_computed_at = timezone.now()


def _follows_incident(ticket: Ticket) -> bool:
    return (
        ticket.parent_id is not None
        and ticket.status in OPEN_STATUSES
        and ticket.parent.status in OPEN_STATUSES
    )


def _override_warning(ticket: Ticket) -> datetime:
    since = ticket.sla_override_at or ticket.sla_override_due_at
    return since + (ticket.sla_override_due_at - since) * WARNING_SHARE


def _follow(child: Ticket, incident: Ticket) -> None:
    """The incident's deadlines on its ticket, with no alert: only the incident breaches."""
    for name in FOLLOWED_FIELDS:
        setattr(child, name, getattr(incident, name))
    for metric in METRICS:
        setattr(child, f"{metric}_alert_at", None)


def sla_children_follow(incident: Ticket) -> int:
    """Copy the incident's deadlines onto its open tickets, three levels down at most.

    Level by level on the parent index: a ticket without children costs one UPDATE of no row.
    """
    if incident.status not in OPEN_STATUSES:
        return 0
    values = {name: getattr(incident, name) for name in FOLLOWED_FIELDS}
    values.update({f"{metric}_alert_at": None for metric in METRICS})
    values["sla_computed_at"] = timezone.now()
    total, parents = 0, [incident.pk]
    for _level in range(3):
        below = Ticket.objects.filter(parent_id__in=parents, status__in=OPEN_STATUSES)
        updated = below.update(**values)
        if not updated:
            break
        total += updated
        parents = list(below.values_list("pk", flat=True))
    return total


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
    return _terms_of_policies([policy])[policy.pk]


def _terms_of_policies(policies: Iterable[SlaPolicy]) -> dict[int, Terms]:
    """The terms of policies read with their calendars, from the memo where they are unchanged."""
    found, missing = {}, {}
    for policy in policies:
        key = (policy.pk, policy.updated_at, policy.calendar_id, policy.calendar.updated_at)
        terms = _TERMS_CACHE.get(key)
        if terms is None:
            missing[policy.pk] = key
        else:
            found[policy.pk] = terms
    if missing:
        if len(_TERMS_CACHE) > 256:
            _TERMS_CACHE.clear()
        for pk, terms in policy_terms(_policies_prefetched().filter(pk__in=missing)).items():
            _TERMS_CACHE[missing[pk]] = found[pk] = terms
    return found


def _save(ticket: Ticket) -> None:
    ticket.save(update_fields=CLOCK_FIELDS)
    sla_children_follow(ticket)


def sla_ticket_created(ticket: Ticket) -> None:
    """Start the clocks of a new ticket under its customer's policy."""
    sla_clocks_start([ticket])
    _save(ticket)


def sla_clocks_start(tickets: list[Ticket]) -> None:
    """Start the clocks of new tickets under their customers' policies, in memory: for tickets
    about to be inserted (a new ticket has no incident's tickets to follow it)."""
    policies = policies_for(tickets)
    terms = _terms_of_policies({policy.pk: policy for policy in policies if policy}.values())
    for ticket, policy in zip(tickets, policies, strict=True):
        ticket.sla_policy = policy
        ticket.sla_started_at = ticket.created_at
        sla_refresh(ticket, terms=terms[policy.pk] if policy is not None else None, restart=METRICS)


def sla_terms_changed(ticket: Ticket) -> None:
    """Priority or customer changed: the policy may differ, and the deadlines do."""
    ticket.sla_policy = policy_for(ticket)
    sla_refresh(ticket, terms=_terms_for(ticket))
    _save(ticket)


def sla_status_changed(ticket: Ticket, *, old: str, now: datetime) -> None:
    """Pause while waiting on the customer, resume with the time given back, restart on reopen."""
    new = ticket.status
    restart: list[str] = []
    if _follows_incident(ticket):
        pass  # its paused flag is the incident's: no pause of its own to start or end
    elif new == PAUSED and ticket.sla_paused_at is None:
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
        ticket.sla_override_due_at = ticket.sla_override_at = None
        ticket.sla_override_reason = ""
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


def sla_deadline_overridden(ticket: Ticket, *, now: datetime) -> None:
    """A supervisor's deadline (or its removal): it may warn and breach again."""
    sla_refresh(ticket, terms=_terms_for(ticket), now=now, restart=METRICS)
    _save(ticket)


def sla_incident_joined(ticket: Ticket) -> None:
    """Grouped under an incident: the ticket shows the incident's deadlines, paused or not,
    from now on; a pause of its own ends here."""
    ticket.parent = Ticket.objects.get(pk=ticket.parent_id)  # its deadlines as saved
    if ticket.sla_paused_at is not None and _follows_incident(ticket):
        now = timezone.now()
        own_pause = [ticket.sla_paused_at.isoformat(), now.isoformat()]
        ticket.sla_pauses = [*ticket.sla_pauses, own_pause]
        ticket.sla_paused_at = None
    sla_refresh(ticket, terms=_terms_for(ticket))
    _save(ticket)


def sla_incident_left(ticket: Ticket) -> None:
    """Out of its incident: the ticket's own clocks run again, warning and breach included,
    paused from now if it waits on its customer itself."""
    ticket.sla_paused_at = timezone.now() if ticket.status == PAUSED else None
    sla_refresh(ticket, terms=_terms_for(ticket), restart=METRICS)
    _save(ticket)


def sla_agent_replied(ticket: Ticket) -> None:
    """A public agent reply stops the first-response and next-response clocks."""
    ticket.next_response_started_at = None
    sla_refresh(ticket, terms=_terms_for(ticket))
    _save(ticket)
