"""The SLA dashboard: where open tickets stand, and how fast the team answers and solves."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from tickets.sla import reports
from tickets.sla.charts import Series, bar_chart
from tickets.visibility import restricted
from tisket.errors import TisketError
from tisket.views import org_view

PERIODS = {"7": 7, "30": 30, "90": 90}


def _period(request: HttpRequest, today: date, errors: list[str]) -> tuple[date, date]:
    """The chosen period: last 7/30/90 days, or an explicit from/to (30 days by default)."""
    raw_from, raw_to = request.GET.get("from", ""), request.GET.get("to", "")
    if raw_from or raw_to:
        try:
            since = date.fromisoformat(raw_from) if raw_from else today - timedelta(days=29)
            until = date.fromisoformat(raw_to) if raw_to else today
        except ValueError:
            errors.append("Dates are written YYYY-MM-DD; showing the last 30 days.")
        else:
            return since, until
    days = PERIODS.get(request.GET.get("days", "30"), 30)
    return today - timedelta(days=days - 1), today


def _every_day(rows: list[dict], since: date, until: date) -> list[dict]:
    """The per-day rows with the days that had no ticket, so the axis is the whole period."""
    by_day = {row["day"]: row for row in rows}
    days = [since + timedelta(days=n) for n in range((until - since).days + 1)]
    empty = {
        "tickets": 0,
        "first_response_minutes_median": None,
        "resolution_minutes_median": None,
    }
    return [by_day.get(d.isoformat(), {"day": d.isoformat(), **empty}) for d in days]


def _chart(title: str, rows: list[dict], key: str, width: int = 720) -> str:
    categories = [row[key] or "(none)" for row in rows]
    return bar_chart(
        title=title,
        width=width,
        categories=categories,
        series=[
            Series(
                "first response, median", [r["first_response_minutes_median"] for r in rows], "s1"
            ),
            Series("resolution, median", [r["resolution_minutes_median"] for r in rows], "s2"),
        ],
    )


@org_view()
def sla_dashboard(request: HttpRequest) -> HttpResponse:
    organization = request.organization
    today = timezone.localdate(timezone=ZoneInfo(organization.timezone))
    errors: list[str] = []
    since, until = _period(request, today, errors)
    member = request.membership  # a grouped agent's figures cover the tickets they see
    summary = reports.sla_summary(organization=organization, member=member)
    groups = {}
    try:
        for group in ("day", "agent", "queue"):
            groups[group] = reports.sla_metrics(
                organization=organization, since=since, until=until, group_by=group, member=member
            )
    except TisketError as error:
        errors.append(str(error))
        since, until = today - timedelta(days=29), today
        groups = {
            group: reports.sla_metrics(
                organization=organization, since=since, until=until, group_by=group, member=member
            )
            for group in ("day", "agent", "queue")
        }
    charts = {
        "day": _chart(
            "Response and resolution times per day",
            _every_day(groups["day"], since, until),
            "day",
            width=1100,
        ),
        "agent": _chart("Response and resolution times per agent", groups["agent"], "agent"),
        "queue": _chart("Response and resolution times per queue", groups["queue"], "queue"),
    }
    csat = {
        group: reports.csat_metrics(
            organization=organization, since=since, until=until, group_by=group, member=member
        )
        for group in ("agent", "queue", "day")
    }
    context = {
        "nav": "sla",
        "csat": csat,
        "summary": summary,
        "groups": groups,
        "charts": charts,
        "since": since,
        "until": until,
        "days": request.GET.get("days", "30") if not request.GET.get("from") else "",
        "errors": errors,
        "scoped": restricted(member),
    }
    return render(request, "tickets/sla_dashboard.html", context)
