"""People and tenants: users, organizations, memberships and their roles."""

import copy
import datetime
import re
import zoneinfo

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone as tz

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
    portal_company_view = models.BooleanField(
        "clients see their company's requests",
        default=False,
        db_default=False,
        help_text="In the client portal, a client also sees the conversations of the other "
        "addresses of their client company's email domains (SLA customers).",
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
