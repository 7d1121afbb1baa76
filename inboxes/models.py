"""Inboxes: where client mail arrives, and the addresses that reach them."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from tisket.lib.templating import TemplateError, template_check
from tisket.models import Organization

INBOX_NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,28}[a-z0-9])?$")
DEFAULT_MAX_MESSAGE_BYTES = 25 * 1024 * 1024


def validate_inbox_name(value: str) -> None:
    if not INBOX_NAME_RE.fullmatch(value):
        raise ValidationError(
            "Use 1 to 30 lowercase letters (a-z), digits and hyphens, "
            "starting and ending with a letter or digit."
        )


validate_color = RegexValidator(r"^#[0-9a-fA-F]{6}\Z", "Use a colour such as #3454d1.")

AUTO_ACK_VARIABLES = (
    "client_name",
    "thread.reference",
    "thread.subject",
    "inbox.name",
    "inbox.address",
)


def validate_auto_ack_text(value: str) -> None:
    try:
        template_check(value, variables=AUTO_ACK_VARIABLES)
    except TemplateError as error:
        raise ValidationError(str(error)) from None


class Inbox(models.Model):
    """A support address of an organization; its mail becomes threads."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="inboxes")
    name = models.CharField(max_length=30, validators=[validate_inbox_name])
    address = models.EmailField(
        unique=True, help_text="Provisioned address <inbox>.<org-slug>@<inbound domain>."
    )
    display_name = models.CharField(
        max_length=100,
        blank=True,
        help_text="Sender name of outgoing mail; blank: the organization's.",
    )
    color = models.CharField(max_length=7, default="#3454d1", validators=[validate_color])
    # An inactive inbox refuses its mail (the inbound log keeps it, with the reason)
    # and sends nothing automatic: no acknowledgement, no status mail.
    is_active = models.BooleanField(
        "active", default=True, help_text="Off: mail to it is refused and it sends nothing."
    )
    # At most one per organization (a constraint): where a new conversation starts.
    is_default = models.BooleanField("default for new conversations", default=False)
    auto_ack_enabled = models.BooleanField("auto-acknowledgement", default=True)
    auto_ack_text = models.TextField(
        "auto-acknowledgement text", blank=True, help_text="Blank: the standard text."
    )
    # What the client hears when the desk changes their conversation's status.
    mail_on_resolved = models.BooleanField(
        "mail the client when resolved",
        default=True,
        help_text="With the agent's summary, if any, and the rating links.",
    )
    mail_on_waiting = models.BooleanField("mail the client when waiting on them", default=False)
    mail_on_reopened = models.BooleanField("mail the client when reopened", default=False)
    status_mail_to_participants = models.BooleanField(
        "status mails to every participant",
        default=False,
        help_text="Off: the requester only.",
    )
    max_message_bytes = models.PositiveIntegerField(
        default=DEFAULT_MAX_MESSAGE_BYTES,
        help_text="Attachments beyond this total per message are replaced by a note.",
    )

    # Outgoing transport: the installation's default, or this inbox's own.
    class Transport(models.TextChoices):
        DEFAULT = "default", "The installation's default"
        SMTP = "smtp", "Its own SMTP server"
        ESP = "esp", "Its own ESP account (Anymail)"

    class Security(models.TextChoices):
        STARTTLS = "starttls", "STARTTLS"
        SSL = "ssl", "SSL/TLS"
        NONE = "none", "None"

    transport = models.CharField(
        max_length=10, choices=Transport.choices, default=Transport.DEFAULT
    )
    smtp_host = models.CharField(max_length=255, blank=True)
    smtp_port = models.PositiveIntegerField(default=587)
    smtp_security = models.CharField(max_length=10, choices=Security.choices, default="starttls")
    smtp_username = models.CharField(max_length=255, blank=True)
    smtp_password_sealed = models.TextField(blank=True, help_text="Encrypted; never shown.")
    esp_name = models.CharField(max_length=30, blank=True, help_text="e.g. postmark, mailgun")
    esp_settings_sealed = models.TextField(
        blank=True, help_text="Encrypted JSON of the ESP's backend settings; never shown."
    )
    # An IMAP mailbox to poll (optional): new mail by UID, nothing depends on \\Seen.
    imap_host = models.CharField(max_length=255, blank=True)
    imap_port = models.PositiveIntegerField(default=993)
    imap_security = models.CharField(max_length=10, choices=Security.choices, default="ssl")
    imap_username = models.CharField(max_length=255, blank=True)
    imap_password_sealed = models.TextField(blank=True, help_text="Encrypted; never shown.")
    imap_folder = models.CharField(max_length=255, default="INBOX")
    imap_uidvalidity = models.BigIntegerField(null=True, blank=True)
    imap_last_uid = models.BigIntegerField(default=0)
    imap_last_checked_at = models.DateTimeField(null=True, blank=True)
    imap_last_error = models.TextField(blank=True)
    # One poll per mailbox at a time, across every worker: a poll holds this lease.
    imap_poll_lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    # An extra address on a verified domain of the organization to send from; blank
    # (or a domain that stopped verifying): the provisioned address.
    from_address = models.EmailField(
        blank=True, help_text="One of its extra addresses, on a verified domain."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "inboxes"
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="inbox_name_unique"),
            models.UniqueConstraint(
                fields=["organization"],
                condition=models.Q(is_default=True),
                name="inbox_one_default",
            ),
        ]

    def __str__(self) -> str:
        return self.address

    def clean(self) -> None:
        try:
            validate_auto_ack_text(self.auto_ack_text)
        except ValidationError as error:
            raise ValidationError({"auto_ack_text": error.messages}) from None

    @property
    def sender_name(self) -> str:
        return self.display_name or self.organization.name


class InboxAddress(models.Model):
    """An extra address of an inbox, such as support@client.com; unique installation-wide."""

    inbox = models.ForeignKey(Inbox, on_delete=models.CASCADE, related_name="extra_addresses")
    address = models.EmailField(unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["address"]
        verbose_name_plural = "inbox addresses"

    def __str__(self) -> str:
        return self.address


class MailDomain(models.Model):
    """A domain an organization sends from, such as clientcorp.com: proven by DNS, DKIM-signed.

    The private DKIM keys are sealed with the installation's encryption keys
    (tisket.lib.secrets_box) and never shown after they are made.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Not verified yet"
        VERIFIED = "verified", "Verified"
        FAILING = "failing", "Stopped verifying"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="mail_domains"
    )
    name = models.CharField(max_length=253)
    token = models.CharField(max_length=64, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    verified_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    # Each check as {"key", "title", "ok" (true, false or null: cannot tell), "explanation"}.
    checks = models.JSONField(default=list, blank=True)
    mx_routes_here = models.BooleanField(default=False)
    dkim_selector = models.CharField(max_length=63)
    dkim_public = models.TextField(help_text="Base64 of the public key (SubjectPublicKeyInfo).")
    dkim_private_sealed = models.TextField(help_text="Encrypted; never shown.")
    dkim_verified = models.BooleanField(default=False)
    # A rotation's new key, published beside the old one until DNS shows it.
    dkim_next_selector = models.CharField(max_length=63, blank=True)
    dkim_next_public = models.TextField(blank=True)
    dkim_next_private_sealed = models.TextField(blank=True, help_text="Encrypted; never shown.")
    # Set up at the installation's ESP too (TISKET_ESP_PROVISIONING): its id for the domain
    # there, the records it asks for, each {"purpose", "type", "name", "value", "ok"}, and
    # the class of the last failure (never the ESP's own words).
    esp_id = models.CharField(max_length=40, blank=True)
    esp_records = models.JSONField(default=list, blank=True)
    esp_error = models.CharField(max_length=300, blank=True)
    esp_checked_at = models.DateTimeField(null=True, blank=True)
    # Mail in through the ESP, once the domain verifies: Postmark receives for one domain per
    # server, so each verified domain gets a server of its own, its id here, the server's
    # own address (to forward to, without an MX record) and the class of the last failure.
    esp_inbound_id = models.CharField(max_length=40, blank=True)
    esp_inbound_address = models.CharField(max_length=254, blank=True)
    esp_inbound_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="mail_domain_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def inbound_mx_ok(self) -> bool | None:
        """What the last check said of the MX record for mail in through the ESP."""
        return next((c["ok"] for c in self.checks if c.get("key") == "inbound_mx"), None)

    @property
    def ownership_record_name(self) -> str:
        return f"_tisket.{self.name}"

    @property
    def ownership_record_value(self) -> str:
        return f"tisket-verify={self.token}"

    @staticmethod
    def dkim_record_value(public: str) -> str:
        return f"v=DKIM1; k=rsa; p={public}"

    @property
    def dkim_record_name(self) -> str:
        return f"{self.dkim_selector}._domainkey.{self.name}"

    @property
    def dkim_next_record_name(self) -> str:
        if not self.dkim_next_selector:
            return ""
        return f"{self.dkim_next_selector}._domainkey.{self.name}"
