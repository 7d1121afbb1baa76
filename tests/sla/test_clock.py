"""Business-hours deadline math (sla.clock): table tests, DST, the due_at/business_minutes inverse.

Pure tests: no database. Dates are in 2024 unless said otherwise; 2024-06-03 is a Monday.
Expected deadlines are written in the calendar's local time, or in UTC where DST is the point.
"""

import math
import pickle
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from sla.clock import Calendar, business_minutes, due_at, open_intervals

PARIS = "Europe/Paris"
NEW_YORK = "America/New_York"
EVERY_DAY = range(7)
WEEKDAYS = range(5)


def at(zone: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware local datetime (fold=0 for a repeated wall time)."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def paris(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2024) -> datetime:
    return at(PARIS, year, month, day, hour, minute)


def daily(hours: list[tuple[time, time]], weekdays: range = EVERY_DAY) -> dict:
    """The same intervals on each of the given weekdays."""
    return {weekday: hours for weekday in weekdays}


# Monday to Friday 09:00-17:00 (the default hours), closed on 1 May and 25 December every year
# and on Ascension Thursday 2024.
OFFICE = Calendar(
    PARIS,
    holidays=frozenset({date(2024, 5, 9)}),
    yearly_holidays=frozenset({(5, 1), (12, 25)}),
)
LUNCH = Calendar(PARIS, hours=daily([(time(13), time(17)), (time(9), time(12))], WEEKDAYS))
EVENINGS = Calendar(PARIS, hours=daily([(time(18), time(0))]))
FULL_DAYS = Calendar(PARIS, hours=daily([(time(0), time(0))]))
PARIS_24_7 = Calendar.twenty_four_seven(PARIS)
NEW_YORK_OFFICE = Calendar.office_hours(NEW_YORK)
NEW_YORK_24_7 = Calendar.twenty_four_seven(NEW_YORK)
PARIS_EARLY = Calendar(PARIS, hours=daily([(time(0), time(6))]))
NEW_YORK_EARLY = Calendar(NEW_YORK, hours=daily([(time(0), time(6))]))


def assert_same_instant_in_utc(actual: datetime, expected: datetime) -> None:
    """due_at answers in UTC; the expectation may be written in any zone."""
    assert actual.utcoffset() == timedelta(0)
    assert actual == expected, f"{actual.astimezone(expected.tzinfo)} != {expected}"


# --- due_at ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "start", "minutes", "expected"),
    [
        pytest.param(OFFICE, paris(6, 3, 10), 90, paris(6, 3, 11, 30), id="within-one-day"),
        pytest.param(OFFICE, paris(6, 3, 9), 480, paris(6, 3, 17), id="a-whole-day"),
        pytest.param(OFFICE, paris(6, 3, 16), 120, paris(6, 4, 10), id="across-a-night"),
        pytest.param(OFFICE, paris(6, 7, 12), 480, paris(6, 10, 12), id="across-a-weekend"),
        pytest.param(OFFICE, paris(6, 7, 16, 30), 60, paris(6, 10, 9, 30), id="friday-late"),
        pytest.param(OFFICE, paris(6, 3, 7), 30, paris(6, 3, 9, 30), id="before-opening"),
        pytest.param(OFFICE, paris(6, 3, 18), 30, paris(6, 4, 9, 30), id="after-closing"),
        pytest.param(OFFICE, paris(6, 8, 10), 30, paris(6, 10, 9, 30), id="on-a-saturday"),
        pytest.param(OFFICE, paris(6, 3, 16), 60, paris(6, 3, 17), id="lands-at-closing"),
        pytest.param(OFFICE, paris(6, 3, 10), 10_000, paris(7, 1, 16, 40), id="10000-minutes"),
        pytest.param(OFFICE, paris(5, 1, 10), 60, paris(5, 2, 10), id="on-a-yearly-holiday"),
        pytest.param(OFFICE, paris(4, 30, 16, 30), 60, paris(5, 2, 9, 30), id="over-yearly-hol"),
        pytest.param(
            OFFICE, paris(12, 24, 16, year=2025), 120, paris(12, 26, 10, year=2025), id="xmas-2025"
        ),
        pytest.param(OFFICE, paris(5, 9, 10), 60, paris(5, 10, 10), id="on-a-holiday"),
        pytest.param(OFFICE, paris(5, 8, 16), 120, paris(5, 10, 10), id="over-a-holiday"),
        pytest.param(LUNCH, paris(6, 3, 11, 30), 60, paris(6, 3, 13, 30), id="lunch-skipped"),
        pytest.param(LUNCH, paris(6, 3, 11), 60, paris(6, 3, 12), id="lunch-lands-at-noon"),
        pytest.param(LUNCH, paris(6, 3, 12, 15), 30, paris(6, 3, 13, 30), id="lunch-start-in-it"),
        pytest.param(LUNCH, paris(6, 3, 16), 240, paris(6, 4, 12), id="lunch-next-morning"),
        pytest.param(EVENINGS, paris(6, 3, 22), 120, paris(6, 4, 0), id="midnight-close-lands"),
        pytest.param(EVENINGS, paris(6, 3, 23), 120, paris(6, 4, 19), id="midnight-close-over"),
        pytest.param(EVENINGS, paris(6, 4, 0, 30), 60, paris(6, 4, 19), id="midnight-start-after"),
        pytest.param(PARIS_24_7, paris(6, 8, 23), 120, paris(6, 9, 1), id="24-7-saturday-night"),
        pytest.param(
            PARIS_24_7, paris(6, 3, 10), 10_000, paris(6, 10, 8, 40), id="24-7-10000-minutes"
        ),
        pytest.param(FULL_DAYS, paris(6, 3, 23), 120, paris(6, 4, 1), id="full-day-hours"),
        pytest.param(
            OFFICE, at(NEW_YORK, 2024, 6, 3, 8), 60, paris(6, 3, 15), id="start-in-new-york-time"
        ),
        pytest.param(
            OFFICE,
            datetime(2024, 6, 3, 7, tzinfo=timezone(timedelta(hours=-5))),
            240,
            paris(6, 4, 10),
            id="start-at-fixed-offset",
        ),
        pytest.param(
            NEW_YORK_OFFICE,
            utc(2024, 6, 7, 20, 30),
            60,
            at(NEW_YORK, 2024, 6, 10, 9, 30),
            id="start-in-utc-new-york-calendar",
        ),
        pytest.param(OFFICE, paris(6, 3, 10), 0, paris(6, 3, 10), id="zero-while-open"),
        pytest.param(OFFICE, paris(6, 8, 10), 0, paris(6, 8, 10), id="zero-while-closed"),
        pytest.param(
            OFFICE,
            paris(6, 3, 10),
            0.5,
            paris(6, 3, 10, 0) + timedelta(seconds=30),
            id="half-a-minute",
        ),
    ],
)
def test_due_at(calendar, start, minutes, expected):
    assert_same_instant_in_utc(due_at(start, minutes, calendar), expected)


# --- Daylight saving time -------------------------------------------------------------------------
# Paris springs forward on 2024-03-31 (02:00 CET -> 03:00 CEST, at 01:00 UTC) and falls back on
# 2024-10-27 (03:00 CEST -> 02:00 CET, at 01:00 UTC). New York springs forward on 2024-03-10
# (02:00 EST -> 03:00 EDT, at 07:00 UTC) and falls back on 2024-11-03 (02:00 EDT -> 01:00 EST,
# at 06:00 UTC). All four are Sundays.


@pytest.mark.parametrize(
    ("calendar", "start", "minutes", "expected"),
    [
        # 00:00 CET is 23:00 UTC; three real hours later the wall clock reads 04:00 CEST.
        pytest.param(PARIS_24_7, paris(3, 31), 180, utc(2024, 3, 31, 2), id="paris-24-7-spring"),
        # 00:00 CEST is 22:00 UTC; four real hours later the wall clock reads 03:00 CET.
        pytest.param(PARIS_24_7, paris(10, 27), 240, utc(2024, 10, 27, 2), id="paris-24-7-fall"),
        pytest.param(FULL_DAYS, paris(3, 31), 180, utc(2024, 3, 31, 2), id="paris-full-spring"),
        pytest.param(FULL_DAYS, paris(10, 27), 240, utc(2024, 10, 27, 2), id="paris-full-fall"),
        # 00:00-06:00 local lasts 5 real hours on the spring day and 7 on the fall day.
        pytest.param(PARIS_EARLY, paris(3, 31), 300, utc(2024, 3, 31, 4), id="paris-early-spring"),
        pytest.param(
            PARIS_EARLY, paris(3, 31), 301, paris(4, 1, 0, 1), id="paris-early-spring-next-day"
        ),
        pytest.param(PARIS_EARLY, paris(10, 27), 420, utc(2024, 10, 27, 5), id="paris-early-fall"),
        pytest.param(
            PARIS_EARLY, paris(10, 26, 12), 30, utc(2024, 10, 26, 22, 30), id="paris-early-fall-in"
        ),
        pytest.param(
            NEW_YORK_24_7, at(NEW_YORK, 2024, 3, 10), 180, utc(2024, 3, 10, 8), id="ny-24-7-spring"
        ),
        pytest.param(
            NEW_YORK_24_7, at(NEW_YORK, 2024, 11, 3), 180, utc(2024, 11, 3, 7), id="ny-24-7-fall"
        ),
        pytest.param(
            NEW_YORK_EARLY,
            at(NEW_YORK, 2024, 3, 10),
            300,
            utc(2024, 3, 10, 10),
            id="ny-early-spring",
        ),
        pytest.param(
            NEW_YORK_EARLY, at(NEW_YORK, 2024, 11, 3), 420, utc(2024, 11, 3, 11), id="ny-early-fall"
        ),
        # A Sunday interval opening at 02:30, inside the gap, opens when the clock jumps (01:00
        # UTC, 03:00 CEST) and lasts one real hour until 04:00 CEST.
        pytest.param(
            Calendar(PARIS, hours={6: [(time(2, 30), time(4))]}),
            paris(3, 30, 12),
            60,
            utc(2024, 3, 31, 2),
            id="opens-inside-the-gap",
        ),
        # Santiago springs forward at midnight: 2024-09-08 00:00 does not exist (-04 -> -03 at
        # 04:00 UTC), so a Saturday 20:00-24:00 shift closes when the clock jumps, 4 hours later.
        pytest.param(
            Calendar("America/Santiago", hours={5: [(time(20), time(0))]}),
            at("America/Santiago", 2024, 9, 7, 20),
            240,
            utc(2024, 9, 8, 4),
            id="santiago-midnight-in-the-gap",
        ),
    ],
)
def test_due_at_over_daylight_saving_changes(calendar, start, minutes, expected):
    assert_same_instant_in_utc(due_at(start, minutes, calendar), expected)


@pytest.mark.parametrize(
    ("hours", "day", "expected_minutes"),
    [
        pytest.param([(time(1), time(5))], date(2024, 3, 31), 180, id="01-05-spring-is-3-hours"),
        pytest.param([(time(1), time(5))], date(2024, 10, 27), 300, id="01-05-fall-is-5-hours"),
        pytest.param([(time(0), time(0))], date(2024, 3, 31), 23 * 60, id="spring-day-is-23h"),
        pytest.param([(time(0), time(0))], date(2024, 10, 27), 25 * 60, id="fall-day-is-25h"),
        pytest.param([(time(2), time(2, 30))], date(2024, 3, 31), 0, id="all-inside-the-gap"),
        pytest.param([(time(2, 30), time(4))], date(2024, 3, 31), 60, id="opens-inside-the-gap"),
        pytest.param([(time(1), time(2, 30))], date(2024, 3, 31), 60, id="closes-inside-the-gap"),
        # 02:30 happens twice on the fall day; an interval end means its first occurrence.
        pytest.param([(time(0), time(2, 30))], date(2024, 10, 27), 150, id="closes-in-repeat"),
        pytest.param([(time(2, 30), time(4))], date(2024, 10, 27), 150, id="opens-in-repeat"),
        pytest.param(
            [(time(0), time(2, 30)), (time(2, 30), time(4))],
            date(2024, 10, 27),
            300,
            id="split-in-repeat-no-overlap",
        ),
    ],
)
def test_business_minutes_on_paris_transition_days(hours, day, expected_minutes):
    calendar = Calendar(PARIS, hours={day.weekday(): hours})
    start = paris(day.month, day.day) - timedelta(days=1)
    end = start + timedelta(days=3)
    assert business_minutes(start, end, calendar) == expected_minutes


# --- business_minutes and open_intervals ----------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "start", "end", "expected"),
    [
        pytest.param(OFFICE, paris(6, 3, 10), paris(6, 3, 11, 30), 90, id="within-one-day"),
        pytest.param(OFFICE, paris(6, 7, 16), paris(6, 10, 10), 120, id="over-a-weekend"),
        pytest.param(OFFICE, paris(6, 3), paris(6, 10), 5 * 480, id="a-week"),
        pytest.param(OFFICE, paris(4, 29), paris(5, 6), 4 * 480, id="a-week-with-1-may"),
        pytest.param(OFFICE, paris(6, 8), paris(6, 9, 23), 0, id="a-weekend"),
        pytest.param(OFFICE, paris(6, 3, 11), paris(6, 3, 11), 0, id="empty-span"),
        pytest.param(OFFICE, paris(6, 3, 12), paris(6, 3, 11), 0, id="end-before-start"),
        pytest.param(LUNCH, paris(6, 3), paris(6, 4), 420, id="lunch-day"),
        pytest.param(EVENINGS, paris(6, 3, 23), paris(6, 4, 19), 120, id="over-midnight-close"),
        pytest.param(PARIS_24_7, paris(6, 8), paris(6, 8, 1), 60, id="24-7"),
        pytest.param(Calendar(hours={}), utc(2024, 6, 3), utc(2024, 6, 10), 0, id="no-hours"),
        pytest.param(
            OFFICE, at(NEW_YORK, 2024, 6, 3, 3), at(NEW_YORK, 2024, 6, 3, 4), 60, id="other-tz"
        ),
    ],
)
def test_business_minutes(calendar, start, end, expected):
    assert business_minutes(start, end, calendar) == expected


def test_open_intervals_are_clipped_utc_and_in_order():
    intervals = list(open_intervals(paris(6, 3, 10), paris(6, 4, 10), LUNCH))
    assert intervals == [
        (utc(2024, 6, 3, 8), utc(2024, 6, 3, 10)),
        (utc(2024, 6, 3, 11), utc(2024, 6, 3, 15)),
        (utc(2024, 6, 4, 7), utc(2024, 6, 4, 8)),
    ]
    assert all(end.utcoffset() == timedelta(0) for _, end in intervals)


def test_open_intervals_do_not_merge_back_to_back_days():
    intervals = list(open_intervals(paris(6, 3, 12), paris(6, 5, 12), FULL_DAYS))
    assert intervals == [
        (utc(2024, 6, 3, 10), utc(2024, 6, 3, 22)),
        (utc(2024, 6, 3, 22), utc(2024, 6, 4, 22)),
        (utc(2024, 6, 4, 22), utc(2024, 6, 5, 10)),
    ]


def test_open_intervals_of_a_24_7_calendar_is_the_whole_span():
    start, end = paris(3, 30), paris(4, 2)
    assert list(open_intervals(start, end, PARIS_24_7)) == [(start, end)]


# --- Properties over a grid -----------------------------------------------------------------------

GRID_CALENDARS = [
    pytest.param(OFFICE, id="office"),
    pytest.param(LUNCH, id="lunch"),
    pytest.param(EVENINGS, id="evenings"),
    pytest.param(FULL_DAYS, id="full-days"),
    pytest.param(PARIS_24_7, id="paris-24-7"),
    pytest.param(PARIS_EARLY, id="paris-early"),
    pytest.param(NEW_YORK_OFFICE, id="new-york-office"),
    pytest.param(NEW_YORK_EARLY, id="new-york-early"),
]
# Five days from each anchor, every 7 hours (so starts fall at all times of day): both DST
# changes in both zones, and the 1 May week.
GRID_ANCHORS = [
    utc(2024, 3, 8),
    utc(2024, 3, 29),
    utc(2024, 4, 29),
    utc(2024, 10, 25),
    utc(2024, 11, 1),
]
GRID_STARTS = [
    anchor + timedelta(hours=step) for anchor in GRID_ANCHORS for step in range(0, 120, 7)
]
GRID_MINUTES = [0, 0.5, 1, 59, 60, 61, 90.25, 479, 480, 481, 1440, 2400, 10_000]


@pytest.mark.parametrize("calendar", GRID_CALENDARS)
def test_business_minutes_inverts_due_at(calendar):
    for start in GRID_STARTS:
        for minutes in GRID_MINUTES:
            due = due_at(start, minutes, calendar)
            assert business_minutes(start, due, calendar) == minutes, (start, minutes, due)


@pytest.mark.parametrize("calendar", GRID_CALENDARS)
def test_due_at_never_runs_backwards(calendar):
    for start in GRID_STARTS:
        dues = [due_at(start, minutes, calendar) for minutes in GRID_MINUTES]
        assert dues[0] == start
        assert dues == sorted(dues), start


@pytest.mark.parametrize("calendar", GRID_CALENDARS)
def test_open_intervals_are_disjoint_in_order_and_inside_the_span(calendar):
    for start in GRID_STARTS:
        end = start + timedelta(days=3, hours=5)
        previous_end = start
        for begin, finish in open_intervals(start, end, calendar):
            assert previous_end <= begin < finish <= end, (start, begin, finish)
            previous_end = finish


def test_long_targets_are_fine():
    # 250 business days: 50 weeks, plus one day each for 25 December and 1 May.
    assert due_at(paris(6, 3, 9), 480 * 250, OFFICE) == paris(5, 20, 17, year=2025)
    assert due_at(utc(2024, 1, 1), 1_000_000, PARIS_24_7) == utc(2024, 1, 1) + timedelta(
        minutes=1_000_000
    )


# --- The Calendar value ---------------------------------------------------------------------------


def test_default_hours_are_office_hours_in_utc():
    assert Calendar() == Calendar.office_hours()
    assert Calendar().hours == {weekday: ((time(9), time(17)),) for weekday in WEEKDAYS}


def test_calendars_normalize_so_equal_meaning_compares_equal():
    unsorted = Calendar(PARIS, hours={0: [(time(13), time(17)), (time(9), time(12))], 1: []})
    tidy = Calendar(PARIS, hours={0: ((time(9), time(12)), (time(13), time(17)))})
    assert unsorted == tidy
    assert hash(unsorted) == hash(tidy)
    assert unsorted.hours[0] == ((time(9), time(12)), (time(13), time(17)))


def test_calendar_hours_are_read_only():
    with pytest.raises(TypeError):
        OFFICE.hours[5] = ((time(9), time(12)),)


def test_calendars_pickle():
    assert pickle.loads(pickle.dumps(OFFICE)) == OFFICE  # noqa: S301


def test_office_hours_builder():
    calendar = Calendar.office_hours(
        NEW_YORK, opens=time(8), closes=time(18), weekdays=[5, 6], holidays=[date(2024, 6, 9)]
    )
    assert calendar.hours == {5: ((time(8), time(18)),), 6: ((time(8), time(18)),)}
    assert calendar.holidays == {date(2024, 6, 9)}
    assert due_at(at(NEW_YORK, 2024, 6, 8, 17), 120, calendar) == at(NEW_YORK, 2024, 6, 15, 9)


# --- Errors ---------------------------------------------------------------------------------------

EVERY_DATE_OF_A_LEAP_YEAR = frozenset(
    (day.month, day.day) for day in (date(2024, 1, 1) + timedelta(days=n) for n in range(366))
)


def make(**fields) -> Callable[[], object]:
    return lambda: Calendar(**fields)


@pytest.mark.parametrize(
    ("action", "message"),
    [
        pytest.param(lambda: due_at(paris(6, 3), -1, OFFICE), "minutes", id="negative-minutes"),
        pytest.param(lambda: due_at(paris(6, 3), math.nan, OFFICE), "minutes", id="nan-minutes"),
        pytest.param(
            lambda: due_at(paris(6, 3), math.inf, PARIS_24_7), "minutes", id="infinite-minutes"
        ),
        pytest.param(
            lambda: due_at(datetime(2024, 6, 3), 60, OFFICE), "timezone-aware", id="naive-start"
        ),
        pytest.param(
            lambda: business_minutes(paris(6, 3), datetime(2024, 6, 4), OFFICE),
            "timezone-aware",
            id="naive-end",
        ),
        pytest.param(make(timezone="Mars/Olympus_Mons"), "time zone", id="unknown-timezone"),
        pytest.param(make(timezone=""), "time zone", id="empty-timezone"),
        pytest.param(make(timezone="../etc/passwd"), "time zone", id="path-as-timezone"),
        pytest.param(
            make(hours={0: [(time(9), time(12)), (time(11), time(14))]}),
            "overlap",
            id="overlapping-intervals",
        ),
        pytest.param(
            make(hours={0: [(time(9), time(12)), (time(9), time(10))]}),
            "overlap",
            id="same-opening-twice",
        ),
        pytest.param(
            make(hours={0: [(time(18), time(0)), (time(20), time(22))]}),
            "overlap",
            id="overlaps-a-midnight-close",
        ),
        pytest.param(make(hours={0: [(time(17), time(9))]}), "closes before", id="closes-first"),
        pytest.param(make(hours={0: [(time(9), time(9))]}), "closes before", id="empty-interval"),
        pytest.param(
            make(hours={4: [(time(22), time(2))]}), "closes before", id="crosses-midnight"
        ),
        pytest.param(make(hours={7: [(time(9), time(17))]}), "weekday", id="weekday-7"),
        pytest.param(make(hours={0: [(time(9),)]}), "pair", id="interval-not-a-pair"),
        pytest.param(make(hours={0: [(9, 17)]}), "naive times", id="hours-as-ints"),
        pytest.param(
            make(hours={0: [(time(9, tzinfo=UTC), time(17))]}), "naive times", id="aware-time"
        ),
        pytest.param(make(holidays=[datetime(2024, 5, 1)]), "dates", id="datetime-holiday"),
        pytest.param(make(yearly_holidays=[(2, 30)]), "month, day", id="no-30-february"),
        pytest.param(
            lambda: due_at(paris(6, 3), 60, Calendar(PARIS, hours={})),
            "no opening hours",
            id="no-hours",
        ),
        pytest.param(
            lambda: due_at(paris(6, 3), 0, Calendar(PARIS, hours={})),
            "no opening hours",
            id="no-hours-zero-minutes",
        ),
        pytest.param(
            lambda: due_at(
                paris(6, 3), 60, Calendar(PARIS, yearly_holidays=EVERY_DATE_OF_A_LEAP_YEAR)
            ),
            "never opens",
            id="every-day-a-holiday",
        ),
    ],
)
def test_value_errors(action, message):
    with pytest.raises(ValueError, match=message):
        action()
