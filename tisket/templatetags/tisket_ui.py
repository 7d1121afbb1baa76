"""Small template helpers of the agent UI."""

from datetime import datetime

from django import template
from django.utils import timezone

register = template.Library()


def duration_text(seconds: float, *, compact: bool = True) -> str:
    """A duration as agents read it: "4 min", "3 h 05" (compact) or "3 h 5 min", "2 d 1 h"."""
    minutes = int(abs(seconds) // 60)
    if minutes < 1 and not compact:
        return "less than 1 min"
    if minutes < 60:
        return f"{max(minutes, 1)} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        if not minutes:
            return f"{hours} h"
        return f"{hours} h {minutes:02d}" if compact else f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


@register.filter
def due_in(moment: datetime | None, now: datetime | None = None) -> str:
    """ "in 2 h 10" before a deadline, "5 min ago" after it."""
    if moment is None:
        return ""
    seconds = (moment - (now or timezone.now())).total_seconds()
    return f"in {duration_text(seconds)}" if seconds >= 0 else f"{duration_text(seconds)} ago"


@register.filter
def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """A compact age: "4 min", "3 h 05", "2 d 1 h"."""
    if moment is None:
        return ""
    return duration_text(((now or timezone.now()) - moment).total_seconds())


SLA_LABELS = {
    "on_track": "On track",
    "at_risk": "At risk",
    "breached": "Breached",
    "paused": "Paused",
}


@register.filter
def sla_label(state: str | None) -> str:
    return SLA_LABELS.get(state or "", "")
