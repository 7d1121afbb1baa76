from django.db import models

from tisket.models.people import Organization


class MailBranding(models.Model):
    """How an organization's mail looks: colour, sender name, postal address, wording.

    The logo is the help centre's: one picture of the organization, kept in one place.
    """

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="mail_branding"
    )
    colour = models.CharField(
        max_length=7, blank=True, help_text="Blank: the help centre's colour."
    )
    sender_name = models.CharField(
        max_length=100, blank=True, help_text="Blank: the organization's name."
    )
    postal_address = models.TextField(max_length=300, blank=True)
    # Mail type -> the admin's wording (variables only, checked on save); absent: the default.
    wording = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "mail branding"
        verbose_name_plural = "mail branding"

    def __str__(self) -> str:
        return f"mail branding of {self.organization_id}"
