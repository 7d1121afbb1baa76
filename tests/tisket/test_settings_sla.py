"""Settings: business calendars, SLA policies and customer tiers; deadlines follow changes."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from interface.settings_pages.sla_forms import (
    duration_format,
    duration_parse,
    holidays_parse,
    intervals_format,
    intervals_parse,
)
from sla import services as sla_services
from sla.models import BusinessCalendar, CustomerOrganization, Holiday, SlaPolicy
from tests.factories import always_open_policy
from tickets import services as ticket_services
from tickets.models import Ticket
from tickets.tasks import sla_sweep_task

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday


def _week(**days) -> dict:
    """The week grid's fields: day_0 (Monday) .. day_6, blank unless given."""
    return {f"day_{d}": days.get(f"day_{d}", "") for d in range(7)}


def _calendar_form(**overrides) -> dict:
    data = {
        "name": "Paris office",
        "timezone": "Europe/Paris",
        "holidays": "",
        **_week(day_0="09:00-12:00, 13:00-17:00", day_4="9-15"),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _targets(**cells) -> dict:
    names = [f"{p}_{m}" for p in ("urgent", "high", "normal", "low") for m in METRICS]
    return {name: cells.get(name, "") for name in names}


METRICS = ("first_response", "next_response", "resolution")


# --- The notations ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("90", 90),
        ("90m", 90),
        ("2h", 120),
        ("1d", 1440),
        ("1h 30m", 90),
        ("1d4h", 1680),
        ("", None),
    ],
)
def test_durations_read_minutes_hours_and_days(text, minutes):
    assert duration_parse(text) == minutes


@pytest.mark.parametrize("text", ["abc", "0", "2 hours", "-5", "1.5h"])
def test_durations_refuse_what_is_not_one(text):
    with pytest.raises(ValidationError):
        duration_parse(text)


def test_durations_are_written_back_in_the_shortest_notation():
    assert [duration_format(m) for m in (30, 120, 1440, 90, 1500, None)] == [
        "30m",
        "2h",
        "1d",
        "1h 30m",
        "1d 1h",
        "",
    ]


def test_intervals_read_a_days_hours_and_refuse_nonsense():
    assert intervals_parse("13:00-17:30, 9-12") == [(time(9), time(12)), (time(13), time(17, 30))]
    assert intervals_parse("00:00-24:00") == [(time(0), time(0))]
    assert intervals_parse("9 \u2013 17") == [(time(9), time(17))]
    assert (
        intervals_format([(time(9), time(12)), (time(18), time(0))]) == "09:00-12:00, 18:00-24:00"
    )
    for bad in ("9-8", "25:00-26:00", "9-12, 11-13", "morning", "18-24, 20-21"):
        with pytest.raises(ValidationError):
            intervals_parse(bad)


def test_holidays_read_one_a_line_with_a_yearly_mark():
    assert holidays_parse("2026-12-25 Christmas (yearly)\n\n2026-05-01  Labour Day") == [
        {"date": date(2026, 12, 25), "name": "Christmas", "yearly": True},
        {"date": date(2026, 5, 1), "name": "Labour Day", "yearly": False},
    ]
    for bad in ("25/12/2026 Christmas", "2026-12-25 A\n2026-12-25 B"):
        with pytest.raises(ValidationError):
            holidays_parse(bad)


# --- Calendars -------------------------------------------------------------------------------


def test_an_admin_creates_a_calendar_from_the_week_grid_and_holidays(acme, web):
    response = web(acme.admin).post(
        "/acme/settings/sla/calendars/new/",
        _calendar_form(holidays="2026-12-25 Christmas (yearly)\n2026-05-08 Victory Day"),
        follow=True,
    )
    assert b"Calendar Paris office created." in response.content
    calendar = BusinessCalendar.objects.get(organization=acme.org)
    assert calendar.timezone == "Europe/Paris" and not calendar.always_open
    assert [(h.weekday, h.opens, h.closes) for h in calendar.hours.all()] == [
        (0, time(9), time(12)),
        (0, time(13), time(17)),
        (4, time(9), time(15)),
    ]
    assert [(h.date, h.name, h.yearly) for h in calendar.holidays.all()] == [
        (date(2026, 5, 8), "Victory Day", False),
        (date(2026, 12, 25), "Christmas", True),
    ]
    page = web(acme.admin).get(f"/acme/settings/sla/calendars/{calendar.pk}/").content.decode()
    assert 'value="09:00-12:00, 13:00-17:00"' in page
    assert "2026-12-25 Christmas (yearly)" in page


def test_a_bad_interval_names_its_day_and_nothing_is_stored(acme, web):
    response = web(acme.admin).post(
        "/acme/settings/sla/calendars/new/", _calendar_form(day_2="17:00-09:00")
    )
    assert response.status_code == 200
    assert b"closes before it opens" in response.content
    assert not BusinessCalendar.objects.exists()


def test_a_calendar_with_no_hours_must_be_24_7(acme, web):
    client = web(acme.admin)
    closed = client.post("/acme/settings/sla/calendars/new/", {"name": "Never", "timezone": "UTC"})
    assert closed.status_code == 200 and b"or make it 24/7" in closed.content
    client.post(
        "/acme/settings/sla/calendars/new/",
        {"name": "Always", "timezone": "UTC", "always_open": "on"},
    )
    assert BusinessCalendar.objects.get().always_open is True


def test_a_duplicate_calendar_name_or_unknown_time_zone_is_refused(acme, web):
    sla_services.calendar_create(organization=acme.org, name="Paris office")
    client = web(acme.admin)
    clash = client.post("/acme/settings/sla/calendars/new/", _calendar_form())
    assert clash.status_code == 200 and b"exists already" in clash.content
    zone = client.post("/acme/settings/sla/calendars/new/", _calendar_form(name="X", timezone="X"))
    assert zone.status_code == 200 and b"is not a known time zone" in zone.content
    assert BusinessCalendar.objects.count() == 1


def test_public_holidays_are_imported_for_a_country_and_year(acme, web):
    calendar = sla_services.calendar_create(organization=acme.org, name="Office")
    client = web(acme.admin)
    url = f"/acme/settings/sla/calendars/{calendar.pk}/import-holidays/"
    response = client.post(url, {"country": "fr", "year": "2026"}, follow=True)
    assert b"public holiday(s) of FR in 2026" in response.content
    assert Holiday.objects.filter(calendar=calendar, date=date(2026, 7, 14)).exists()
    unknown = client.post(url, {"country": "QQ", "year": "2026"})
    assert unknown.status_code == 200 and b"No public holidays are known" in unknown.content


def test_a_calendar_in_use_is_not_deleted_and_an_unused_one_is(acme, web):
    used = sla_services.calendar_create(organization=acme.org, name="Used")
    sla_services.policy_create(organization=acme.org, name="Standard", calendar=used)
    spare = sla_services.calendar_create(organization=acme.org, name="Spare")
    client = web(acme.admin)
    kept = client.post(f"/acme/settings/sla/calendars/{used.pk}/delete/", follow=True)
    assert b"used by the policies Standard" in kept.content
    client.post(f"/acme/settings/sla/calendars/{spare.pk}/delete/")
    assert list(BusinessCalendar.objects.values_list("name", flat=True)) == ["Used"]


# --- Policies --------------------------------------------------------------------------------


def test_an_admin_creates_a_default_policy_with_targets_in_any_notation(acme, web):
    calendar = sla_services.calendar_create(organization=acme.org, name="Office")
    old = sla_services.policy_create(
        organization=acme.org, name="Old", calendar=calendar, is_default=True
    )
    response = web(acme.admin).post(
        "/acme/settings/sla/policies/new/",
        {
            "name": "Standard",
            "calendar": calendar.pk,
            "is_default": "on",
            **_targets(
                urgent_first_response="30m",
                urgent_resolution="4h",
                high_first_response="90",
                normal_resolution="1d",
            ),
        },
        follow=True,
    )
    assert b"Policy Standard created." in response.content
    policy = SlaPolicy.objects.get(name="Standard")
    assert policy.is_default and not SlaPolicy.objects.get(pk=old.pk).is_default
    targets = {
        t.priority: (t.first_response_minutes, t.next_response_minutes, t.resolution_minutes)
        for t in policy.targets.all()
    }
    assert targets == {
        "urgent": (30, None, 240),
        "high": (90, None, None),
        "normal": (None, None, 1440),
    }
    page = web(acme.admin).get(f"/acme/settings/sla/policies/{policy.pk}/").content.decode()
    assert 'value="4h"' in page and 'value="1h 30m"' in page and 'value="1d"' in page


def test_a_bad_target_is_refused_in_its_cell_and_nothing_is_stored(acme, web):
    calendar = sla_services.calendar_create(organization=acme.org, name="Office")
    response = web(acme.admin).post(
        "/acme/settings/sla/policies/new/",
        {"name": "Standard", "calendar": calendar.pk, **_targets(high_resolution="soon")},
    )
    assert response.status_code == 200
    assert b"&#x27;soon&#x27; is not a duration" in response.content
    assert not SlaPolicy.objects.exists()


def test_another_organizations_calendar_cannot_be_chosen(acme, globex, web):
    theirs = sla_services.calendar_create(organization=globex.org, name="Theirs")
    response = web(acme.admin).post(
        "/acme/settings/sla/policies/new/", {"name": "Sneaky", "calendar": theirs.pk, **_targets()}
    )
    assert response.status_code == 200
    assert not SlaPolicy.objects.exists()


def test_a_policy_change_moves_open_tickets_deadlines(
    acme, web, django_capture_on_commit_callbacks
):
    policy = always_open_policy(acme.org, {"normal": {"first_response_minutes": 60}})
    with time_machine.travel(NOW, tick=False):
        ticket = ticket_services.ticket_create(organization=acme.org, subject="x", actor=None)
        assert Ticket.objects.get(pk=ticket.pk).first_response_due_at == NOW + timedelta(hours=1)
        with django_capture_on_commit_callbacks(execute=True):
            web(acme.admin).post(
                f"/acme/settings/sla/policies/{policy.pk}/",
                {
                    "name": "Standard",
                    "calendar": policy.calendar_id,
                    "is_default": "on",
                    **_targets(normal_first_response="15m"),
                },
            )
        sla_sweep_task()  # the next sweep catches the policy's tickets up
    assert Ticket.objects.get(pk=ticket.pk).first_response_due_at == NOW + timedelta(minutes=15)


def test_a_calendar_change_moves_its_policies_tickets(
    acme, web, django_capture_on_commit_callbacks
):
    calendar = sla_services.calendar_create(
        organization=acme.org, name="Office", timezone_name="UTC"
    )
    sla_services.policy_create(
        organization=acme.org,
        name="Standard",
        calendar=calendar,
        is_default=True,
        targets={"normal": {"first_response_minutes": 60}},
    )
    with time_machine.travel(NOW, tick=False):
        ticket = ticket_services.ticket_create(organization=acme.org, subject="x", actor=None)
        assert Ticket.objects.get(pk=ticket.pk).first_response_due_at == NOW + timedelta(hours=1)
        with django_capture_on_commit_callbacks(execute=True):
            web(acme.admin).post(
                f"/acme/settings/sla/calendars/{calendar.pk}/",
                _calendar_form(name="Office", timezone="UTC", day_0="10:00-10:30, 14:00-18:00"),
            )
        sla_sweep_task()  # the next sweep catches the calendar's tickets up
    due = Ticket.objects.get(pk=ticket.pk).first_response_due_at
    assert due == NOW.replace(hour=14, minute=30)


def test_an_admin_deletes_a_policy(acme, web):
    calendar = sla_services.calendar_create(organization=acme.org, name="Office")
    policy = sla_services.policy_create(organization=acme.org, name="Gone", calendar=calendar)
    response = web(acme.admin).post(f"/acme/settings/sla/policies/{policy.pk}/delete/", follow=True)
    assert b"Policy Gone deleted." in response.content
    assert not SlaPolicy.objects.exists()


# --- Customer organizations ---------------------------------------------------------------


def test_an_admin_puts_a_customer_on_a_tier_with_its_domains(acme, web):
    calendar = sla_services.calendar_create(organization=acme.org, name="Office")
    gold = sla_services.policy_create(organization=acme.org, name="Gold", calendar=calendar)
    response = web(acme.admin).post(
        "/acme/settings/sla/customers/new/",
        {"name": "Initech", "policy": gold.pk, "domains": "initech.com\n@Initech.DE"},
        follow=True,
    )
    assert b"Customer Initech created." in response.content
    customer = CustomerOrganization.objects.get()
    assert customer.policy == gold
    assert sorted(d.domain for d in customer.domains.all()) == ["initech.com", "initech.de"]


def test_a_domain_of_another_customer_or_a_bad_one_is_refused(acme, web):
    sla_services.customer_save(
        organization=acme.org, name="Initech", policy=None, domains=["initech.com"]
    )
    client = web(acme.admin)
    taken = client.post(
        "/acme/settings/sla/customers/new/", {"name": "Copycat", "domains": "initech.com"}
    )
    assert taken.status_code == 200 and b"belongs to Initech" in taken.content
    bad = client.post("/acme/settings/sla/customers/new/", {"name": "Bad", "domains": "nodot"})
    assert bad.status_code == 200 and b"is not an email domain" in bad.content
    assert CustomerOrganization.objects.count() == 1


def test_an_admin_edits_and_deletes_a_customer(acme, web):
    customer = sla_services.customer_save(organization=acme.org, name="Initech", policy=None)
    client = web(acme.admin)
    client.post(
        f"/acme/settings/sla/customers/{customer.pk}/", {"name": "Initrode", "domains": "ir.com"}
    )
    customer.refresh_from_db()
    assert customer.name == "Initrode"
    assert [d.domain for d in customer.domains.all()] == ["ir.com"]
    client.post(f"/acme/settings/sla/customers/{customer.pk}/delete/")
    assert not CustomerOrganization.objects.exists()


def test_another_organizations_sla_objects_are_404(acme, globex, web):
    calendar = sla_services.calendar_create(organization=globex.org, name="Theirs")
    policy = sla_services.policy_create(organization=globex.org, name="Theirs", calendar=calendar)
    customer = sla_services.customer_save(organization=globex.org, name="Theirs", policy=policy)
    client = web(acme.admin)
    for url in (
        f"/acme/settings/sla/calendars/{calendar.pk}/",
        f"/acme/settings/sla/policies/{policy.pk}/",
        f"/acme/settings/sla/customers/{customer.pk}/",
    ):
        assert client.get(url).status_code == 404
        assert client.post(url, {"name": "Mine"}).status_code == 404
        assert client.post(url + "delete/").status_code == 404
    assert (
        client.post(
            f"/acme/settings/sla/calendars/{calendar.pk}/import-holidays/",
            {"country": "FR", "year": 2026},
        ).status_code
        == 404
    )
    assert not calendar.holidays.exists()
    assert BusinessCalendar.objects.get(pk=calendar.pk).name == "Theirs"


@pytest.mark.parametrize("target", ["367d", "99999999999999999999"])
def test_a_target_beyond_a_year_is_a_form_error_not_a_500(acme, web, target):
    calendar = sla_services.calendar_create(organization=acme.org, name="Office")
    response = web(acme.admin).post(
        "/acme/settings/sla/policies/new/",
        {"name": "Standard", "calendar": calendar.pk, **_targets(urgent_first_response=target)},
    )
    assert response.status_code == 200
    assert b"longer than a year" in response.content
    assert not SlaPolicy.objects.filter(name="Standard").exists()
