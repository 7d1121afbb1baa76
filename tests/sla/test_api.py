"""The SLA API: calendars, policies and customer tiers for admins; summary and metrics for all."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sla import services as sla_services
from sla.models import BusinessCalendar, SlaPolicy
from tests.conftest import api_client
from tests.factories import always_open_policy
from tickets import queues, services
from tickets.models import Ticket
from tickets.sla import sla_sweep
from tickets.tasks import sla_sweep_task

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def admin_api(acme):
    return api_client(acme.admin)


def office(**extra) -> dict:
    hours = [{"weekday": d, "opens": "09:00", "closes": "17:00"} for d in range(5)]
    return {"name": "Office", "timezone": "Europe/Paris", "hours": hours, **extra}


def test_an_admin_creates_a_calendar_with_hours_and_holidays(admin_api):
    response = admin_api.post(
        "/api/v1/sla/calendars/",
        office(holidays=[{"date": "2026-12-25", "name": "Christmas", "yearly": True}]),
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["timezone"] == "Europe/Paris"
    assert body["hours"][0] == {"weekday": 0, "opens": "09:00", "closes": "17:00"}
    assert body["holidays"] == [{"date": "2026-12-25", "name": "Christmas", "yearly": True}]
    calendar = BusinessCalendar.objects.get(pk=body["id"]).as_clock()
    assert calendar.yearly_holidays == frozenset({(12, 25)})


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (office(timezone="Mars/Olympus"), "time zone"),
        (
            office(
                hours=[
                    {"weekday": 0, "opens": "09:00", "closes": "13:00"},
                    {"weekday": 0, "opens": "12:00", "closes": "17:00"},
                ]
            ),
            "overlap",
        ),
        (office(hours=[{"weekday": 1, "opens": "17:00", "closes": "09:00"}]), "09:00"),
        (office(hours=[{"weekday": 7, "opens": "09:00", "closes": "17:00"}]), "weekday"),
    ],
    ids=["bad-timezone", "overlapping", "closes-before-opens", "no-such-weekday"],
)
def test_a_bad_calendar_is_refused_with_a_reason_and_nothing_stored(admin_api, payload, message):
    response = admin_api.post("/api/v1/sla/calendars/", payload, format="json")
    assert response.status_code == 400
    assert message in str(response.json()).lower() or message in str(response.json())
    assert not BusinessCalendar.objects.exists()


def test_a_countrys_public_holidays_are_imported_once(admin_api, acme):
    calendar = sla_services.calendar_create(organization=acme.org, name="Paris")
    url = f"/api/v1/sla/calendars/{calendar.pk}/import-holidays/"
    first = admin_api.post(url, {"country": "FR", "years": [2026]}, format="json")
    assert first.status_code == 200, first.json()
    assert first.json()["added"] == 11  # France has eleven public holidays
    assert calendar.holidays.filter(date=date(2026, 7, 14)).exists()
    again = admin_api.post(url, {"country": "FR", "years": [2026]}, format="json")
    assert again.json()["added"] == 0
    unknown = admin_api.post(url, {"country": "XX", "years": [2026]}, format="json")
    assert unknown.status_code == 400
    assert "XX" in unknown.json()["detail"]


def test_policies_with_targets_and_one_default(admin_api, acme):
    calendar = sla_services.calendar_create(organization=acme.org, name="Office")
    targets = [{"priority": "urgent", "first_response_minutes": 30, "resolution_minutes": 240}]
    first = admin_api.post(
        "/api/v1/sla/policies/",
        {"name": "Standard", "calendar": calendar.pk, "is_default": True, "targets": targets},
        format="json",
    )
    assert first.status_code == 201, first.json()
    assert first.json()["targets"] == [
        {
            "priority": "urgent",
            "first_response_minutes": 30,
            "next_response_minutes": None,
            "resolution_minutes": 240,
        }
    ]
    second = admin_api.post(
        "/api/v1/sla/policies/",
        {"name": "Enterprise", "calendar": calendar.pk, "is_default": True},
        format="json",
    )
    assert second.status_code == 201
    assert list(SlaPolicy.objects.filter(is_default=True).values_list("name", flat=True)) == [
        "Enterprise"
    ]
    twice = admin_api.patch(
        f"/api/v1/sla/policies/{second.json()['id']}/",
        {"targets": [{"priority": "low"}, {"priority": "low"}]},
        format="json",
    )
    assert twice.status_code == 400
    zero = admin_api.post(
        "/api/v1/sla/policies/",
        {
            "name": "Free",
            "calendar": calendar.pk,
            "targets": [{"priority": "low", "resolution_minutes": 0}],
        },
        format="json",
    )
    assert zero.status_code == 400


def test_a_calendar_in_use_cannot_be_deleted(admin_api, acme):
    calendar = sla_services.calendar_create(organization=acme.org, name="Office")
    sla_services.policy_create(organization=acme.org, name="Standard", calendar=calendar)
    response = admin_api.delete(f"/api/v1/sla/calendars/{calendar.pk}/")
    assert response.status_code == 409
    assert "Standard" in response.json()["detail"]
    assert BusinessCalendar.objects.filter(pk=calendar.pk).exists()


def test_a_policy_change_moves_open_tickets_deadlines(
    admin_api, acme, clock, django_capture_on_commit_callbacks
):
    policy = always_open_policy(acme.org, {"normal": {"first_response_minutes": 60}})
    ticket = services.ticket_create(organization=acme.org, subject="x", actor=None)
    assert Ticket.objects.get(pk=ticket.pk).first_response_due_at == NOW + timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.patch(
            f"/api/v1/sla/policies/{policy.pk}/",
            {"targets": [{"priority": "normal", "first_response_minutes": 15}]},
            format="json",
        )
    assert response.status_code == 200
    # Whatever path changed the policy, the next sweep catches its tickets up.
    assert sla_sweep_task()["recomputed"] == 1
    assert Ticket.objects.get(pk=ticket.pk).first_response_due_at == NOW + timedelta(minutes=15)


def test_customer_tiers_by_domain(admin_api, acme):
    calendar = sla_services.calendar_create(organization=acme.org, name="Office")
    gold = sla_services.policy_create(organization=acme.org, name="Gold", calendar=calendar)
    response = admin_api.post(
        "/api/v1/customers/",
        {"name": "Bigco", "policy": gold.pk, "domains": ["BigCo.example", "@bigco.test"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["domains"] == ["bigco.example", "bigco.test"]
    clash = admin_api.post(
        "/api/v1/customers/", {"name": "Other", "domains": ["bigco.test"]}, format="json"
    )
    assert clash.status_code == 409
    assert "Bigco" in clash.json()["detail"]


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_only_admins_change_sla_settings(acme, role):
    calendar = sla_services.calendar_create(organization=acme.org, name="Office")
    client = api_client(acme.member(role))
    assert client.get("/api/v1/sla/calendars/").status_code == 200
    assert client.post("/api/v1/sla/calendars/", office(), format="json").status_code == 403
    patch = client.patch(f"/api/v1/sla/calendars/{calendar.pk}/", {"name": "x"}, format="json")
    assert patch.status_code == 403
    assert BusinessCalendar.objects.get(pk=calendar.pk).name == "Office"


@pytest.fixture
def workload(acme, clock):
    """Six tickets: on track, at risk, breached (twice), paused, and one already answered."""
    always_open_policy(
        acme.org,
        {
            "normal": {"first_response_minutes": 100},
            "urgent": {"first_response_minutes": 100},
        },
    )
    support = queues.queue_create(organization=acme.org, name="Support", actor=None)

    def opened(minutes_ago: int, **fields) -> Ticket:
        clock.move_to(NOW - timedelta(minutes=minutes_ago))
        return services.ticket_create(organization=acme.org, subject="x", actor=None, **fields)

    opened(10, queue=support, assignee=acme.agent)
    opened(80, queue=support, assignee=acme.agent)
    opened(120, priority="urgent", assignee=acme.agent2)
    opened(200, queue=support)
    paused = opened(30)
    answered = opened(50)
    clock.move_to(NOW - timedelta(minutes=20))
    services.ticket_set_status(ticket=paused, status="waiting_on_customer", actor=None)
    answered.first_responded_at = NOW - timedelta(minutes=20)
    answered.save()
    services.ticket_set_status(ticket=answered, status="resolved", actor=None)
    clock.move_to(NOW)
    sla_sweep()


def test_the_summary_counts_open_tickets_by_state_and_group(acme, workload):
    response = api_client(acme.viewer).get("/api/v1/sla/summary/")
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == {"on_track": 1, "at_risk": 1, "breached": 2, "paused": 1}
    by_priority = {row["priority"]: row for row in body["by_priority"]}
    assert by_priority["urgent"]["breached"] == 1
    assert by_priority["normal"] == {
        "priority": "normal",
        "on_track": 1,
        "at_risk": 1,
        "breached": 1,
        "paused": 1,
    }
    by_queue = {row["queue"]: row for row in body["by_queue"]}
    assert by_queue["Support"]["breached"] == 1 and by_queue["Support"]["at_risk"] == 1
    by_agent = {row["agent"]: row for row in body["by_agent"]}
    assert by_agent[acme.agent.user.email]["on_track"] == 1
    assert by_agent[None]["breached"] == 1


def test_the_ticket_list_filters_by_sla_state(acme, workload):
    client = api_client(acme.agent)
    counts = {
        state: len(client.get(f"/api/v1/tickets/?sla={state}").json()["results"])
        for state in ("on_track", "at_risk", "breached", "paused")
    }
    assert counts == {"on_track": 1, "at_risk": 1, "breached": 2, "paused": 1}
    breached = client.get("/api/v1/tickets/?sla=breached").json()["results"]
    assert {t["sla"]["state"] for t in breached} == {"breached"}
    bad = client.get("/api/v1/tickets/?sla=late")
    assert bad.status_code == 400
    assert "on_track" in bad.json()["detail"]


def test_the_summary_takes_a_constant_number_of_queries(acme, workload):
    client = api_client(acme.viewer)
    client.get("/api/v1/sla/summary/")
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/sla/summary/")
    for _ in range(20):
        services.ticket_create(organization=acme.org, subject="more", actor=None)
    with CaptureQueriesContext(connection) as many:
        client.get("/api/v1/sla/summary/")
    assert len(many) == len(few)


def test_metrics_give_medians_percentiles_and_breach_rate(acme, workload):
    response = api_client(acme.agent).get(
        "/api/v1/sla/metrics/?from=2026-03-01&to=2026-03-04&group_by=priority"
    )
    assert response.status_code == 200, response.json()
    rows = {row["group"]: row for row in response.json()}
    normal = rows["normal"]
    assert normal["tickets"] == 5
    assert normal["first_response_minutes_median"] == 30.0
    assert normal["resolution_minutes_median"] == 30.0
    assert normal["breached"] == 1
    assert normal["breach_rate"] == 0.2
    assert rows["urgent"]["breach_rate"] == 1.0
    by_day = api_client(acme.agent).get("/api/v1/sla/metrics/?from=2026-03-04&to=2026-03-04")
    assert [row["group"] for row in by_day.json()] == ["2026-03-04"]
    assert by_day.json()[0]["tickets"] == 6


@pytest.mark.parametrize(
    "query",
    ["group_by=moon", "from=yesterday", "from=2026-03-05&to=2026-03-01", "from=2020-01-01"],
)
def test_bad_metrics_queries_get_a_400_with_a_reason(acme, query):
    response = api_client(acme.agent).get(f"/api/v1/sla/metrics/?{query}")
    assert response.status_code == 400
    assert response.json()


@pytest.mark.parametrize("minutes", [2**64, 2**40])
def test_a_target_out_of_range_is_a_400(admin_api, acme, minutes):
    calendar = sla_services.calendar_create(organization=acme.org, name="Office")
    admin_api.raise_request_exception = False
    targets = [{"priority": "urgent", "first_response_minutes": minutes}]
    response = admin_api.post(
        "/api/v1/sla/policies/",
        {"name": "Forever", "calendar": calendar.pk, "targets": targets},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "targets" in response.json()
