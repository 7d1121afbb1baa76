"""Business-hours deadline math for the SLA engine: pure functions, no Django, no database.

The model of business time
--------------------------
A `Calendar` says when a team is open: for each weekday, a few intervals of local wall time
in the calendar's IANA time zone, minus holidays (whole local dates, one-off or every year).
A calendar may instead be `always_open` (24/7), which ignores hours and holidays.

Business time is *real elapsed time* while the calendar is open. Each local interval is turned
into a pair of UTC instants, and durations are measured between instants, never between wall
clock readings. So on a spring-forward day an interval 01:00-05:00 lasts three real hours and
on a fall-back day it lasts five, exactly as long as the agents on shift actually work.

Turning a wall time into an instant:

- a wall time that exists once maps to that instant;
- a wall time that exists twice (the repeated hour when clocks fall back) maps to its first
  occurrence, Python's `fold=0`, so that adjacent intervals sharing an endpoint never overlap;
- a wall time that does not exist (the skipped hour when clocks spring forward) maps to the
  instant the clock jumps, so 02:30 on the gap day in Europe/Paris behaves as 03:00 local;
- `closes == time(0)` means midnight at the *end* of the day, i.e. 00:00 of the next date.

That mapping never runs backwards, and intervals are clamped so that each starts no earlier than
the previous one ended: a day's intervals are disjoint and in order. Intervals are not merged:
a team open 00:00-24:00 every day gives one interval per day, back to back.

The work is done day by day in local dates, with a few zoneinfo conversions per opening
interval, so a deadline weeks away costs microseconds, not a loop over minutes. Durations are
`timedelta`s (microsecond precision) until the very end, so `business_minutes` exactly inverts
`due_at` for any target expressible in microseconds.
"""

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Interval = tuple[datetime, datetime]
WallInterval = tuple[time, time]

MIDNIGHT = time(0)
ONE_DAY = timedelta(days=1)
ONE_MINUTE = timedelta(minutes=1)
ONE_MICROSECOND = timedelta(microseconds=1)
# due_at gives up when the calendar stays closed this long: about two years of local days.
MAX_CLOSED_DAYS = 2 * 366
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _office_week() -> dict[int, tuple[WallInterval, ...]]:
    """The default hours: Monday to Friday, 09:00-17:00."""
    return {weekday: ((time(9), time(17)),) for weekday in range(5)}


@dataclass(frozen=True)
class Calendar:
    """When a team is open: weekly hours in a time zone, minus holidays; or always open.

    `hours` maps a weekday (0=Monday .. 6=Sunday) to intervals of local wall time. Instances
    are validated and normalized on creation (intervals sorted, empty days dropped, `hours`
    made read-only), so two calendars with the same meaning compare equal.
    """

    timezone: str = "UTC"
    hours: Mapping[int, Sequence[WallInterval]] = field(default_factory=_office_week, hash=False)
    holidays: frozenset[date] = frozenset()
    yearly_holidays: frozenset[tuple[int, int]] = frozenset()
    always_open: bool = False

    def __post_init__(self) -> None:
        _zone_named(self.timezone)
        object.__setattr__(self, "hours", _normalized_hours(self.hours))
        object.__setattr__(self, "holidays", _normalized_holidays(self.holidays))
        object.__setattr__(self, "yearly_holidays", _normalized_yearly(self.yearly_holidays))

    def __reduce__(self) -> tuple:
        """Pickle and deepcopy through the constructor: the read-only `hours` view cannot be."""
        arguments = (
            self.timezone,
            dict(self.hours),
            self.holidays,
            self.yearly_holidays,
            self.always_open,
        )
        return (type(self), arguments)

    @classmethod
    def twenty_four_seven(cls, timezone: str = "UTC") -> "Calendar":
        """A calendar that never closes; its hours say so too, for whoever displays them."""
        full_day = ((MIDNIGHT, MIDNIGHT),)
        hours = {weekday: full_day for weekday in range(7)}
        return cls(timezone=timezone, hours=hours, always_open=True)

    @classmethod
    def office_hours(
        cls,
        timezone: str = "UTC",
        opens: time = time(9),
        closes: time = time(17),
        weekdays: Iterable[int] = range(5),
        holidays: Iterable[date] = (),
    ) -> "Calendar":
        """One interval a day on the given weekdays (Monday to Friday unless told)."""
        hours = {weekday: ((opens, closes),) for weekday in weekdays}
        return cls(timezone=timezone, hours=hours, holidays=frozenset(holidays))

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone (zoneinfo caches instances, so this is cheap)."""
        return ZoneInfo(self.timezone)


# --- Validation ---------------------------------------------------------------------------------


def _zone_named(name: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name, or a ValueError that says which name is wrong."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as error:
        raise ValueError(f"unknown time zone {name!r}: use an IANA name such as 'UTC'") from error


def _normalized_hours(
    hours: Mapping[int, Sequence[WallInterval]],
) -> Mapping[int, tuple[WallInterval, ...]]:
    """Validated hours as a read-only mapping, weekdays in order, each day's intervals sorted."""
    normalized = {}
    for weekday in sorted(hours):
        if weekday not in range(7):
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {weekday!r}")
        intervals = _normalized_day(WEEKDAY_NAMES[weekday], hours[weekday])
        if intervals:
            normalized[weekday] = intervals
    return MappingProxyType(normalized)


def _normalized_day(day_name: str, intervals: Sequence[WallInterval]) -> tuple[WallInterval, ...]:
    """A day's intervals, checked one by one, sorted by opening time and checked for overlap."""
    checked = [_checked_interval(day_name, interval) for interval in intervals]
    checked.sort(key=lambda interval: interval[0])
    for earlier, later in pairwise(checked):
        if _offset(later[0]) < _closing_offset(earlier[1]):
            raise ValueError(f"{day_name}: intervals {_show(earlier)} and {_show(later)} overlap")
    return tuple(checked)


def _checked_interval(day_name: str, interval: WallInterval) -> WallInterval:
    """One (opens, closes) pair of naive times; closes is after opens, or is midnight."""
    if len(interval) != 2:
        raise ValueError(f"{day_name}: an interval is an (opens, closes) pair, got {interval!r}")
    opens, closes = interval
    for moment in (opens, closes):
        if not isinstance(moment, time) or moment.tzinfo is not None:
            raise ValueError(f"{day_name}: interval ends must be naive times, got {moment!r}")
    if _closing_offset(closes) <= _offset(opens):
        raise ValueError(
            f"{day_name}: interval {_show(interval)} closes before it opens "
            "(use time(0) as the closing time for midnight at the end of the day)"
        )
    return (opens, closes)


def _offset(moment: time) -> timedelta:
    """How far a wall time is from the start of its day."""
    return datetime.combine(date.min, moment) - datetime.min


def _closing_offset(closes: time) -> timedelta:
    """Like _offset, but a closing time of midnight is the end of the day, not its start."""
    if closes == MIDNIGHT:
        return ONE_DAY
    return _offset(closes)


def _show(interval: WallInterval) -> str:
    opens, closes = interval
    return f"{opens.isoformat()}-{'24:00' if closes == MIDNIGHT else closes.isoformat()}"


def _normalized_holidays(holidays: Iterable[date]) -> frozenset[date]:
    """Holidays as a frozenset of dates; a datetime is refused, since it never equals a date."""
    normalized = frozenset(holidays)
    for holiday in normalized:
        if isinstance(holiday, datetime) or not isinstance(holiday, date):
            raise ValueError(f"holidays must be dates, got {holiday!r}")
    return normalized


def _normalized_yearly(yearly_holidays: Iterable[tuple[int, int]]) -> frozenset[tuple[int, int]]:
    """Yearly holidays as a frozenset of (month, day) pairs that exist in some year."""
    normalized = frozenset(tuple(pair) for pair in yearly_holidays)
    for pair in normalized:
        try:
            month, day = pair
            date(2000, month, day)  # a leap year, so (2, 29) is allowed
        except (TypeError, ValueError) as error:
            raise ValueError(f"yearly holidays are (month, day) pairs, got {pair!r}") from error
    return normalized


def _aware_as_utc(moment: datetime, name: str) -> datetime:
    """An aware datetime as UTC; a naive one is refused, since its instant is unknown."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {moment!r}")
    return moment.astimezone(UTC)


def _business_timedelta(minutes: float) -> timedelta:
    """A target in minutes as a timedelta; negative or non-finite targets are refused."""
    if not math.isfinite(minutes) or minutes < 0:
        raise ValueError(f"minutes must be a finite number >= 0, got {minutes!r}")
    return timedelta(minutes=minutes)


def _require_hours(calendar: Calendar) -> None:
    """A calendar that is never open has no deadlines: say so rather than search forever."""
    if not calendar.always_open and not calendar.hours:
        raise ValueError("calendar has no opening hours")


# --- Local days to UTC intervals ----------------------------------------------------------------


def _is_holiday(day: date, calendar: Calendar) -> bool:
    return day in calendar.holidays or (day.month, day.day) in calendar.yearly_holidays


def _wall_to_utc(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The instant a local wall time stands for (see the module docstring for gaps and folds)."""
    local = datetime.combine(day, wall, tzinfo=zone)
    instant = local.astimezone(UTC)
    # Aware datetimes with the same tzinfo compare by wall time, ignoring fold: this asks
    # whether the instant reads as the same wall time, which fails only inside a gap.
    if instant.astimezone(zone) == local:
        return instant
    return _end_of_gap(local.replace(tzinfo=None), zone)


def _end_of_gap(naive: datetime, zone: ZoneInfo) -> datetime:
    """The instant the clock jumps forward, for a wall time inside the skipped stretch.

    In a gap, fold=1 reads the wall time with the offset after the jump (an instant before it)
    and fold=0 with the offset before (an instant after it). zoneinfo does not expose its
    transitions, so bisect between the two, to the microsecond: rare, and ~32 steps.
    """
    before = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    after = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    offset_after = after.astimezone(zone).utcoffset()
    while after - before > ONE_MICROSECOND:
        middle = before + (after - before) // 2
        if middle.astimezone(zone).utcoffset() == offset_after:
            after = middle
        else:
            before = middle
    return after


def _closing_to_utc(day: date, closes: time, zone: ZoneInfo) -> datetime:
    """Like _wall_to_utc, where midnight means the end of `day`."""
    if closes == MIDNIGHT:
        return _wall_to_utc(day + ONE_DAY, MIDNIGHT, zone)
    return _wall_to_utc(day, closes, zone)


def _day_intervals(day: date, calendar: Calendar, zone: ZoneInfo) -> list[Interval]:
    """A local day's opening intervals as UTC instants, in order; none on a holiday."""
    if _is_holiday(day, calendar):
        return []
    intervals = []
    for opens, closes in calendar.hours.get(day.weekday(), ()):
        intervals.append((_wall_to_utc(day, opens, zone), _closing_to_utc(day, closes, zone)))
    return intervals


def _intervals_from(
    start: datetime, calendar: Calendar, until: datetime | None
) -> Iterator[Interval]:
    """The opening intervals clipped to [start, until), in order, for a calendar with hours.

    Walks local dates from the day before start's to the day after until's: a day of margin
    each side, so no conversion subtlety near midnight can drop an interval. Each interval is
    clamped to begin no earlier than the previous one ended, which also clips everything to
    begin at `start`, and empty ones are skipped. With `until=None` the walk is endless, and
    it raises ValueError after MAX_CLOSED_DAYS days in a row without an opening.
    """
    zone = calendar.zone
    day = start.astimezone(zone).date() - ONE_DAY
    last_day = None if until is None else until.astimezone(zone).date() + ONE_DAY
    floor = start
    closed_days = 0
    while last_day is None or day <= last_day:
        closed_days += 1
        for opens, closes in _day_intervals(day, calendar, zone):
            begin = max(opens, floor)
            finish = closes if until is None else min(closes, until)
            if finish > begin:
                yield begin, finish
                floor = finish
                closed_days = 0
        if until is None and closed_days > MAX_CLOSED_DAYS:
            raise ValueError(
                f"calendar never opens in the {MAX_CLOSED_DAYS} days up to {day} "
                "(is every day a holiday?)"
            )
        day += ONE_DAY


# --- The public functions -----------------------------------------------------------------------


def open_intervals(start: datetime, end: datetime, calendar: Calendar) -> Iterator[Interval]:
    """The calendar's opening intervals clipped to [start, end), as aware UTC datetimes, in order.

    Intervals are disjoint but not merged: back-to-back intervals (across midnight, or
    09:00-12:00 then 12:00-17:00) come out separately. A 24/7 calendar gives the single
    interval (start, end). Nothing when end <= start or the calendar has no hours.
    """
    start_utc = _aware_as_utc(start, "start")
    end_utc = _aware_as_utc(end, "end")
    if end_utc <= start_utc:
        return iter(())
    if calendar.always_open:
        return iter([(start_utc, end_utc)])
    return _intervals_from(start_utc, calendar, end_utc)


def business_minutes(start: datetime, end: datetime, calendar: Calendar) -> float:
    """Business minutes in [start, end): how much of that span the calendar is open.

    0 when end <= start. The inverse of due_at: business_minutes(s, due_at(s, m, c), c) == m.
    """
    total = timedelta()
    for begin, finish in open_intervals(start, end, calendar):
        total += finish - begin
    return total / ONE_MINUTE


def due_at(start: datetime, minutes: float, calendar: Calendar) -> datetime:
    """The instant (in UTC) when `minutes` business minutes have elapsed after `start`.

    A zero target is due at once: the result is `start` itself, open or not. A deadline that
    falls exactly at a closing time is that closing instant, not the next opening. Raises
    ValueError for a negative target, a naive start, a calendar without opening hours, or
    one that stays closed for about two years.
    """
    start_utc = _aware_as_utc(start, "start")
    remaining = _business_timedelta(minutes)
    _require_hours(calendar)
    if not remaining:
        return start_utc
    if calendar.always_open:
        return start_utc + remaining
    for begin, finish in _intervals_from(start_utc, calendar, until=None):
        if remaining <= finish - begin:
            return begin + remaining
        remaining -= finish - begin
    raise AssertionError("_intervals_from(until=None) ends only by raising")
