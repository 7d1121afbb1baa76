"""How members get in: API tokens (and the MCP calls made with them), invitations,
login throttles and sessions."""

from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.utils import timezone as tz
from django.utils.functional import cached_property

from tisket.models.people import Membership, Organization, Role, User, role_at_least, role_min


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
    """One call of an AI assistant through the MCP server (a tool, a resource read, a
    prompt): who, what, how it went."""

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
        PORTAL_EMAIL_ALL = (
            "hc-all",
            "Portal sign-in links asked for one email address, from anywhere",
        )

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
