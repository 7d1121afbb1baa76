"""The reports page and its CSV exports: resolved per agent, breach history with filters,
SLA by tier and by client company, client satisfaction."""

import csv
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.tickets.report_seed import NOW, seed_reports
from tickets import services
from tickets.models import SlaBreach
from tickets.sla import sla_sweep
from tisket.models import Organization

PERIOD = "from=2026-03-01&to=2026-03-04"


@pytest.fixture
def workload(acme):
    return seed_reports(acme)


def _csv(client, name: str, query: str = PERIOD) -> list[dict]:
    with time_machine.travel(NOW, tick=False):
        response = client.get(f"/acme/reports/{name}.csv?{query}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return list(csv.DictReader(StringIO(response.content.decode())))


def test_the_page_shows_every_report_with_a_chart_a_table_and_a_csv(workload, web):
    with time_machine.travel(NOW, tick=False):
        page = web(workload.supervisor).get(f"/acme/reports/?{PERIOD}").content.decode()
    for report in ("resolved", "breaches", "tiers", "companies", "csat"):
        section = page.split(f'id="report-{report}"')[1].split("</section>")[0]
        assert '<svg class="chart"' in section, report
        assert "<table" in section, report
        assert f"/acme/reports/{report}.csv?" in section, report
    assert "Initech" in page and "Gold" in page and "Standard" in page


def test_resolved_per_agent_counts_each_agents_resolved_tickets(workload, web):
    rows = _csv(web(workload.supervisor), "resolved")
    assert [(r["agent"], r["resolved"]) for r in rows] == [(workload.agent.user.email, "2")]
    assert rows[0]["resolution_minutes_median"] == "90.0"


def test_breach_history_lists_every_breach_and_takes_the_filters(workload, web):
    client = web(workload.supervisor)
    rows = _csv(client, "breaches")
    assert len(rows) == 3 == SlaBreach.objects.count()
    assert {r["metric"] for r in rows} == {"first_response"}
    assert {r["queue"] for r in rows} == {"Billing"}
    assert "'=HYPERLINK(evil) 0" in {r["subject"] for r in rows}  # a spreadsheet shows text
    assert len(_csv(client, "breaches", f"{PERIOD}&priority=high")) == 1
    technical = workload.org.queues.get(name="Technical")
    assert _csv(client, "breaches", f"{PERIOD}&queue={technical.pk}") == []
    assert len(_csv(client, "breaches", f"{PERIOD}&agent={workload.agent2.pk}")) == 3
    assert _csv(client, "breaches", "from=2026-02-01&to=2026-02-10") == []


def test_sla_by_tier_and_by_client_company(workload, web):
    client = web(workload.supervisor)
    tiers = {r["tier"]: r for r in _csv(client, "tiers")}
    assert tiers["Standard"]["tickets"] == "3" and tiers["Standard"]["breach_rate"] == "1.0"
    assert tiers["Gold"]["tickets"] == "2" and tiers["Gold"]["breached"] == "0"
    companies = {r["company"]: r for r in _csv(client, "companies")}
    assert companies["Initech"]["tickets"] == "3" and companies["Initech"]["breached"] == "3"
    assert companies["Hooli"]["tickets"] == "2"


def test_csat_per_agent(workload, web):
    rows = _csv(web(workload.supervisor), "csat")
    assert rows == [
        {"agent": workload.agent.user.email, "ratings": "2", "average": "3.5", "csat": "0.5",
         "low": "1"}
    ]  # fmt: skip


def test_a_grouped_agents_reports_cover_the_tickets_they_see(workload, web):
    Organization.objects.filter(pk=workload.org.pk).update(restrict_agents_to_queues=True)
    client = web(workload.agent)
    assert _csv(client, "breaches") == []
    assert [r["agent"] for r in _csv(client, "csat")] == [workload.agent.user.email]
    assert {r["tier"] for r in _csv(client, "tiers")} == {"Gold"}
    everyone = web(workload.agent2)
    assert len(_csv(everyone, "breaches")) == 3 and _csv(everyone, "csat") == []


def test_bad_filters_are_named_on_the_page_and_refused_as_csv(acme, web):
    client = web(acme.agent)
    page = client.get("/acme/reports/?priority=asap&queue=x").content.decode()
    assert "priority: use one of" in page and "queue: use a queue" in page
    response = client.get("/acme/reports/breaches.csv?from=2020-01-01&to=2026-01-01")
    assert response.status_code == 400 and b"at most a year" in response.content


def test_the_page_takes_the_same_queries_for_few_or_many(workload, web):
    client = web(workload.supervisor)
    with time_machine.travel(NOW, tick=False):
        client.get(f"/acme/reports/?{PERIOD}")
        with CaptureQueriesContext(connection) as few:
            client.get(f"/acme/reports/?{PERIOD}")
    for n in range(6):
        with time_machine.travel(NOW - timedelta(hours=10 + n), tick=False):
            services.ticket_create(
                organization=workload.org,
                subject=f"more {n}",
                actor=None,
                assignee=workload.supervisor,
                customer_email=f"x{n}@initech.test",
            )
    with time_machine.travel(NOW, tick=False):
        sla_sweep()
        with CaptureQueriesContext(connection) as many:
            client.get(f"/acme/reports/?{PERIOD}")
    assert SlaBreach.objects.count() > 3
    assert len(many) == len(few)
