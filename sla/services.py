"""Writes of business calendars, SLA policies and customer organizations.

Every change that moves deadlines bumps the calendar's or the policy's
`updated_at`; the caller (API, admin) then has the open tickets' deadlines
recomputed in the background.
"""

from collections.abc import Iterable, Mapping
from datetime import date, time

import holidays as public_holidays
from django.db import transaction
from django.utils import timezone

from sla import clock
from sla.models import (
    METRICS,
    BusinessCalendar,
    CustomerDomain,
    CustomerOrganization,
    Holiday,
    OpeningHours,
    Priority,
    SlaPolicy,
    SlaTarget,
)
from tisket.audit import Action, audit_record
from tisket.errors import ConflictError, TisketError
from tisket.models import Organization


class SlaError(TisketError):
    pass


def _check_hours(hours: Iterable[Mapping]) -> list[tuple[int, time, time]]:
    """Validate opening intervals ({weekday, opens, closes}) the way the clock will read them."""
    rows = []
    for item in hours:
        weekday, opens, closes = item["weekday"], item["opens"], item["closes"]
        if weekday not in range(7):
            raise SlaError(f"Weekday {weekday} is not 0 (Monday) to 6 (Sunday).")
        rows.append((weekday, opens, closes))
    by_day: dict[int, list[tuple[time, time]]] = {}
    for weekday, opens, closes in rows:
        by_day.setdefault(weekday, []).append((opens, closes))
    try:
        clock.Calendar(hours={d: tuple(i) for d, i in by_day.items()})
    except ValueError as error:
        raise SlaError(str(error)) from error
    return rows


def _touch(calendar: BusinessCalendar) -> None:
    calendar.updated_at = timezone.now()
    calendar.save(update_fields=["updated_at"])


@transaction.atomic
def calendar_create(
    *,
    organization: Organization,
    name: str,
    timezone_name: str | None = None,
    always_open: bool = False,
    hours: Iterable[Mapping] = (),
) -> BusinessCalendar:
    """A calendar; without hours and not 24/7 it is office hours, Monday to Friday 9 to 17."""
    name = name.strip()
    if BusinessCalendar.objects.filter(organization=organization, name=name).exists():
        raise ConflictError(f"A calendar named '{name}' exists already.")
    calendar = BusinessCalendar(
        organization=organization,
        name=name,
        timezone=timezone_name or organization.timezone,
        always_open=always_open,
    )
    calendar.full_clean(validate_unique=False, validate_constraints=False)
    calendar.save()
    hours = list(hours)
    if not hours and not always_open:
        hours = [{"weekday": d, "opens": time(9), "closes": time(17)} for d in range(5)]
    calendar_set_hours(calendar=calendar, hours=hours)
    _audit(calendar, "calendar created")
    return calendar


def _audit(target, what: str, **data) -> None:
    audit_record(
        organization=target.organization_id,
        action=Action.SLA_CHANGED,
        target=target,
        data={"change": what, **data},
    )


@transaction.atomic
def calendar_update(
    *,
    calendar: BusinessCalendar,
    name: str | None = None,
    timezone_name: str | None = None,
    always_open: bool | None = None,
    hours: Iterable[Mapping] | None = None,
) -> BusinessCalendar:
    if name is not None and name.strip() != calendar.name:
        clash = BusinessCalendar.objects.filter(
            organization_id=calendar.organization_id, name=name.strip()
        )
        if clash.exclude(pk=calendar.pk).exists():
            raise ConflictError(f"A calendar named '{name.strip()}' exists already.")
        calendar.name = name.strip()
    if timezone_name is not None:
        calendar.timezone = timezone_name
    if always_open is not None:
        calendar.always_open = always_open
    calendar.full_clean(validate_unique=False, validate_constraints=False)
    calendar.updated_at = timezone.now()
    calendar.save(update_fields=["name", "timezone", "always_open", "updated_at"])
    if hours is not None:
        calendar_set_hours(calendar=calendar, hours=hours)
    elif not calendar.always_open and not calendar.hours.exists():
        raise SlaError("A calendar that is not open 24/7 needs opening hours.")
    _audit(calendar, "calendar changed")
    return calendar


def calendar_set_hours(*, calendar: BusinessCalendar, hours: Iterable[Mapping]) -> None:
    """Replace the weekly opening hours."""
    rows = _check_hours(hours)
    if not rows and not calendar.always_open:
        raise SlaError("A calendar that is not open 24/7 needs opening hours.")
    calendar.hours.all().delete()
    OpeningHours.objects.bulk_create(
        [OpeningHours(calendar=calendar, weekday=d, opens=o, closes=c) for d, o, c in rows]
    )
    _touch(calendar)


@transaction.atomic
def calendar_set_holidays(*, calendar: BusinessCalendar, holidays: Iterable[Mapping]) -> None:
    """Replace the holidays: [{date, name, yearly}]."""
    rows = {}
    for item in holidays:
        day = item["date"]
        if not isinstance(day, date):
            raise SlaError(f"'{day}' is not a date.")
        rows[day] = Holiday(
            calendar=calendar,
            date=day,
            name=str(item.get("name", ""))[:200],
            yearly=bool(item.get("yearly", False)),
        )
    calendar.holidays.all().delete()
    Holiday.objects.bulk_create(rows.values())
    _touch(calendar)


@transaction.atomic
def calendar_import_holidays(
    *, calendar: BusinessCalendar, country: str, years: Iterable[int], subdivision: str = ""
) -> int:
    """Add a country's public holidays (the `holidays` package) for some years; returns how many."""
    try:
        found = public_holidays.country_holidays(
            country.upper(), subdiv=subdivision or None, years=list(years)
        )
    except NotImplementedError as error:
        raise SlaError(f"No public holidays are known for the country '{country}'.") from error
    except Exception as error:  # the package says "unknown subdivision" with its own types
        raise SlaError(f"Cannot import holidays: {error}") from error
    existing = set(calendar.holidays.values_list("date", flat=True))
    rows = [
        Holiday(calendar=calendar, date=day, name=name[:200])
        for day, name in sorted(found.items())
        if day not in existing
    ]
    Holiday.objects.bulk_create(rows)
    _touch(calendar)
    return len(rows)


def calendar_delete(*, calendar: BusinessCalendar) -> None:
    if calendar.policies.exists():
        names = ", ".join(calendar.policies.values_list("name", flat=True))
        raise ConflictError(f"The calendar is used by the policies {names}.")
    _audit(calendar, "calendar deleted")
    calendar.delete()


# No contract promises more than a year; beyond, the column (32-bit) or the deadline
# (counted in a calendar that may open an hour a week) would overflow.
TARGET_MINUTES_MAX = 366 * 24 * 60


def _check_targets(targets: Mapping[str, Mapping]) -> dict[str, dict[str, int | None]]:
    checked = {}
    for priority, values in targets.items():
        if priority not in Priority.values:
            raise SlaError(f"'{priority}' is not a priority ({', '.join(Priority.values)}).")
        row = {}
        for metric in METRICS:
            minutes = values.get(f"{metric}_minutes")
            if minutes is not None and (not isinstance(minutes, int) or minutes <= 0):
                raise SlaError(f"The {metric} target of {priority} must be a positive number.")
            if minutes is not None and minutes > TARGET_MINUTES_MAX:
                raise SlaError(f"The {metric} target of {priority} is longer than a year.")
            row[f"{metric}_minutes"] = minutes
        unknown = set(values) - {f"{m}_minutes" for m in METRICS}
        if unknown:
            raise SlaError(f"Unknown target field(s): {', '.join(sorted(unknown))}.")
        checked[priority] = row
    return checked


@transaction.atomic
def policy_create(
    *,
    organization: Organization,
    name: str,
    calendar: BusinessCalendar,
    is_default: bool = False,
    targets: Mapping[str, Mapping] = (),
) -> SlaPolicy:
    """A policy with targets per priority: {"urgent": {"first_response_minutes": 30, ...}}."""
    name = name.strip()
    if not name:
        raise SlaError("A policy needs a name.")
    if calendar.organization_id != organization.pk:
        raise SlaError("That calendar is not of this organization.")
    if SlaPolicy.objects.filter(organization=organization, name=name).exists():
        raise ConflictError(f"A policy named '{name}' exists already.")
    if is_default:
        SlaPolicy.objects.filter(organization=organization, is_default=True).update(
            is_default=False
        )
    policy = SlaPolicy.objects.create(
        organization=organization, name=name, calendar=calendar, is_default=is_default
    )
    policy_set_targets(policy=policy, targets=dict(targets or {}))
    _audit(policy, "policy created")
    return policy


@transaction.atomic
def policy_update(
    *,
    policy: SlaPolicy,
    name: str | None = None,
    calendar: BusinessCalendar | None = None,
    is_default: bool | None = None,
    targets: Mapping[str, Mapping] | None = None,
) -> SlaPolicy:
    if name is not None and name.strip() != policy.name:
        clash = SlaPolicy.objects.filter(organization_id=policy.organization_id, name=name.strip())
        if clash.exclude(pk=policy.pk).exists():
            raise ConflictError(f"A policy named '{name.strip()}' exists already.")
        policy.name = name.strip()
    if calendar is not None:
        if calendar.organization_id != policy.organization_id:
            raise SlaError("That calendar is not of this organization.")
        policy.calendar = calendar
    if is_default is True and not policy.is_default:
        SlaPolicy.objects.filter(organization_id=policy.organization_id, is_default=True).update(
            is_default=False
        )
    if is_default is not None:
        policy.is_default = is_default
    policy.updated_at = timezone.now()
    policy.save(update_fields=["name", "calendar", "is_default", "updated_at"])
    if targets is not None:
        policy_set_targets(policy=policy, targets=targets)
    _audit(policy, "policy changed")
    return policy


def policy_set_targets(*, policy: SlaPolicy, targets: Mapping[str, Mapping]) -> None:
    """Replace the targets; a priority left out has none."""
    checked = _check_targets(targets)
    policy.targets.all().delete()
    SlaTarget.objects.bulk_create(
        [SlaTarget(policy=policy, priority=p, **row) for p, row in checked.items()]
    )
    policy.updated_at = timezone.now()
    policy.save(update_fields=["updated_at"])


def policy_delete(*, policy: SlaPolicy) -> None:
    """Delete a policy but the default one; its tickets keep their deadlines until recomputed
    without it. The default is what every ticket without a tier runs on: refused while it is."""
    if policy.is_default:
        raise ConflictError(
            f"{policy.name} is the default SLA policy: make another policy the default first."
        )
    _audit(policy, "policy deleted")
    policy.delete()


@transaction.atomic
def customer_save(
    *,
    organization: Organization,
    name: str,
    policy: SlaPolicy | None,
    domains: Iterable[str] = (),
    customer: CustomerOrganization | None = None,
) -> CustomerOrganization:
    """Create or change a customer organization, its tier and its email domains."""
    name = name.strip()
    if not name:
        raise SlaError("A customer organization needs a name.")
    if policy is not None and policy.organization_id != organization.pk:
        raise SlaError("That policy is not of this organization.")
    clash = CustomerOrganization.objects.filter(organization=organization, name__iexact=name)
    if customer is not None:
        clash = clash.exclude(pk=customer.pk)
    if clash.exists():
        raise ConflictError(f"A customer organization named '{name}' exists already.")
    domains = sorted({d.strip().lower().lstrip("@") for d in domains if d.strip()})
    for domain in domains:
        if "." not in domain or "@" in domain or " " in domain:
            raise SlaError(f"'{domain}' is not an email domain.")
    taken = CustomerDomain.objects.filter(organization=organization, domain__in=domains)
    if customer is not None:
        taken = taken.exclude(customer=customer)
    first = taken.select_related("customer").first()
    if first is not None:
        raise ConflictError(f"The domain {first.domain} belongs to {first.customer.name}.")
    changing = customer is not None
    if customer is None:
        customer = CustomerOrganization(organization=organization)
    customer.name = name
    customer.policy = policy
    customer.save(update_fields=["name", "policy"] if changing else None)
    customer.domains.all().delete()
    CustomerDomain.objects.bulk_create(
        [CustomerDomain(organization=organization, customer=customer, domain=d) for d in domains]
    )
    _audit(customer, "customer changed" if changing else "customer created", domains=domains)
    return customer
