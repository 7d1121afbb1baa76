"""Reads of notifications: the bell, the matrix as it applies, and who an event reaches."""

import zoneinfo
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from tisket.models import Membership, Organization, Role
from tisket.notifications.matrix import (
    Cell,
    Channel,
    Event,
    Scope,
    builtin_default,
    cell_resolve,
    floor,
    reaches,
)
from tisket.notifications.models import Notification, NotificationDefault, NotificationPreference

BADGE_CAP = 99


def notifications_list(*, membership: Membership) -> QuerySet[Notification]:
    """The member's notifications under the bell, newest first."""
    return Notification.objects.filter(recipient=membership, in_app=True).order_by(
        "-created_at", "-id"
    )


def notifications_unread_badge(*, membership: Membership) -> str:
    """The bell's badge: the unread count, "99+" beyond 99, "" for none; counts at most 100."""
    unread = notifications_list(membership=membership).filter(read_at__isnull=True)
    count = unread[: BADGE_CAP + 1].count()
    return f"{BADGE_CAP}+" if count > BADGE_CAP else (str(count) if count else "")


def notification_get(*, membership: Membership, pk: int) -> Notification | None:
    return notifications_list(membership=membership).filter(pk=pk).first()


def organization_defaults(*, organization: Organization) -> dict[tuple[str, str], tuple[str, bool]]:
    """The admins' defaults, by (event, channel): (scope, locked)."""
    return {
        (row.event, row.channel): (row.scope, row.locked)
        for row in NotificationDefault.objects.filter(organization=organization)
    }


def member_matrix(*, membership: Membership) -> dict[tuple[str, str], Cell]:
    """Every cell of the member's matrix as it applies to them, by (event, channel)."""
    defaults = organization_defaults(organization=membership.organization)
    own = {
        (row.event, row.channel): row.scope
        for row in NotificationPreference.objects.filter(membership=membership)
    }
    return {
        (event, channel): cell_resolve(
            event=event,
            channel=channel,
            role=membership.role,
            member=own.get((event, channel)),
            organization=defaults.get((event, channel)),
        )
        for event in Event
        for channel in Channel
    }


@dataclass(frozen=True)
class Reach:
    """How an event reaches one member: under the bell, by mail, by mail no one may stop."""

    in_app: bool
    email: bool
    critical: bool


class EventSettings:
    """The matrix cells of one event for the members of some organizations, read in two
    queries, so an event with many possible recipients asks the database twice."""

    def __init__(self, *, event: str, organization_ids: set[int]) -> None:
        self.event = event
        self.defaults = {
            (row.organization_id, row.channel): (row.scope, row.locked)
            for row in NotificationDefault.objects.filter(
                organization_id__in=organization_ids, event=event
            )
        }
        self.own = {
            (row.membership_id, row.channel): row.scope
            for row in NotificationPreference.objects.filter(
                membership__organization_id__in=organization_ids, event=event
            )
        }

    def may_reach_beyond_mine(self) -> bool:
        """Whether any member may hear of the event on a ticket that is not theirs (else only
        the assignee and the people mentioned need to be read)."""
        wide = {Scope.QUEUES, Scope.ALL}
        if any(scope in wide for scope, _ in self.defaults.values()):
            return True
        if any(scope in wide for scope in self.own.values()):
            return True
        return any(
            builtin_default(self.event, channel, role) in wide
            for channel in Channel
            for role in Role
        )

    def cell(self, member: Membership, channel: str) -> Cell:
        return cell_resolve(
            event=self.event,
            channel=channel,
            role=member.role,
            member=self.own.get((member.pk, channel)),
            organization=self.defaults.get((member.organization_id, channel)),
        )

    def reach(self, member: Membership, relation: str) -> Reach:
        """How the event reaches this member, related so to its ticket."""
        email = reaches(self.cell(member, Channel.EMAIL).scope, relation)
        return Reach(
            in_app=reaches(self.cell(member, Channel.IN_APP).scope, relation),
            email=email,
            critical=email and reaches(floor(self.event, Channel.EMAIL), relation),
        )


def member_local_now(*, membership: Membership, now: datetime | None = None) -> datetime:
    """Now in the member's time zone (their own, else their organization's)."""
    name = membership.user.timezone or membership.organization.timezone or "UTC"
    try:
        zone = zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    return timezone.localtime(now or timezone.now(), zone)


def organization_matrix(*, organization: Organization) -> dict[tuple[str, str], Cell]:
    """The organization's default cells as an agent gets them (built-in ones where the
    admins set none)."""
    defaults = organization_defaults(organization=organization)
    return {
        (event, channel): cell_resolve(
            event=event,
            channel=channel,
            role="agent",
            organization=defaults.get((event, channel)),
        )
        for event in Event
        for channel in Channel
    }
