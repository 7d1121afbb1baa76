"""Writes of notifications: reading them, a member's preferences, the admins' defaults."""

from datetime import time

from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from tisket.audit import Action, audit_record
from tisket.errors import NotAllowedError
from tisket.models import Membership, Organization, Role
from tisket.notifications.matrix import SCOPES, Channel, Event, Scope, at_least, floor
from tisket.notifications.models import Notification, NotificationDefault, NotificationPreference
from tisket.notifications.selectors import member_local_now, member_matrix

WAITING = (Notification.Email.PENDING, Notification.Email.DIGEST)


def notifications_mark_read(*, membership: Membership, ids: list[int] | None = None) -> int:
    """Mark the member's unread notifications read (all, or these); returns how many. A mail
    still waiting for them is not sent: they have seen it."""
    unread = Notification.objects.filter(recipient=membership, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(
        read_at=timezone.now(),
        email_status=Case(
            When(email_status__in=WAITING, then=Value(Notification.Email.SKIPPED)),
            default=F("email_status"),
        ),
    )


def _check_cell(event: str, channel: str, scope: str) -> Scope:
    if event not in Event.values or channel not in Channel.values:
        raise ValueError(f"No such notification setting: {event}/{channel}.")
    if scope not in SCOPES[event]:
        raise ValueError(f"{Event(event).label} cannot be set to {scope}.")
    return Scope(scope)


@transaction.atomic
def notification_preferences_set(
    *,
    membership: Membership,
    cells: dict[tuple[str, str], str],
    quiet_hours_start: time | None = None,
    quiet_hours_end: time | None = None,
    email_digest: bool = False,
    digest_time: time | None = None,
) -> Membership:
    """A member's matrix, quiet hours and digest. A cell equal to its default is not stored,
    so a later change of the default reaches the member; locked cells stay as the admins set
    them, and no cell goes below its floor."""
    current = member_matrix(membership=membership)
    keep, drop = [], []
    for (event, channel), scope in cells.items():
        scope = _check_cell(event, channel, scope)
        cell = current[(event, channel)]
        if cell.locked:
            continue
        scope = at_least(scope, floor(event, channel))
        if scope == cell.default:
            drop.append((event, channel))
        else:
            keep.append(
                NotificationPreference(
                    membership=membership, event=event, channel=channel, scope=scope
                )
            )
    for event, channel in drop:
        NotificationPreference.objects.filter(
            membership=membership, event=event, channel=channel
        ).delete()
    NotificationPreference.objects.bulk_create(
        keep,
        update_conflicts=True,
        unique_fields=["membership", "event", "channel"],
        update_fields=["scope"],
    )
    was_digest = membership.email_digest
    membership.quiet_hours_start = quiet_hours_start
    membership.quiet_hours_end = quiet_hours_end
    membership.email_digest = email_digest
    membership.digest_time = digest_time or time(8, 0)
    fields = ["quiet_hours_start", "quiet_hours_end", "email_digest", "digest_time"]
    if email_digest and not was_digest:
        # The first digest comes at the next digest time, not the minute it is turned on.
        local = member_local_now(membership=membership)
        if local.time() >= membership.digest_time:
            membership.digest_sent_on = local.date()
            fields.append("digest_sent_on")
    membership.save(update_fields=fields)
    waiting = Notification.objects.filter(recipient=membership, read_at__isnull=True)
    if email_digest and not was_digest:  # what waits for its delay now waits for the digest
        waiting.filter(email_status=Notification.Email.PENDING, critical=False).update(
            email_status=Notification.Email.DIGEST, email_due_at=None
        )
    elif was_digest and not email_digest:  # what waited for the digest goes with the next sweep
        waiting.filter(email_status=Notification.Email.DIGEST).update(
            email_status=Notification.Email.PENDING, email_due_at=timezone.now()
        )
    return membership


@transaction.atomic
def notification_defaults_set(
    *,
    organization: Organization,
    cells: dict[tuple[str, str], tuple[str, bool]],
    actor: Membership | None,
) -> list[tuple[str, str]]:
    """The organization's defaults, each optionally locked for every member; returns the
    cells that changed."""
    if actor is not None and not actor.has_role(Role.ADMIN):
        raise NotAllowedError("Only admins set the organization's notification defaults.")
    before = {
        (row.event, row.channel): (row.scope, row.locked)
        for row in NotificationDefault.objects.filter(organization=organization)
    }
    rows, changed = [], []
    for (event, channel), (scope, locked) in cells.items():
        scope = at_least(_check_cell(event, channel, scope), floor(event, channel))
        rows.append(
            NotificationDefault(
                organization=organization,
                event=event,
                channel=channel,
                scope=scope,
                locked=bool(locked),
            )
        )
        if before.get((event, channel)) != (scope, bool(locked)):
            changed.append((event, channel))
    NotificationDefault.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["organization", "event", "channel"],
        update_fields=["scope", "locked"],
    )
    if changed:
        audit_record(
            organization=organization,
            action=Action.ORGANIZATION_CHANGED,
            actor=actor,
            target=organization,
            data={"notification_defaults": [f"{e}/{c}" for e, c in changed]},
        )
    return changed
