"""Small template helpers of the agent UI."""

from datetime import datetime

from django import template
from django.utils import timezone

register = template.Library()


def _span(seconds: float) -> str:
    minutes = int(abs(seconds) // 60)
    if minutes < 60:
        return f"{max(minutes, 1)} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d}" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


@register.filter
def due_in(moment: datetime | None, now: datetime | None = None) -> str:
    """ "in 2 h 10" before a deadline, "5 min ago" after it."""
    if moment is None:
        return ""
    seconds = (moment - (now or timezone.now())).total_seconds()
    return f"in {_span(seconds)}" if seconds >= 0 else f"{_span(seconds)} ago"


@register.filter
def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """A compact age: "4 min", "3 h 05", "2 d 1 h"."""
    if moment is None:
        return ""
    return _span(((now or timezone.now()) - moment).total_seconds())


SLA_LABELS = {
    "on_track": "On track",
    "at_risk": "At risk",
    "breached": "Breached",
    "paused": "Paused",
}


@register.filter
def sla_label(state: str | None) -> str:
    return SLA_LABELS.get(state or "", "")
