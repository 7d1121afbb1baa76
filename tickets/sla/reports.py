"""SLA reporting: where open tickets stand now, and how fast tickets were answered and solved."""

import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Avg, Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from sla.models import CustomerDomain, CustomerOrganization
from tickets.models import OPEN_STATUSES, Rating, SlaBreach, Ticket
from tickets.sla.state import sla_state_q
from tickets.visibility import ticket_scope
from tisket.errors import TisketError
from tisket.models import Membership, Organization

STATES = ("on_track", "at_risk", "breached", "paused")
GROUPS = {
    "priority": "priority",
    "queue": "queue__name",
    "agent": "assignee__user__email",
}
METRIC_GROUPS = ("agent", "queue", "priority", "day", "tier", "company")
TIER = "sla_policy__name"


def _bounds(organization: Organization, since: date, until: date) -> tuple[datetime, datetime]:
    """The instants a period of days (inclusive, in the organization's time zone) spans."""
    if until < since:
        raise TisketError("'to' is before 'from'.")
    if (until - since).days > 366:
        raise TisketError("Ask for at most a year at a time.")
    zone = ZoneInfo(organization.timezone)
    start = datetime.combine(since, datetime.min.time(), zone)
    return start, datetime.combine(until + timedelta(days=1), datetime.min.time(), zone)


def _tickets(organization: Organization, member: Membership | None) -> QuerySet[Ticket]:
    """The tickets a report counts: all of them, or a grouped agent's own (tickets.visibility)."""
    tickets = Ticket.objects.filter(organization=organization)
    scope = ticket_scope(member)
    return tickets if scope is None else tickets.filter(scope)


@dataclass(frozen=True)
class ReportFilters:
    """What the reports page narrows every report to, besides the period: ids or values."""

    queue: int | None = None
    priority: str = ""
    agent: int | None = None

    def condition(self, prefix: str = "") -> Q:
        condition = Q()
        if self.queue is not None:
            condition &= Q(**{f"{prefix}queue_id": self.queue})
        if self.priority:
            condition &= Q(**{f"{prefix}priority": self.priority})
        if self.agent is not None:
            condition &= Q(**{f"{prefix}assignee_id": self.agent})
        return condition


def _filtered(
    organization: Organization, member: Membership | None, filters: ReportFilters | None
) -> QuerySet[Ticket]:
    tickets = _tickets(organization, member)
    return tickets if filters is None else tickets.filter(filters.condition())


def sla_summary(
    *, organization: Organization, member: Membership | None = None, now: datetime | None = None
) -> dict:
    """On track / at risk / breached / paused counts of open tickets, overall and by group.

    With `member`, only the tickets that member sees. One aggregate query per grouping,
    each state a filtered count.
    """
    now = now or timezone.now()
    tickets = _tickets(organization, member).filter(status__in=OPEN_STATUSES)
    counts = {state: Count("id", filter=sla_state_q(state, now)) for state in STATES}
    summary = {"total": tickets.aggregate(**counts), "at": now}
    for group, field in GROUPS.items():
        rows = tickets.values(field).annotate(**counts).order_by(field)
        summary[f"by_{group}"] = [
            {group: row[field], **{state: row[state] for state in STATES}}
            for row in rows
            if any(row[state] for state in STATES)
        ]
    return summary


def _percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile (0 < share <= 1) of sorted values."""
    if not values:
        return None
    rank = max(1, round(share * len(values) + 0.4999))
    return values[min(rank, len(values)) - 1]


def _minutes(delta: timedelta) -> float:
    return round(delta.total_seconds() / 60, 1)


@dataclass
class _Bucket:
    tickets: int = 0
    breached: int = 0
    first_response: list[float] = None  # type: ignore[assignment]
    resolution: list[float] = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        self.first_response = []
        self.resolution = []

    def figures(self) -> dict:
        first, resolution = sorted(self.first_response), sorted(self.resolution)
        return {
            "tickets": self.tickets,
            "first_response_minutes_median": statistics.median(first) if first else None,
            "first_response_minutes_p90": _percentile(first, 0.9),
            "resolution_minutes_median": statistics.median(resolution) if resolution else None,
            "resolution_minutes_p90": _percentile(resolution, 0.9),
            "breached": self.breached,
            "breach_rate": round(self.breached / self.tickets, 4) if self.tickets else None,
        }


def sla_metrics(
    *,
    organization: Organization,
    since: date,
    until: date,
    group_by: str,
    member: Membership | None = None,
    filters: "ReportFilters | None" = None,
) -> list[dict]:
    """Response and resolution times of tickets created between two dates (inclusive, in the
    organization's time zone), grouped; medians and 90th percentiles in wall-clock minutes.

    With `member`, only the tickets that member sees."""
    if group_by not in METRIC_GROUPS:
        raise TisketError(f"group_by: use one of {', '.join(METRIC_GROUPS)}.")
    start, end = _bounds(organization, since, until)
    zone = ZoneInfo(organization.timezone)
    if group_by == "company":
        return _by_company(organization, start, end, _filtered(organization, member, filters))
    key = {"day": "day", "tier": TIER}.get(group_by) or GROUPS[group_by]
    rows = (
        _filtered(organization, member, filters)
        .filter(created_at__gte=start, created_at__lt=end)
        .annotate(
            day=TruncDate("created_at", tzinfo=zone),
            breached=Exists(SlaBreach.objects.filter(ticket=OuterRef("pk"))),
            first_response=F("first_responded_at") - F("created_at"),
            resolution=F("resolved_at") - F("created_at"),
        )
        .values_list(key, "breached", "first_response", "resolution")
    )
    return _figures(group_by, rows.iterator(chunk_size=5000))


def _figures(group_by: str, rows) -> list[dict]:
    """Buckets of (group, breached, first response, resolution) rows, as report rows."""
    buckets: dict = {}
    for group, breached, first_response, resolution in rows:
        bucket = buckets.setdefault(group, _Bucket())
        bucket.tickets += 1
        bucket.breached += bool(breached)
        if first_response is not None:
            bucket.first_response.append(_minutes(first_response))
        if resolution is not None:
            bucket.resolution.append(_minutes(resolution))
    ordered = sorted(buckets.items(), key=lambda item: (item[0] is None, str(item[0])))
    return [
        {group_by: str(group) if group is not None else None, **bucket.figures()}
        for group, bucket in ordered
    ]


def _by_company(
    organization: Organization, start: datetime, end: datetime, tickets: QuerySet[Ticket]
) -> list[dict]:
    """The metrics by client company, found as the SLA policy finds it: the name the ticket
    gives, else the domain of the client's address (tickets.sla.clocks.policy_for)."""
    names = {
        name.lower(): name
        for name in CustomerOrganization.objects.filter(organization=organization).values_list(
            "name", flat=True
        )
    }
    domains = dict(
        CustomerDomain.objects.filter(organization=organization).values_list(
            "domain", "customer__name"
        )
    )

    def company(named: str, email: str) -> str | None:
        found = names.get(named.strip().lower()) if named else None
        return found or domains.get(email.rpartition("@")[2].lower())

    rows = (
        tickets.filter(created_at__gte=start, created_at__lt=end)
        .annotate(
            breached=Exists(SlaBreach.objects.filter(ticket=OuterRef("pk"))),
            first_response=F("first_responded_at") - F("created_at"),
            resolution=F("resolved_at") - F("created_at"),
        )
        .values_list(
            "customer_organization", "customer_email", "breached", "first_response", "resolution"
        )
    )
    return _figures(
        "company",
        (
            (company(named, email), breached, first, resolution)
            for named, email, breached, first, resolution in rows.iterator(chunk_size=5000)
        ),
    )


CSAT_GROUPS = {"agent": "ticket__assignee__user__email", "queue": "ticket__queue__name"}
CSAT_GROUP_CHOICES = (*CSAT_GROUPS, "day")


def csat_metrics(
    *,
    organization: Organization,
    since: date,
    until: date,
    group_by: str,
    member: Membership | None = None,
    filters: "ReportFilters | None" = None,
) -> list[dict]:
    """Client ratings given between two dates (inclusive, in the organization's time zone),
    grouped by the ticket's agent or queue, or by day: how many, the average, the share of
    4 and 5 (the CSAT score) and how many were low (1 or 2). One aggregate query.

    With `member`, only the ratings of tickets that member sees."""
    if group_by not in CSAT_GROUP_CHOICES:
        raise TisketError(f"group_by: use one of {', '.join(CSAT_GROUP_CHOICES)}.")
    start, end = _bounds(organization, since, until)
    zone = ZoneInfo(organization.timezone)
    ratings = Rating.objects.filter(
        ticket__in=_filtered(organization, member, filters),
        created_at__gte=start,
        created_at__lt=end,
    )
    if group_by == "day":
        ratings = ratings.annotate(day=TruncDate("created_at", tzinfo=zone))
    key = "day" if group_by == "day" else CSAT_GROUPS[group_by]
    rows = (
        ratings.values(key)
        .annotate(
            ratings=Count("id"),
            average=Avg("score"),
            satisfied=Count("id", filter=Q(score__gte=4)),
            low=Count("id", filter=Q(score__lte=2)),
        )
        .order_by(key)
    )
    return [
        {
            group_by: str(row[key]) if row[key] is not None else None,
            "ratings": row["ratings"],
            "average": round(row["average"], 2),
            "csat": round(row["satisfied"] / row["ratings"], 4),
            "low": row["low"],
        }
        for row in rows
    ]


def resolved_per_agent(
    *,
    organization: Organization,
    since: date,
    until: date,
    member: Membership | None = None,
    filters: ReportFilters | None = None,
) -> list[dict]:
    """Tickets resolved in a period (by when they were last resolved) per assignee, with the
    median and 90th percentile time from creation to resolution, in wall-clock minutes."""
    start, end = _bounds(organization, since, until)
    rows = (
        _filtered(organization, member, filters)
        .filter(resolved_at__gte=start, resolved_at__lt=end)
        .annotate(resolution=F("resolved_at") - F("created_at"))
        .values_list("assignee__user__email", "assignee__user__full_name", "resolution")
    )
    buckets: dict[str | None, tuple[str, list[float]]] = {}
    for email, name, resolution in rows.iterator(chunk_size=5000):
        buckets.setdefault(email, (name or email or "", []))[1].append(_minutes(resolution))
    out = []
    for email, (name, minutes) in sorted(
        buckets.items(), key=lambda item: (item[0] is None, -len(item[1][1]), str(item[0]))
    ):
        minutes.sort()
        out.append(
            {
                "agent": email,
                "name": name or None,
                "resolved": len(minutes),
                "resolution_minutes_median": statistics.median(minutes),
                "resolution_minutes_p90": _percentile(minutes, 0.9),
            }
        )
    return out


def breaches_list(
    *,
    organization: Organization,
    since: date,
    until: date,
    member: Membership | None = None,
    filters: ReportFilters | None = None,
) -> QuerySet[SlaBreach]:
    """The SLA breaches recorded in a period, newest first, of the tickets the member sees,
    narrowed by the ticket's queue, priority at the breach, and assignee."""
    start, end = _bounds(organization, since, until)
    breaches = SlaBreach.objects.filter(
        organization=organization,
        breached_at__gte=start,
        breached_at__lt=end,
        ticket__in=_tickets(organization, member),
    )
    if filters is not None:
        breaches = breaches.filter(
            ReportFilters(queue=filters.queue, agent=filters.agent).condition("ticket__")
        )
        if filters.priority:
            breaches = breaches.filter(priority=filters.priority)
    return breaches.select_related("ticket__queue", "ticket__assignee__user").order_by(
        "-breached_at", "-id"
    )


def breaches_per_day(
    *, organization: Organization, breaches: QuerySet[SlaBreach], since: date, until: date
) -> list[dict]:
    """Per day of the period (every day, in the organization's time zone), how many breaches
    of each clock. One aggregate query."""
    zone = ZoneInfo(organization.timezone)
    rows = (
        breaches.order_by()
        .annotate(day=TruncDate("breached_at", tzinfo=zone))
        .values("day")
        .annotate(
            **{
                metric: Count("id", filter=Q(metric=metric))
                for metric in ("first_response", "next_response", "resolution")
            },
            total=Count("id"),
        )
    )
    by_day = {row["day"]: row for row in rows}
    days = [since + timedelta(days=n) for n in range((until - since).days + 1)]
    empty = {"first_response": 0, "next_response": 0, "resolution": 0, "total": 0}
    return [{**empty, **by_day.get(day, {}), "day": day.isoformat()} for day in days]
