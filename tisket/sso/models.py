from django.db import models
from django.utils import timezone as tz

from tisket.models import Organization


class SsoProvider(models.Model):
    """An organization's OpenID Connect provider; its members may sign in through it."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="sso_provider"
    )
    enabled = models.BooleanField(default=False)
    issuer = models.URLField(
        max_length=300, help_text="The provider's issuer URL; its discovery document is read."
    )
    client_id = models.CharField(max_length=300)
    client_secret_sealed = models.TextField(
        blank=True, help_text="The client secret, encrypted at rest (tisket.lib.secrets_box)."
    )
    allowed_domains = models.JSONField(
        default=list, blank=True, help_text="Email domains this provider speaks for."
    )
    required = models.BooleanField(
        default=False,
        help_text="Members sign in through the provider only; owners keep their password.",
    )
    updated_at = models.DateTimeField(default=tz.now)

    class Meta:
        app_label = "tisket"

    def __str__(self) -> str:
        return f"Single sign-on of {self.organization}"

    def allows_domain(self, domain: str) -> bool:
        return domain.lower() in self.allowed_domains
