"""The reports page: resolved per agent, breach history, SLA by tier and by client company,
client satisfaction; each chart with its numbers beside it and a CSV export of them.

One set of filters (period, queue, priority, agent) narrows every report; a grouped
agent's reports cover the tickets they see (tickets.visibility).
"""

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from io import StringIO
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from tickets.models import Queue, Ticket
from tickets.sla import reports
from tickets.sla.charts import Series, bar_chart
from tickets.sla.dashboard import _period
from tickets.sla.reports import ReportFilters
from tickets.visibility import restricted
from tisket.lib.params import id_param
from tisket.lib.spreadsheet import spreadsheet_cell
from tisket.models import Role
from tisket.selectors import members_list
from tisket.views import org_view

BREACHES_SHOWN = 50  # the page lists the latest; the CSV has them all


@dataclass(frozen=True)
class _Query:
    since: date
    until: date
    filters: ReportFilters
    errors: list[str]


def _query(request: HttpRequest) -> _Query:
    """The period and filters the request asks for; what cannot be read is named in errors."""
    organization = request.organization
    today = timezone.localdate(timezone=ZoneInfo(organization.timezone))
    errors: list[str] = []
    since, until = _period(request, today, errors)
    raw = {name: request.GET.get(name, "") for name in ("queue", "priority", "agent")}
    queue, agent = id_param(raw["queue"]), id_param(raw["agent"])
    if raw["queue"] and queue is None:
        errors.append("queue: use a queue's id.")
    if raw["agent"] and agent is None:
        errors.append("agent: use a member's id.")
    priority = raw["priority"] if raw["priority"] in Ticket.Priority.values else ""
    if raw["priority"] and not priority:
        errors.append(f"priority: use one of {', '.join(Ticket.Priority.values)}.")
    if until < since or (until - since).days > 366:
        errors.append("Ask for a period of at most a year, 'from' before 'to'.")
        since, until = _period_default(today)
    return _Query(since, until, ReportFilters(queue=queue, priority=priority, agent=agent), errors)


def _period_default(today: date) -> tuple[date, date]:
    return today - timedelta(days=29), today


def _args(request: HttpRequest, query: _Query) -> dict:
    return {
        "organization": request.organization,
        "since": query.since,
        "until": query.until,
        "member": request.membership,
        "filters": query.filters,
    }


# Each report: its CSV header and how a row of it reads.
def _resolved(request: HttpRequest, query: _Query) -> list[dict]:
    return reports.resolved_per_agent(**_args(request, query))


def _tiers(request: HttpRequest, query: _Query) -> list[dict]:
    return reports.sla_metrics(group_by="tier", **_args(request, query))


def _companies(request: HttpRequest, query: _Query) -> list[dict]:
    return reports.sla_metrics(group_by="company", **_args(request, query))


def _csat(request: HttpRequest, query: _Query) -> list[dict]:
    return reports.csat_metrics(group_by="agent", **_args(request, query))


def _breaches(request: HttpRequest, query: _Query):
    return reports.breaches_list(**_args(request, query))


METRIC_COLUMNS = [
    "tickets",
    "first_response_minutes_median",
    "first_response_minutes_p90",
    "resolution_minutes_median",
    "resolution_minutes_p90",
    "breached",
    "breach_rate",
]
CSV_REPORTS: dict[str, tuple[Callable, list[str]]] = {
    "resolved": (
        _resolved,
        ["agent", "name", "resolved", "resolution_minutes_median", "resolution_minutes_p90"],
    ),
    "tiers": (_tiers, ["tier", *METRIC_COLUMNS]),
    "companies": (_companies, ["company", *METRIC_COLUMNS]),
    "csat": (_csat, ["agent", "ratings", "average", "csat", "low"]),
}
BREACH_COLUMNS = [
    "breached_at",
    "ticket",
    "subject",
    "metric",
    "priority",
    "queue",
    "agent",
    "due_at",
]


def _breach_row(breach, zone: ZoneInfo) -> list:
    ticket = breach.ticket
    return [
        timezone.localtime(breach.breached_at, zone).isoformat(timespec="minutes"),
        ticket.reference,
        ticket.subject,
        breach.metric,
        breach.priority,
        ticket.queue.name if ticket.queue else "",
        ticket.assignee.user.email if ticket.assignee else "",
        timezone.localtime(breach.due_at, zone).isoformat(timespec="minutes"),
    ]


def _csv(name: str, query: _Query, header: list[str], rows: Iterable[list]) -> HttpResponse:
    out = StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([spreadsheet_cell(cell) for cell in row])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{name}-{query.since:%Y%m%d}-{query.until:%Y%m%d}.csv"'
    )
    return response


@org_view()
@require_GET
def report_csv(request: HttpRequest, report: str) -> HttpResponse:
    """One report's numbers as CSV, for the same period and filters as the page."""
    query = _query(request)
    if query.errors:
        return HttpResponse(" ".join(query.errors), status=400, content_type="text/plain")
    name = f"{request.organization.slug}-{report}"
    if report == "breaches":
        zone = ZoneInfo(request.organization.timezone)
        breaches = _breaches(request, query).iterator(chunk_size=2000)
        return _csv(name, query, BREACH_COLUMNS, (_breach_row(b, zone) for b in breaches))
    compute, header = CSV_REPORTS[report]
    rows = compute(request, query)
    return _csv(name, query, header, ([row.get(key) for key in header] for row in rows))


def _count_chart(title: str, labels: list[str], series: list[Series], unit: str = "") -> str:
    return bar_chart(title=title, categories=labels, series=series, unit=unit)


def _label(value: str | None) -> str:
    return value or "(none)"


@org_view()
@require_GET
def reports_page(request: HttpRequest) -> HttpResponse:
    """Every report of the period, filtered, with charts, tables and CSV links."""
    organization = request.organization
    query = _query(request)
    resolved = _resolved(request, query)
    breaches = _breaches(request, query)
    per_day = reports.breaches_per_day(
        organization=organization, breaches=breaches, since=query.since, until=query.until
    )
    latest = list(breaches[:BREACHES_SHOWN])
    tiers, companies, csat = (
        _tiers(request, query),
        _companies(request, query),
        _csat(request, query),
    )

    def share(rows: list[dict], key: str) -> list[float | None]:
        return [round(r[key] * 100, 1) if r[key] is not None else None for r in rows]

    charts = {
        "resolved": _count_chart(
            "Tickets resolved per agent",
            [_label(r["name"]) for r in resolved],
            [Series("resolved", [r["resolved"] for r in resolved], "s1")],
            unit="tickets",
        ),
        "breaches": bar_chart(
            title="SLA breaches per day",
            categories=[r["day"] for r in per_day],
            series=[
                Series("first response", [r["first_response"] or None for r in per_day], "s1"),
                Series("next response", [r["next_response"] or None for r in per_day], "s3"),
                Series("resolution", [r["resolution"] or None for r in per_day], "s2"),
            ],
            unit="breaches",
            width=1100,
        ),
        "tiers": _count_chart(
            "Breach rate per SLA tier",
            [_label(r["tier"]) for r in tiers],
            [Series("breach rate", share(tiers, "breach_rate"), "s4")],
            unit="%",
        ),
        "companies": _count_chart(
            "Breach rate per client company",
            [_label(r["company"]) for r in companies],
            [Series("breach rate", share(companies, "breach_rate"), "s4")],
            unit="%",
        ),
        "csat": _count_chart(
            "CSAT score per agent",
            [_label(r["agent"]) for r in csat],
            [Series("CSAT (share of 4 and 5)", share(csat, "csat"), "s2")],
            unit="%",
        ),
    }
    agents = [m for m in members_list(organization=organization) if m.has_role(Role.AGENT)]
    filters = query.filters
    chosen = {
        "days": request.GET.get("days", ""),
        "from": request.GET.get("from", ""),
        "to": request.GET.get("to", ""),
        "queue": filters.queue or "",
        "priority": filters.priority,
        "agent": filters.agent or "",
    }
    context = {
        "nav": "reports",
        "since": query.since,
        "until": query.until,
        "errors": query.errors,
        "filters": filters,
        "csv_query": urlencode({k: v for k, v in chosen.items() if v}),
        "days": chosen["days"] if not chosen["from"] else "",
        "queues": Queue.objects.filter(organization=organization).only("id", "name"),
        "agents": agents,
        "priorities": Ticket.Priority.choices,
        "resolved": resolved,
        "per_day": [r for r in per_day if r["total"]],
        "breach_total": sum(r["total"] for r in per_day),
        "breaches": latest,
        "breaches_shown": BREACHES_SHOWN,
        "tiers": tiers,
        "companies": companies,
        "csat": csat,
        "charts": charts,
        "scoped": restricted(request.membership),
    }
    return render(request, "tickets/sla_reports.html", context)
