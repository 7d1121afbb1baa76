"""The bell's rows, and the preferences matrix: the organization's defaults and each
member's own choices. Models of the tisket app (tisket.models re-exports them)."""

from django.db import models
from django.utils import timezone as tz

from tisket.notifications.matrix import Channel, Event, Scope


class Notification(models.Model):
    """Something a member should know: shown under the bell, and mailed if they wish.

    A mail waits (`email_due_at`) and goes only if the notification is still unread then,
    with the other unread ones of the same conversation (`topic`); a member on a daily
    digest gets it in the digest instead. `email_status` is the claim: a row is mailed once.
    """

    class Kind(models.TextChoices):
        ASSIGNED = "assigned", "Assigned to you"
        CLIENT_REPLIED = "client_replied", "Client replied"
        SLA_WARNING = "sla_warning", "SLA at risk"
        SLA_BREACHED = "sla_breached", "SLA breached"
        MENTIONED = "mentioned", "Mentioned in a note"
        NOTE = "note", "Note"
        NEW_CONVERSATION = "new_conversation", "New conversation"
        RATING = "rating", "Rating"
        LOW_RATING = "low_rating", "Low rating"
        MAIL_DOMAIN = "mail_domain", "Mail domain"

    class Email(models.TextChoices):
        NONE = "", "No mail"
        PENDING = "pending", "Waits for its delay"
        DIGEST = "digest", "Waits for the daily digest"
        SENT = "sent", "Mailed"
        SKIPPED = "skipped", "Read before its mail"

    organization = models.ForeignKey(
        "tisket.Organization", on_delete=models.CASCADE, related_name="+"
    )
    recipient = models.ForeignKey(
        "tisket.Membership", on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True, help_text="Where it points, in the UI.")
    topic = models.CharField(
        max_length=40,
        blank=True,
        db_default="",
        help_text="The conversation (or ticket) reference it is about: one mail per topic.",
    )
    in_app = models.BooleanField(
        default=True, db_default=True, help_text="Shown under the bell (else only mailed)."
    )
    email_status = models.CharField(
        max_length=8, choices=Email.choices, blank=True, default="", db_default=""
    )
    email_due_at = models.DateTimeField(null=True, blank=True)
    critical = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Mail no one may turn off: it ignores quiet hours and the digest.",
    )
    created_at = models.DateTimeField(default=tz.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_list"),
            models.Index(
                fields=["recipient"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread",
            ),
            models.Index(
                fields=["email_due_at"],
                condition=models.Q(email_status="pending"),
                name="notification_mail_due",
            ),
            models.Index(
                fields=["recipient"],
                condition=models.Q(email_status="digest"),
                name="notification_digest",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}: {self.title}"


class NotificationDefault(models.Model):
    """An admin's default for one event and channel, for every member; locked: for good."""

    organization = models.ForeignKey(
        "tisket.Organization", on_delete=models.CASCADE, related_name="notification_defaults"
    )
    event = models.CharField(max_length=20, choices=Event.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    scope = models.CharField(max_length=8, choices=Scope.choices)
    locked = models.BooleanField(default=False, help_text="Members cannot change it.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "event", "channel"], name="notification_default_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.event}/{self.channel}={self.scope}"


class NotificationPreference(models.Model):
    """A member's own choice for one event and channel (none: the organization's default)."""

    membership = models.ForeignKey(
        "tisket.Membership", on_delete=models.CASCADE, related_name="notification_preferences"
    )
    event = models.CharField(max_length=20, choices=Event.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    scope = models.CharField(max_length=8, choices=Scope.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["membership", "event", "channel"], name="notification_preference_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.membership_id} {self.event}/{self.channel}={self.scope}"
