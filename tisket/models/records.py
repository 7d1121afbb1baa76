"""What the core keeps count and record of: sequences, unsubscriptions, the audit log."""

from django.db import models
from django.utils import timezone as tz

from tisket.lib.unsubscribe import CATEGORIES
from tisket.models.people import Organization, User


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
