"""The core shared by every app: users, organizations (tenants), memberships, API tokens."""

import copy
import datetime
import re
import zoneinfo

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone as tz
from django.utils.functional import cached_property

from tisket.lib.unsubscribe import CATEGORIES

# Top-level URL segments that an organization slug may not take, since the
# agent UI lives at /<org-slug>/.
RESERVED_SLUGS = frozenset(
    {
        "accounts",
        "admin",
        "anymail",
        "api",
        "c",
        "favicon.ico",
        "hc",
        "healthz",
        "help",
        "login",
        "logout",
        "media",
        "metrics",
        "robots.txt",
        "static",
        "mcp",
    }
)

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$")


def validate_org_slug(value: str) -> None:
    if not SLUG_RE.fullmatch(value):
        raise ValidationError(
            "Use 1 to 50 lowercase letters, digits and hyphens, "
            "starting and ending with a letter or digit."
        )
    if value in RESERVED_SLUGS:
        raise ValidationError(f"'{value}' is reserved; choose another slug.")


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not a known time zone (e.g. Europe/Paris).")


validate_org_code = RegexValidator(
    r"^[A-Z0-9]{2,10}\Z", "Use 2 to 10 uppercase letters and digits (e.g. ACME)."
)


class Role(models.TextChoices):
    """Membership roles, weakest first. Compare with role_at_least()."""

    VIEWER = "viewer", "Viewer"
    AGENT = "agent", "Agent"
    SUPERVISOR = "supervisor", "Supervisor"
    ADMIN = "admin", "Admin"
    OWNER = "owner", "Owner"


ROLE_RANK = {role: rank for rank, role in enumerate(Role)}


def role_at_least(role: str, minimum: str) -> bool:
    return ROLE_RANK[Role(role)] >= ROLE_RANK[Role(minimum)]


def role_min(*roles: str) -> Role:
    return min((Role(r) for r in roles), key=ROLE_RANK.__getitem__)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    @staticmethod
    def normalize(email: str) -> str:
        return email.strip().lower()

    def get_by_natural_key(self, username: str) -> "User":
        return self.get(email=self.normalize(username))

    def create_user(self, email: str, password: str | None = None, **extra) -> "User":
        if not email:
            raise ValueError("A user needs an email address.")
        user = self.model(email=self.normalize(email), **extra)
        user.set_password(password)  # None sets an unusable password
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra) -> "User":
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


HANDLE_RE = r"^[a-z0-9](?:[a-z0-9._-]{0,28}[a-z0-9])?\Z"
validate_handle = RegexValidator(
    HANDLE_RE, "Use 1 to 30 lowercase letters, digits, dots, hyphens and underscores."
)


def validate_language(value: str) -> None:
    from django.conf import settings

    if value and value not in dict(settings.LANGUAGES):
        raise ValidationError(f"'{value}' is not a language of this installation.")


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in with an email address. Roles live on memberships."""

    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    handle = models.CharField(
        max_length=30,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_handle],
        help_text="Colleagues mention you as @handle in notes.",
    )
    signature = models.TextField(
        max_length=2000, blank=True, db_default="", help_text="Put under your replies to clients."
    )
    timezone = models.CharField(
        max_length=64,
        blank=True,
        db_default="",
        validators=[validate_timezone],
        help_text="Dates and times are shown in it; blank: the organization's.",
    )
    language = models.CharField(
        max_length=16, blank=True, db_default="", validators=[validate_language]
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="Can log into Django admin (installation staff)."
    )
    date_joined = models.DateTimeField(default=tz.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = UserManager.normalize(self.email)

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email.split("@")[0]


class Organization(models.Model):
    """A tenant. Nothing of one organization is ever visible to another."""

    name = models.CharField(max_length=200)
    slug = models.CharField(max_length=50, unique=True, validators=[validate_org_slug])
    code = models.CharField(
        max_length=10,
        unique=True,
        validators=[validate_org_code],
        help_text="Used in references such as THD-ACME-001.",
    )
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    require_two_factor = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Members must sign in with a second factor (TOTP).",
    )
    restrict_agents_to_queues = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Agents and viewers see only the conversations of their queues and their own "
        "tickets; supervisors and above see everything.",
    )
    created_at = models.DateTimeField(default=tz.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in one organization."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    can_view_as_client = models.BooleanField(
        default=False,
        db_default=False,
        help_text="May open a conversation as its client sees it; supervisors always may.",
    )
    # How this member's notifications mail them (what each event tells them is the matrix
    # of tisket.notifications): quiet hours in their time zone, and a daily digest.
    quiet_hours_start = models.TimeField(null=True, blank=True)
    quiet_hours_end = models.TimeField(null=True, blank=True)
    email_digest = models.BooleanField(
        default=False,
        db_default=False,
        help_text="One mail a day with what is still unread, instead of a mail per conversation.",
    )
    digest_time = models.TimeField(default=datetime.time(8, 0), db_default=datetime.time(8, 0))
    digest_sent_on = models.DateField(
        null=True, blank=True, help_text="The member's local date of their last digest."
    )
    created_at = models.DateTimeField(default=tz.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"

    def save(self, *args, **kwargs) -> None:
        # A capped copy's role is its token's ceiling; saving it would demote the member.
        if getattr(self, "_acting", False):
            raise TypeError("A membership acting under a token's role is never saved.")
        super().save(*args, **kwargs)

    def has_role(self, minimum: str) -> bool:
        return role_at_least(self.role, minimum)

    # Who really acts when it is not the person: "assistant via token …" on a copy made by
    # acting_as(); the timeline records it with each event.
    via = ""

    def acting_as(self, role: str, *, via: str = "") -> "Membership":
        """This member acting with at most `role`: a copy for authorization, never saved."""
        acting = copy.copy(self)
        acting.role = role_min(self.role, role)
        acting._acting = True
        acting.via = via
        return acting


class TokenScope(models.TextChoices):
    """What a token may do on top of its role: a read token never writes."""

    READ = "read", "Read"
    WRITE = "write", "Read and write"


class ApiToken(models.Model):
    """A key for scripts, bound to one membership and so to one organization.

    Only a SHA-256 of the key is stored: the key is shown once, at creation.
    The key carries 256 bits of randomness, so a fast hash is enough.
    """

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    role = models.CharField(
        max_length=16,
        choices=Role.choices,
        blank=True,
        help_text="Ceiling on the member's role for this token; blank: the member's role.",
    )
    prefix = models.CharField(
        max_length=16, help_text="The key's first characters, to tell keys apart."
    )
    key_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(
        max_length=8,
        choices=TokenScope.choices,
        default=TokenScope.WRITE,
        help_text="read: only reads, whatever the role; write: what the role allows.",
    )
    created_at = models.DateTimeField(default=tz.now)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def effective_role(self) -> Role:
        """The member's role, capped by the token's own; a demoted member demotes their tokens."""
        return role_min(self.membership.role, self.role or self.membership.role)

    @property
    def can_write(self) -> bool:
        """Writes need the write scope and at least an agent's role."""
        return self.scope == TokenScope.WRITE and role_at_least(self.effective_role, Role.AGENT)

    @cached_property
    def actor(self) -> Membership:
        """The membership as this token may act: every role check of the API goes through it."""
        return self.membership.acting_as(self.effective_role)

    def label(self) -> str:
        """How the timeline and the logs name this token."""
        return f"{self.name} ({self.prefix}…)"


class McpCall(models.Model):
    """One tool call of an AI assistant through the MCP server: who, what, how it went."""

    class Outcome(models.TextChoices):
        OK = "ok", "Done"
        ERROR = "error", "Tool error"
        REFUSED = "refused", "Refused (scope or role)"
        THROTTLED = "throttled", "Rate limited"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    token = models.ForeignKey(
        ApiToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="mcp_calls"
    )
    token_label = models.CharField(max_length=140, help_text="The token's name when it called.")
    tool = models.CharField(max_length=64)
    arguments_digest = models.CharField(
        max_length=64, help_text="SHA-256 of the arguments as canonical JSON (not the arguments)."
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=tz.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "MCP tool call"
        indexes = [
            models.Index(fields=["organization", "-created_at", "-id"], name="mcp_call_list"),
        ]

    def __str__(self) -> str:
        return f"{self.tool} by {self.token_label}: {self.outcome}"


class Sequence(models.Model):
    """Per-organization counters behind references such as THD-ACME-001."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=32)
    last_value = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="sequence_unique")
        ]

    def __str__(self) -> str:
        return f"{self.organization_id}/{self.name}={self.last_value}"


class Unsubscription(models.Model):
    """An address that wants no more of one category of optional mail from an organization.

    Written by the signed link of such a mail (tisket.lib.unsubscribe); replies in a
    conversation and critical mail never look here.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    address = models.CharField(max_length=320)
    category = models.CharField(max_length=30)
    created_at = models.DateTimeField(default=tz.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "address", "category"], name="unsubscription_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.address} from {self.category} of {self.organization_id}"

    def get_category_label(self) -> str:
        return CATEGORIES.get(self.category, self.category)


class Invitation(models.Model):
    """An invitation by email to join an organization with a role, accepted through a link.

    Only a SHA-256 of the link's token is stored; resending makes a new token,
    which kills the old link.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    invited_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=tz.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "email"], name="invitation_email")]

    def __str__(self) -> str:
        return f"{self.email} to {self.organization_id} ({self.role})"

    @property
    def is_pending(self) -> bool:
        """Neither accepted nor revoked (it may still have expired)."""
        return self.accepted_at is None and self.revoked_at is None

    def is_expired(self, now=None) -> bool:
        return self.expires_at <= (now or tz.now())


class LoginThrottle(models.Model):
    """Recent failed logins of one key (an account, an address, or both), and the wait they earn.

    The key is stored as an HMAC: a username field sometimes holds a password
    typed in the wrong box.
    """

    class Scope(models.TextChoices):
        PAIR = "pair", "Account from one address"
        ADDRESS = "address", "Address"
        ACCOUNT = "account", "Account"
        RESET_ADDRESS = "reset-ip", "Password resets asked from one address"
        RESET_ACCOUNT = "reset-ac", "Password resets asked for one account"
        TOTP = "totp", "Second-factor codes of one account"
        PORTAL_ADDRESS = "hc-ip", "Portal sign-in links asked from one address"
        PORTAL_EMAIL = "hc-mail", "Portal sign-in links asked for one email address"

    scope = models.CharField(max_length=8, choices=Scope.choices)
    key_hash = models.CharField(max_length=64)
    failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    blocked_until = models.DateTimeField(null=True, blank=True)
    succeeded_at = models.DateTimeField(
        null=True, blank=True, help_text="Last successful login of this account from this address."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key_hash"], name="login_throttle_unique")
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key_hash[:8]}: {self.failures}"


class UserSession(AbstractBaseSession):
    """A browser session, with whose it is and where it was last seen, so people can list theirs.

    The session engine (tisket.sessions) fills the columns from the session's data.
    """

    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="sessions"
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=tz.now)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "session"
        indexes = [models.Index(fields=["user", "expire_date"], name="usersession_user")]

    @classmethod
    def get_session_store_class(cls):
        from tisket.sessions import SessionStore

        return SessionStore


class AuditEventQuerySet(models.QuerySet):
    """Audit rows are written once and read; nothing through the ORM changes or removes one."""

    def update(self, **kwargs):
        raise TypeError("Audit events are append-only.")

    def delete(self):
        raise TypeError("Audit events are append-only; old ones go by the retention sweep.")

    def _purge(self) -> int:
        """The retention sweep's way out (tisket.audit.audit_sweep), and only its."""
        return self._raw_delete(self.db)


class AuditEvent(models.Model):
    """Who did what, when and from where, in one organization. Append-only.

    `organization` is empty for events of no organization (a failed login of an
    unknown address). `data` never holds a secret: tisket.audit scrubs it.
    """

    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=tz.now, db_index=True)
    action = models.CharField(max_length=64)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(
        max_length=254, blank=True, help_text="Who, as written then (an email, a token's name)."
    )
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=300, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at", "-id"], name="audit_list"),
            models.Index(fields=["organization", "action", "-created_at"], name="audit_action"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} by {self.actor_label or '-'}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            raise TypeError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Audit events are append-only.")


# Kept in modules of their own, imported so the app finds them: notifications and their
# preferences, and single sign-on (with the rest of it).
from tisket.notifications.models import (  # noqa: E402, F401
    Notification,
    NotificationDefault,
    NotificationPreference,
)
from tisket.sso.models import SsoProvider  # noqa: E402, F401
