"""The preferences matrix, as pure rules: events x channels x scopes, built-in defaults and
the cells no one may turn off. Resolution takes the stored rows as plain values."""

from dataclasses import dataclass

from django.db import models

from tisket.models import Role, role_at_least


class Event(models.TextChoices):
    """What a member may hear of; each notification kind belongs to one event."""

    ASSIGNED = "assigned", "Assigned to me"
    CLIENT_REPLIED = "client_replied", "Client replied"
    NOTE = "note", "Note or mention"
    NEW_CONVERSATION = "new_conversation", "New conversation"
    SLA_WARNING = "sla_warning", "SLA warning"
    SLA_BREACHED = "sla_breached", "SLA breach"
    RATING = "rating", "Rating received"


class Channel(models.TextChoices):
    IN_APP = "in_app", "In the app"
    EMAIL = "email", "By email"


class Scope(models.TextChoices):
    """How far an event reaches a member, narrowest first; also a member's relation to a
    ticket: mine (assigned to them, or they were mentioned), their queues', anyone's."""

    OFF = "off", "Off"
    MINE = "mine", "Mine"
    QUEUES = "queues", "My queues"
    ALL = "all", "All"


SCOPE_RANK = {scope: rank for rank, scope in enumerate(Scope)}

# The scopes each event offers: being assigned is always one's own; a new conversation has
# nobody's name on it yet.
SCOPES: dict[str, tuple[Scope, ...]] = {
    Event.ASSIGNED: (Scope.OFF, Scope.MINE),
    Event.CLIENT_REPLIED: tuple(Scope),
    Event.NOTE: tuple(Scope),
    Event.NEW_CONVERSATION: (Scope.OFF, Scope.QUEUES, Scope.ALL),
    Event.SLA_WARNING: tuple(Scope),
    Event.SLA_BREACHED: tuple(Scope),
    Event.RATING: tuple(Scope),
}

# Cells no preference goes below: an assignee always hears by mail that their ticket missed
# its SLA.
FLOORS: dict[tuple[str, str], Scope] = {(Event.SLA_BREACHED, Channel.EMAIL): Scope.MINE}

# Which event a notification kind belongs to (tisket.models.Notification.Kind).
EVENT_OF_KIND = {
    "assigned": Event.ASSIGNED,
    "client_replied": Event.CLIENT_REPLIED,
    "mentioned": Event.NOTE,
    "note": Event.NOTE,
    "new_conversation": Event.NEW_CONVERSATION,
    "sla_warning": Event.SLA_WARNING,
    "sla_breached": Event.SLA_BREACHED,
    "rating": Event.RATING,
}


def builtin_default(event: str, channel: str, role: str) -> Scope:
    """The installation's default, before any admin sets one: what Tisket did before the matrix
    (one's own tickets; supervisors hear of every breach), nothing new by mail."""
    if event == Event.SLA_BREACHED and role_at_least(role, Role.SUPERVISOR):
        return Scope.ALL
    if event == Event.NEW_CONVERSATION:
        return Scope.OFF
    if event == Event.RATING and channel == Channel.EMAIL:
        return Scope.OFF
    return Scope.MINE


def clamp(event: str, scope: str) -> Scope:
    """The nearest scope the event offers at or below `scope` (a new conversation is never
    "mine": mine becomes off)."""
    offered = SCOPES[event]
    return max(
        (s for s in offered if SCOPE_RANK[s] <= SCOPE_RANK[Scope(scope)]), key=SCOPE_RANK.get
    )


def floor(event: str, channel: str) -> Scope:
    return FLOORS.get((event, channel), Scope.OFF)


def at_least(scope: str, minimum: str) -> Scope:
    return Scope(max(Scope(scope), Scope(minimum), key=SCOPE_RANK.get))


@dataclass(frozen=True)
class Cell:
    """One event and channel of a member's matrix: the scope that applies and why."""

    scope: Scope
    default: Scope  # the organization's (or the built-in) default for the member
    locked: bool  # set by an admin for everyone: the member cannot change it
    floor: Scope  # the least the member may choose
    custom: bool  # the member chose it


def cell_resolve(
    *,
    event: str,
    channel: str,
    role: str,
    member: str | None = None,
    organization: tuple[str, bool] | None = None,
) -> Cell:
    """The cell as it applies: the member's choice, else the organization's default, else the
    built-in one; an admin's lock wins over the member, and the floor over everyone."""
    minimum = floor(event, channel)
    default = builtin_default(event, channel, role)
    locked = False
    if organization is not None:
        default, locked = Scope(organization[0]), organization[1]
    default = at_least(clamp(event, default), minimum)
    custom = member is not None and not locked
    scope = at_least(clamp(event, member), minimum) if custom else default
    return Cell(scope=scope, default=default, locked=locked, floor=minimum, custom=custom)


def reaches(scope: str, relation: str) -> bool:
    """Whether a cell set to `scope` tells a member related so to the ticket (mine < queues
    < all)."""
    return scope != Scope.OFF and SCOPE_RANK[Scope(relation)] <= SCOPE_RANK[Scope(scope)]


def quiet_now(start, end, local_time) -> bool:
    """Whether a local time of day falls in quiet hours from `start` to `end` (which may run
    past midnight: 22:00 to 07:00); no quiet hours when either is unset or they are equal."""
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= local_time < end
    return local_time >= start or local_time < end
