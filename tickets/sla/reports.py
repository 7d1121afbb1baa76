"""SLA reporting: where open tickets stand now, and how fast tickets were answered and solved."""

import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Avg, Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

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
METRIC_GROUPS = ("agent", "queue", "priority", "day")


def _tickets(organization: Organization, member: Membership | None) -> QuerySet[Ticket]:
    """The tickets a report counts: all of them, or a grouped agent's own (tickets.visibility)."""
    tickets = Ticket.objects.filter(organization=organization)
    scope = ticket_scope(member)
    return tickets if scope is None else tickets.filter(scope)


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
) -> list[dict]:
    """Response and resolution times of tickets created between two dates (inclusive, in the
    organization's time zone), grouped; medians and 90th percentiles in wall-clock minutes.

    With `member`, only the tickets that member sees."""
    if group_by not in METRIC_GROUPS:
        raise TisketError(f"group_by: use one of {', '.join(METRIC_GROUPS)}.")
    if until < since:
        raise TisketError("'to' is before 'from'.")
    if (until - since).days > 366:
        raise TisketError("Ask for at most a year at a time.")
    zone = ZoneInfo(organization.timezone)
    start = datetime.combine(since, datetime.min.time(), zone)
    end = datetime.combine(until + timedelta(days=1), datetime.min.time(), zone)
    key = "day" if group_by == "day" else GROUPS[group_by]
    rows = (
        _tickets(organization, member)
        .filter(created_at__gte=start, created_at__lt=end)
        .annotate(
            day=TruncDate("created_at", tzinfo=zone),
            breached=Exists(SlaBreach.objects.filter(ticket=OuterRef("pk"))),
            first_response=F("first_responded_at") - F("created_at"),
            resolution=F("resolved_at") - F("created_at"),
        )
        .values_list(key, "breached", "first_response", "resolution")
    )
    buckets: dict = {}
    for group, breached, first_response, resolution in rows.iterator(chunk_size=5000):
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


CSAT_GROUPS = {"agent": "ticket__assignee__user__email", "queue": "ticket__queue__name"}
CSAT_GROUP_CHOICES = (*CSAT_GROUPS, "day")


def csat_metrics(
    *, organization: Organization, since: date, until: date, group_by: str
) -> list[dict]:
    """Client ratings given between two dates (inclusive, in the organization's time zone),
    grouped by the ticket's agent or queue, or by day: how many, the average, the share of
    4 and 5 (the CSAT score) and how many were low (1 or 2). One aggregate query."""
    if group_by not in CSAT_GROUP_CHOICES:
        raise TisketError(f"group_by: use one of {', '.join(CSAT_GROUP_CHOICES)}.")
    if until < since:
        raise TisketError("'to' is before 'from'.")
    if (until - since).days > 366:
        raise TisketError("Ask for at most a year at a time.")
    zone = ZoneInfo(organization.timezone)
    start = datetime.combine(since, datetime.min.time(), zone)
    end = datetime.combine(until + timedelta(days=1), datetime.min.time(), zone)
    ratings = Rating.objects.filter(
        ticket__organization=organization, created_at__gte=start, created_at__lt=end
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
