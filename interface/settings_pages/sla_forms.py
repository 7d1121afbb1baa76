"""Forms of the SLA settings: calendars (a week grid, holidays), policies, customer tiers."""

import re
from datetime import date, time
from itertools import pairwise

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from interface.settings_pages.forms import TimeZoneField, split_list
from sla.models import (
    METRICS,
    BusinessCalendar,
    CustomerOrganization,
    Priority,
    SlaPolicy,
)
from tisket.models import Organization

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
METRIC_LABELS = {
    "first_response": "First response",
    "next_response": "Next response",
    "resolution": "Resolution",
}

# --- Durations: 90, 90m, 2h, 1d, 1h 30m ----------------------------------------------

DURATION_RE = re.compile(r"^(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m?)?$", re.I)


def duration_parse(text: str) -> int | None:
    """Minutes from "90", "90m", "2h", "1d" (24 h) or "1h 30m"; None for blank."""
    text = (text or "").strip()
    if not text:
        return None
    match = DURATION_RE.fullmatch(text)
    if not match or not any(match.groups()):
        raise ValidationError(f"'{text}' is not a duration: use minutes, or 30m, 4h, 1d, 1h 30m.")
    days, hours, minutes = (int(g or 0) for g in match.groups())
    total = days * 1440 + hours * 60 + minutes
    if total <= 0:
        raise ValidationError("A target must be longer than zero.")
    return total


def duration_format(minutes: int | None) -> str:
    """The shortest notation of a number of minutes: 1440 -> 1d, 90 -> 1h 30m."""
    if not minutes:
        return ""
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (mins, "m")) if n]
    return " ".join(parts)


class DurationField(forms.Field):
    """A target in minutes, typed as "90", "2h", "1d" or "1h 30m"; shown the same way."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value) -> int | None:
        return duration_parse(str(value or "")[:30])

    def prepare_value(self, value: object) -> object:
        return duration_format(value) if isinstance(value, int) else value


# --- Week grid: "09:00-12:00, 13:00-17:00" per day -------------------------------------

INTERVAL_RE = re.compile(r"^(\d{1,2})(?::(\d{2}))?-(\d{1,2})(?::(\d{2}))?$")
DASHES = str.maketrans({"\u2013": "-", "\u2014": "-"})  # en and em dashes, as typed by Macs


def _wall(hours: str, minutes: str | None) -> time:
    h, m = int(hours), int(minutes or 0)
    if (h, m) == (24, 0):
        return time(0)  # midnight at the end of the day
    if h > 23 or m > 59:
        raise ValidationError(f"{hours}:{minutes or '00'} is not a time of day.")
    return time(h, m)


def intervals_parse(text: str) -> list[tuple[time, time]]:
    """[(opens, closes)] from "9-12, 13:00-17:30"; 24:00 (or 00:00) closing means midnight."""
    intervals = []
    text = re.sub(r"\s*-\s*", "-", (text or "").translate(DASHES))
    for part in split_list(text):
        match = INTERVAL_RE.fullmatch(part)
        if not match:
            raise ValidationError(f"'{part}' is not an interval such as 09:00-17:00.")
        opens = _wall(match[1], match[2])
        closes = _wall(match[3], match[4])
        if opens == time(0) and match[1] == "24":
            raise ValidationError(f"'{part}' opens at midnight at the end of the day.")
        if closes != time(0) and closes <= opens:
            raise ValidationError(f"'{part}' closes before it opens.")
        intervals.append((opens, closes))
    intervals.sort()
    for (_, first_closes), (second_opens, _) in pairwise(intervals):
        if first_closes == time(0) or first_closes > second_opens:
            raise ValidationError("These intervals overlap.")
    return intervals


def intervals_format(intervals) -> str:
    def wall(t: time, closing: bool) -> str:
        return "24:00" if closing and t == time(0) else f"{t:%H:%M}"

    return ", ".join(f"{wall(o, False)}-{wall(c, True)}" for o, c in intervals)


# --- Holidays: one a line, "2025-12-25 Christmas", "(yearly)" to recur -------------------

YEARLY_MARK = "(yearly)"


def holidays_parse(text: str) -> list[dict]:
    rows, seen = [], set()
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        day, _, name = line.partition(" ")
        try:
            when = date.fromisoformat(day)
        except ValueError:
            raise ValidationError(
                f"Line {number}: '{day}' is not a date; start each line with YYYY-MM-DD."
            ) from None
        if when in seen:
            raise ValidationError(f"Line {number}: {when} is listed twice.")
        seen.add(when)
        name = name.strip()
        yearly = name.lower().endswith(YEARLY_MARK)
        if yearly:
            name = name[: -len(YEARLY_MARK)].strip()
        rows.append({"date": when, "name": name[:200], "yearly": yearly})
    return rows


def holidays_format(holidays) -> str:
    return "\n".join(
        f"{h.date:%Y-%m-%d} {h.name}{' ' + YEARLY_MARK if h.yearly else ''}".rstrip()
        for h in holidays
    )


class CalendarForm(forms.Form):
    name = forms.CharField(max_length=100)
    timezone = TimeZoneField(label="Time zone")
    always_open = forms.BooleanField(
        required=False, label="Open 24/7", help_text="Opening hours and holidays do not apply."
    )
    holidays = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": "2025-12-25 Christmas Day"}),
        help_text=f"One a line: YYYY-MM-DD and a name; end with {YEARLY_MARK} to close "
        "on that day every year.",
    )

    def __init__(
        self, *args, organization: Organization, calendar: BusinessCalendar | None = None, **kw
    ) -> None:
        if calendar is not None:
            by_day: dict[int, list] = {}
            for interval in calendar.hours.all():
                by_day.setdefault(interval.weekday, []).append((interval.opens, interval.closes))
            kw.setdefault(
                "initial",
                {
                    "name": calendar.name,
                    "timezone": calendar.timezone,
                    "always_open": calendar.always_open,
                    "holidays": holidays_format(calendar.holidays.all()),
                    **{f"day_{d}": intervals_format(by_day.get(d, [])) for d in range(7)},
                },
            )
        else:
            kw.setdefault(
                "initial",
                {
                    "timezone": organization.timezone,
                    **{f"day_{d}": "09:00-17:00" if d < 5 else "" for d in range(7)},
                },
            )
        super().__init__(*args, **kw)
        for day, label in enumerate(WEEKDAYS):
            self.fields[f"day_{day}"] = forms.CharField(
                required=False,
                label=label,
                max_length=200,
                widget=forms.TextInput(attrs={"placeholder": "closed"}),
            )

    def week(self) -> list[tuple[str, forms.BoundField]]:
        """(label, field) per weekday, for the grid."""
        return [(label, self[f"day_{d}"]) for d, label in enumerate(WEEKDAYS)]

    def clean_holidays(self) -> list[dict]:
        return holidays_parse(self.cleaned_data["holidays"])

    def clean(self) -> dict:
        data = super().clean()
        hours = []
        for day in range(7):
            try:
                intervals = intervals_parse(data.get(f"day_{day}", ""))
            except ValidationError as error:
                self.add_error(f"day_{day}", error)
                continue
            hours += [{"weekday": day, "opens": o, "closes": c} for o, c in intervals]
        if not hours and not data.get("always_open") and not self.errors:
            raise ValidationError("Give opening hours for at least one day, or make it 24/7.")
        data["hours"] = hours
        return data


class HolidayImportForm(forms.Form):
    country = forms.RegexField(
        r"^[A-Za-z]{2,3}$",
        max_length=3,
        help_text="ISO code: FR, US, DE…",
        error_messages={"invalid": "Use the country's 2-letter ISO code, such as FR."},
        widget=forms.TextInput(attrs={"placeholder": "FR", "size": 4}),
    )
    subdivision = forms.CharField(
        max_length=10, required=False, widget=forms.TextInput(attrs={"placeholder": "optional"})
    )
    year = forms.IntegerField(min_value=1970, max_value=2200)

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("initial", {"year": timezone.now().year})
        super().__init__(*args, **kwargs)


class PolicyForm(forms.Form):
    name = forms.CharField(
        max_length=100, widget=forms.TextInput(attrs={"placeholder": "Standard"})
    )
    calendar = forms.ModelChoiceField(
        queryset=BusinessCalendar.objects.none(),
        empty_label=None,
        help_text="Targets count in its business hours.",
    )
    is_default = forms.BooleanField(
        required=False,
        label="Default policy",
        help_text="For tickets whose customer has no tier of its own.",
    )

    def __init__(
        self, *args, organization: Organization, policy: SlaPolicy | None = None, **kw
    ) -> None:
        if policy is not None:
            initial = {
                "name": policy.name,
                "calendar": policy.calendar_id,
                "is_default": policy.is_default,
            }
            for target in policy.targets.all():
                for metric in METRICS:
                    initial[f"{target.priority}_{metric}"] = target.minutes(metric)
            kw.setdefault("initial", initial)
        super().__init__(*args, **kw)
        self.fields["calendar"].queryset = BusinessCalendar.objects.filter(
            organization=organization
        )
        for priority in Priority.values:
            for metric in METRICS:
                self.fields[f"{priority}_{metric}"] = DurationField(
                    label=f"{Priority(priority).label} {METRIC_LABELS[metric].lower()}",
                    widget=forms.TextInput(attrs={"placeholder": "—", "size": 6}),
                )

    def grid(self) -> list[tuple[Priority, list[forms.BoundField]]]:
        """(priority, [field per metric]) per priority, for the targets table."""
        return [(Priority(p), [self[f"{p}_{m}"] for m in METRICS]) for p in Priority.values]

    def targets(self) -> dict:
        """{"urgent": {"first_response_minutes": 30, ...}}, priorities without targets left out."""
        targets = {}
        for priority in Priority.values:
            row = {f"{m}_minutes": self.cleaned_data.get(f"{priority}_{m}") for m in METRICS}
            if any(v is not None for v in row.values()):
                targets[priority] = row
        return targets


class CustomerForm(forms.Form):
    name = forms.CharField(max_length=200)
    policy = forms.ModelChoiceField(
        queryset=SlaPolicy.objects.none(),
        required=False,
        label="Tier",
        empty_label="The default policy",
    )
    domains = forms.CharField(
        required=False,
        label="Email domains",
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "example.com"}),
        help_text="Mail from these domains belongs to this customer; one per line.",
    )

    def __init__(
        self, *args, organization: Organization, customer: CustomerOrganization | None = None, **kw
    ) -> None:
        if customer is not None:
            kw.setdefault(
                "initial",
                {
                    "name": customer.name,
                    "policy": customer.policy_id,
                    "domains": "\n".join(d.domain for d in customer.domains.all()),
                },
            )
        super().__init__(*args, **kw)
        self.fields["policy"].queryset = SlaPolicy.objects.filter(organization=organization)

    def clean_domains(self) -> list[str]:
        return split_list(self.cleaned_data["domains"])
