"""The audit log: who did what in an organization, when and from where.

One entry writes it, `audit_record`, called by the services that change
something worth answering for (sign-ins, second factors, members and roles,
tokens, settings, quarantine decisions, exports). Rows are append-only
(tisket.models.AuditEvent); the retention sweep alone removes old ones.

Who acted comes from the service when it knows (`actor`), else from the
request being served: AuditContextMiddleware keeps it for the request's
duration, and the API's token authentication sets the user on that same
request, so a script's change is recorded as its token's member.
"""

import contextlib
import contextvars
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from tisket.lib.requests import client_address
from tisket.lib.spreadsheet import spreadsheet_cell
from tisket.models import AuditEvent, Membership, Organization, User


class Action:
    """The actions recorded; each a dotted name, the area first."""

    LOGIN = "auth.login"
    LOGIN_FAILED = "auth.login_failed"
    LOGOUT = "auth.logout"
    PASSWORD_CHANGED = "auth.password_changed"  # noqa: S105 (an action\'s name)
    PASSWORD_RESET_ASKED = "auth.password_reset_asked"  # noqa: S105 (an action\'s name)
    PASSWORD_RESET = "auth.password_reset"  # noqa: S105 (an action\'s name)
    SESSIONS_ENDED = "auth.sessions_ended"
    PROFILE_CHANGED = "auth.profile_changed"
    TWO_FACTOR_ENABLED = "2fa.enabled"
    TWO_FACTOR_DISABLED = "2fa.disabled"
    TWO_FACTOR_FAILED = "2fa.failed"
    RECOVERY_CODES_RENEWED = "2fa.recovery_codes_renewed"
    RECOVERY_CODE_USED = "2fa.recovery_code_used"
    MEMBER_INVITED = "member.invited"
    MEMBER_INVITATION_RESENT = "member.invitation_resent"
    MEMBER_INVITATION_REVOKED = "member.invitation_revoked"
    MEMBER_JOINED = "member.joined"
    MEMBER_ROLE_CHANGED = "member.role_changed"
    MEMBER_REMOVED = "member.removed"
    MEMBER_CLIENT_VIEW_CHANGED = "member.client_view_changed"
    TOKEN_CREATED = "token.created"  # noqa: S105 (an action\'s name)
    TOKEN_REVOKED = "token.revoked"  # noqa: S105 (an action\'s name)
    ORGANIZATION_CHANGED = "organization.changed"
    SSO_CHANGED = "sso.changed"
    INBOX_CREATED = "inbox.created"
    INBOX_CHANGED = "inbox.changed"
    INBOX_DELETED = "inbox.deleted"
    SLA_CHANGED = "sla.changed"
    QUEUE_CHANGED = "queue.changed"
    QUARANTINE_RELEASED = "quarantine.released"
    QUARANTINE_DISCARDED = "quarantine.discarded"
    SENDER_RULE_ADDED = "sender_rule.added"
    SENDER_RULE_REMOVED = "sender_rule.removed"
    SUPPRESSION_LIFTED = "suppression.lifted"
    AUDIT_EXPORTED = "audit.exported"
    CLIENT_VIEW_STARTED = "client_view.started"
    CLIENT_VIEW_OPENED = "client_view.opened"
    CLIENT_VIEW_ENDED = "client_view.ended"
    CLIENT_VIEW_REFUSED = "client_view.refused"
    CLIENT_VIEW_ACTED = "client_view.acted"
    MCP_WRITE = "mcp.write"
    DOMAIN_ADDED = "domain.added"
    DOMAIN_REMOVED = "domain.removed"
    DOMAIN_KEY_ROTATED = "domain.key_rotated"
    DOMAIN_STATUS_CHANGED = "domain.status_changed"
    KB_ACCESS_CHANGED = "kb.access_changed"


ACTION_LABELS = {
    Action.LOGIN: "Signed in",
    Action.LOGIN_FAILED: "Failed to sign in",
    Action.LOGOUT: "Signed out",
    Action.PASSWORD_CHANGED: "Changed their password",
    Action.PASSWORD_RESET_ASKED: "Asked for a password reset",
    Action.PASSWORD_RESET: "Reset their password",
    Action.SESSIONS_ENDED: "Ended sessions",
    Action.PROFILE_CHANGED: "Changed their profile",
    Action.TWO_FACTOR_ENABLED: "Turned on two-factor sign-in",
    Action.TWO_FACTOR_DISABLED: "Turned off two-factor sign-in",
    Action.TWO_FACTOR_FAILED: "Gave a wrong second-factor code",
    Action.RECOVERY_CODES_RENEWED: "Made new recovery codes",
    Action.RECOVERY_CODE_USED: "Signed in with a recovery code",
    Action.MEMBER_INVITED: "Invited a member",
    Action.MEMBER_INVITATION_RESENT: "Sent an invitation again",
    Action.MEMBER_INVITATION_REVOKED: "Revoked an invitation",
    Action.MEMBER_JOINED: "Joined",
    Action.MEMBER_ROLE_CHANGED: "Changed a member's role",
    Action.MEMBER_REMOVED: "Removed a member",
    Action.MEMBER_CLIENT_VIEW_CHANGED: "Changed who may view as a client",
    Action.TOKEN_CREATED: "Created an API token",
    Action.TOKEN_REVOKED: "Revoked an API token",
    Action.ORGANIZATION_CHANGED: "Changed the organization's settings",
    Action.SSO_CHANGED: "Changed single sign-on",
    Action.INBOX_CREATED: "Created an inbox",
    Action.INBOX_CHANGED: "Changed an inbox",
    Action.INBOX_DELETED: "Deleted an inbox",
    Action.SLA_CHANGED: "Changed SLA settings",
    Action.QUEUE_CHANGED: "Changed a queue",
    Action.QUARANTINE_RELEASED: "Released a held mail",
    Action.QUARANTINE_DISCARDED: "Discarded a held mail",
    Action.SENDER_RULE_ADDED: "Blocked or always allowed a sender",
    Action.SENDER_RULE_REMOVED: "Removed a sender rule",
    Action.SUPPRESSION_LIFTED: "Lifted a bouncing address",
    Action.AUDIT_EXPORTED: "Exported the audit log",
    Action.CLIENT_VIEW_STARTED: "Started viewing as a client",
    Action.CLIENT_VIEW_OPENED: "Opened a page as a client",
    Action.CLIENT_VIEW_ENDED: "Stopped viewing as a client",
    Action.CLIENT_VIEW_REFUSED: "Was refused viewing as a client",
    Action.CLIENT_VIEW_ACTED: "Acted on behalf of a client",
    Action.MCP_WRITE: "Made a change through an AI assistant (MCP)",
    Action.DOMAIN_ADDED: "Added a mail domain",
    Action.DOMAIN_REMOVED: "Removed a mail domain",
    Action.DOMAIN_KEY_ROTATED: "Asked for a new DKIM key",
    Action.DOMAIN_STATUS_CHANGED: "A mail domain's verification changed",
    Action.KB_ACCESS_CHANGED: "Changed who may read knowledge-base content",
}

# A key of `data` that names a credential: its value is never stored, whatever it is.
SECRET_KEY_RE = re.compile(
    r"pass|secret|token|key|credential|auth|cookie|session|otp|recovery|esp_settings|code",
    re.IGNORECASE,
)
HIDDEN = "[hidden]"
MAX_TEXT = 300

_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar(
    "tisket_audit_request", default=None
)
# Who acts where no request says it (an AI assistant's tool call): the user and how to name them.
_acting: contextvars.ContextVar[tuple[User, str] | None] = contextvars.ContextVar(
    "tisket_audit_acting", default=None
)


class AuditContextMiddleware:
    """Keeps the request being served within reach of audit_record, for its duration."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


@contextlib.contextmanager
def audit_acting(*, user: User, label: str) -> Iterator[None]:
    """Name who acts for the events recorded meanwhile that name nobody themselves."""
    token = _acting.set((user, label))
    try:
        yield
    finally:
        _acting.reset(token)


def _scrub(value: Any, depth: int = 0) -> Any:
    if depth > 4:
        return HIDDEN
    if isinstance(value, Mapping):
        return {
            str(k)[:64]: HIDDEN if SECRET_KEY_RE.search(str(k)) else _scrub(v, depth + 1)
            for k, v in list(value.items())[:50]
        }
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [_scrub(v, depth + 1) for v in list(items)[:50]]
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)[:MAX_TEXT]


def _actor_of_request(request: HttpRequest | None) -> tuple[User | None, str]:
    if request is None:
        return None, ""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None, ""
    auth = getattr(request, "auth", None)
    name = getattr(auth, "name", None)
    return user, f"{user.email} (API token “{name}”)" if name else user.email


def audit_record(
    *,
    organization: Organization | int | None,
    action: str,
    actor: Membership | User | None = None,
    actor_label: str = "",
    target: Model | None = None,
    target_label: str = "",
    data: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Append one event to an organization's audit log; secrets in `data` are never stored."""
    request = _request.get()
    user = actor.user if isinstance(actor, Membership) else actor
    if user is None:
        user, label = _actor_of_request(request)
        if user is None and (acting := _acting.get()) is not None:
            user, label = acting
    else:
        label = user.email
    if target is not None and not target_label:
        target_label = str(target)
    address = client_address(request) if request is not None else ""
    return AuditEvent.objects.create(
        organization_id=organization.pk if isinstance(organization, Organization) else organization,
        created_at=at or timezone.now(),
        action=action,
        actor=user if user is not None and user.pk else None,
        actor_label=(actor_label or label)[:254],
        target_type=target._meta.model_name if target is not None else "",
        target_id=str(target.pk) if target is not None and target.pk is not None else "",
        target_label=target_label[:MAX_TEXT],
        ip=address or None,
        data=_scrub(dict(data or {})),
    )


def audit_record_for_user(
    *, user: User, action: str, data: Mapping[str, Any] | None = None, as_actor: bool = True
) -> None:
    """An event of a person rather than an organization (a sign-in): in each of theirs.

    as_actor=False: the person is what it is about, not who did it (a failed sign-in).
    """
    organization_ids = list(
        Membership.objects.filter(user=user).values_list("organization_id", flat=True)
    )
    for organization_id in organization_ids or [None]:
        audit_record(
            organization=organization_id,
            action=action,
            actor=user if as_actor else None,
            actor_label="" if as_actor else "someone",
            target=user,
            data=data,
        )


# --- Reads ---------------------------------------------------------------------------------


def audit_events_list(
    *,
    organization: Organization,
    action: str = "",
    actor: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    target: str = "",
) -> QuerySet[AuditEvent]:
    """The organization's events, newest first, filtered; one query whatever the page."""
    events = AuditEvent.objects.filter(organization=organization)
    if action:
        # "member" finds every member.* action; "member.removed" that one.
        events = events.filter(Q(action=action) | Q(action__startswith=f"{action}."))
    if actor:
        events = events.filter(actor_label__icontains=actor)
    if target:
        events = events.filter(target_label__icontains=target)
    if since is not None:
        events = events.filter(created_at__gte=since)
    if until is not None:
        events = events.filter(created_at__lt=until)
    return events.order_by("-created_at", "-id")


def audit_action_areas() -> list[str]:
    return sorted({name.split(".")[0] for name in ACTION_LABELS})


# --- Retention -----------------------------------------------------------------------------


def audit_sweep(*, now: datetime | None = None, batch: int = 5000) -> int:
    """Remove events older than TISKET_AUDIT_RETENTION_DAYS; returns how many went."""
    days = settings.TISKET_AUDIT_RETENTION_DAYS
    if days <= 0:
        return 0  # kept for ever
    cutoff = (now or timezone.now()) - timedelta(days=days)
    removed = 0
    while True:
        ids = list(
            AuditEvent.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return removed
        removed += AuditEvent.objects.filter(pk__in=ids)._purge()


def csv_rows(events: Iterable[AuditEvent]) -> Iterable[list[str]]:
    """The export's header and rows; a cell that a spreadsheet would run as a formula is quoted."""
    yield ["time (UTC)", "action", "actor", "target", "ip", "details"]
    for e in events:
        details = "; ".join(f"{k}={v}" for k, v in sorted(e.data.items()))
        row = [
            e.created_at.astimezone(UTC).isoformat(timespec="seconds"),
            e.action,
            e.actor_label,
            e.target_label,
            e.ip or "",
            details,
        ]
        yield [spreadsheet_cell(cell) for cell in row]
