"""SLA policies and the business calendars their targets are counted in."""

from datetime import time

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone as tz

from sla import clock
from tisket.models import Organization, validate_timezone


class Priority(models.TextChoices):
    """The ticket priorities a policy sets targets for (the same values as a ticket's)."""

    URGENT = "urgent", "Urgent"
    HIGH = "high", "High"
    NORMAL = "normal", "Normal"
    LOW = "low", "Low"


class BusinessCalendar(models.Model):
    """When an organization works: weekly opening hours and holidays, in one time zone."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="calendars"
    )
    name = models.CharField(max_length=100)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    always_open = models.BooleanField(
        default=False, help_text="24/7: opening hours and holidays do not apply."
    )
    created_at = models.DateTimeField(default=tz.now)
    updated_at = models.DateTimeField(default=tz.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="calendar_name_unique")
        ]

    def __str__(self) -> str:
        return self.name

    def as_clock(self) -> clock.Calendar:
        """The pure calendar the deadline math works on (prefetch hours and holidays)."""
        hours: dict[int, list[tuple[time, time]]] = {}
        for interval in self.hours.all():
            hours.setdefault(interval.weekday, []).append((interval.opens, interval.closes))
        holidays = self.holidays.all()
        return clock.Calendar(
            timezone=self.timezone,
            hours={day: tuple(intervals) for day, intervals in hours.items()},
            holidays=frozenset(h.date for h in holidays if not h.yearly),
            yearly_holidays=frozenset((h.date.month, h.date.day) for h in holidays if h.yearly),
            always_open=self.always_open,
        )


class OpeningHours(models.Model):
    """One opening interval of a weekday; a day may have several (a lunch break)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0
        TUESDAY = 1
        WEDNESDAY = 2
        THURSDAY = 3
        FRIDAY = 4
        SATURDAY = 5
        SUNDAY = 6

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField(help_text="00:00 means midnight at the end of the day.")

    class Meta:
        ordering = ["weekday", "opens"]
        verbose_name_plural = "opening hours"

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"

    def clean(self) -> None:
        if self.closes != time(0) and self.closes <= self.opens:
            raise ValidationError("An interval must close after it opens (00:00 is midnight).")


class Holiday(models.Model):
    """A day the calendar is closed; a yearly one recurs on its month and day."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="holidays"
    )
    date = models.DateField()
    name = models.CharField(max_length=200, blank=True)
    yearly = models.BooleanField(default=False, help_text="Closed on this day every year.")

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="holiday_date_unique")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()


class SlaPolicy(models.Model):
    """A tier of service (Enterprise, Standard, Free): targets per priority, in a calendar."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="sla_policies"
    )
    name = models.CharField(max_length=100)
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.PROTECT, related_name="policies"
    )
    is_default = models.BooleanField(
        default=False, help_text="Applies to tickets whose customer has no tier of its own."
    )
    created_at = models.DateTimeField(default=tz.now)
    updated_at = models.DateTimeField(default=tz.now)
    deadlines_recomputed_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="The change (its updated_at, or its calendar's) that the open tickets' "
        "deadlines were last recomputed for; the SLA sweep catches up after a change.",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="sla_policy_name_unique"),
            models.UniqueConstraint(
                fields=["organization"],
                condition=models.Q(is_default=True),
                name="sla_policy_one_default",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def target_for(self, priority: str) -> "SlaTarget | None":
        """The targets of one priority (prefetch `targets` to ask for many)."""
        return next((t for t in self.targets.all() if t.priority == priority), None)


class SlaTarget(models.Model):
    """A policy's targets for one priority, in business minutes; blank: no target."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="targets")
    priority = models.CharField(max_length=10, choices=Priority.choices)
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    next_response_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="After each client message."
    )
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["policy", "priority"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "priority"], name="sla_target_unique")
        ]

    def __str__(self) -> str:
        return f"{self.policy} {self.priority}"

    def minutes(self, metric: str) -> int | None:
        return getattr(self, f"{metric}_minutes")


class CustomerOrganization(models.Model):
    """A client company: its tickets get its tier's SLA policy.

    A ticket belongs to it by name (the ticket's customer organization) or by
    the domain of the client's address.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="customer_organizations"
    )
    name = models.CharField(max_length=200)
    policy = models.ForeignKey(
        SlaPolicy,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customers",
        help_text="Its tier; blank: the default policy.",
    )
    created_at = models.DateTimeField(default=tz.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="customer_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class CustomerDomain(models.Model):
    """An email domain of a client company's people: their tickets are the company's."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(
        CustomerOrganization, on_delete=models.CASCADE, related_name="domains"
    )
    domain = models.CharField(max_length=253)

    class Meta:
        ordering = ["domain"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "domain"], name="customer_domain_unique"
            )
        ]

    def __str__(self) -> str:
        return self.domain


class Metric(models.TextChoices):
    FIRST_RESPONSE = "first_response", "First response"
    NEXT_RESPONSE = "next_response", "Next response"
    RESOLUTION = "resolution", "Resolution"


METRICS = [m.value for m in Metric]
WARNING_SHARE = 0.75
