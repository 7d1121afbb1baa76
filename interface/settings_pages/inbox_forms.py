"""The inbox form: what an admin sets, how it sends, and which IMAP mailbox it polls."""

import json

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from inboxes.models import AUTO_ACK_VARIABLES, Inbox, validate_auto_ack_text
from inboxes.transports import ESP_ACCOUNTS
from interface.settings_pages.forms import split_list
from tisket.lib.templating import template_help

Security = Inbox.Security
KEPT = "•••••••• stored; blank keeps it"


STATUS_MAIL_FIELDS = (
    "mail_on_resolved",
    "mail_on_waiting",
    "mail_on_reopened",
    "status_mail_to_participants",
)


class ColorInput(forms.TextInput):
    input_type = "color"


class InboxForm(forms.Form):
    name = forms.CharField(
        max_length=30,
        help_text="Lowercase a-z, 0-9 and hyphens; the first part of the address. "
        "It never changes.",
    )
    display_name = forms.CharField(
        max_length=100,
        required=False,
        label="Sender name",
        help_text="The name clients see on replies; blank: the organization's name.",
    )
    color = forms.RegexField(
        r"^#[0-9a-fA-F]{6}$",
        widget=ColorInput,
        label="Colour",
        error_messages={"invalid": "Use a colour such as #3454d1."},
    )
    is_active = forms.BooleanField(
        required=False,
        label="Active",
        help_text="Off: mail to this inbox is refused (the inbound log keeps it, with the "
        "reason) and it sends nothing automatic: no acknowledgement, no status mail.",
    )
    is_default = forms.BooleanField(
        required=False,
        label="Default for new conversations",
        help_text="The inbox a new conversation starts from unless the agent picks another.",
    )
    auto_ack_enabled = forms.BooleanField(
        required=False,
        label="Send an automatic acknowledgement",
        help_text="To each new conversation; never to automatic mail or twice a day.",
    )
    mail_on_resolved = forms.BooleanField(
        required=False,
        label="When the desk resolves it",
        help_text="With the agent's summary, if any, and five one-click rating links.",
    )
    mail_on_waiting = forms.BooleanField(
        required=False,
        label="When it waits on the client",
        help_text="Off by default: the reply that asks them usually says so.",
    )
    mail_on_reopened = forms.BooleanField(required=False, label="When the desk reopens it")
    status_mail_to_participants = forms.BooleanField(
        required=False,
        label="To every participant",
        help_text="Off: to the requester only.",
    )
    auto_ack_text = forms.CharField(
        required=False,
        label="Acknowledgement text",
        widget=forms.Textarea(attrs={"rows": 5}),
        validators=[validate_auto_ack_text],
        help_text="Blank: the standard text. " + template_help(variables=AUTO_ACK_VARIABLES),
    )
    extra_addresses = forms.CharField(
        required=False,
        label="Extra addresses",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="More addresses of this organization at the inbound domain, such as "
        "billing.<organization>@…; one per line. An address at your own domain "
        "(forwarded here) is added by the installation's admins.",
    )

    transport = forms.ChoiceField(
        choices=Inbox.Transport.choices, widget=forms.RadioSelect, label="Sends through"
    )
    smtp_host = forms.CharField(max_length=255, required=False, label="SMTP host")
    smtp_port = forms.IntegerField(min_value=1, max_value=65535, initial=587, label="Port")
    smtp_security = forms.ChoiceField(choices=Security.choices, label="Security")
    smtp_username = forms.CharField(max_length=255, required=False, label="User name")
    smtp_password = forms.CharField(
        required=False,
        strip=False,
        label="Password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    esp_name = forms.ChoiceField(
        choices=[("", "—"), *((name, name) for name in ESP_ACCOUNTS)],
        required=False,
        label="ESP",
    )
    esp_settings = forms.CharField(
        required=False,
        label="ESP account (JSON)",
        help_text="This inbox's own credentials; "
        + "; ".join(f"{name}: {', '.join(a.keys)}" for name, a in ESP_ACCOUNTS.items())
        + ".",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": '{"server_token": "…"}'}),
    )

    imap_host = forms.CharField(
        max_length=255, required=False, label="IMAP host", help_text="Blank: no mailbox to poll."
    )
    imap_port = forms.IntegerField(min_value=1, max_value=65535, initial=993, label="Port")
    imap_security = forms.ChoiceField(choices=Security.choices, label="Security")
    imap_username = forms.CharField(max_length=255, required=False, label="User name")
    imap_password = forms.CharField(
        required=False,
        strip=False,
        label="Password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    imap_folder = forms.CharField(max_length=255, initial="INBOX", label="Folder")

    # Secrets are write-only: the form never shows them, and blank keeps the stored one.
    SECRETS = ("smtp_password", "esp_settings", "imap_password")

    def __init__(self, *args, inbox: Inbox | None = None, **kwargs) -> None:
        self.inbox = inbox
        if inbox is not None:
            initial = {
                name: getattr(inbox, name)
                for name in self.base_fields
                if name not in self.SECRETS and name != "extra_addresses"
            }
            initial["extra_addresses"] = "\n".join(a.address for a in inbox.extra_addresses.all())
            kwargs.setdefault("initial", initial)
        else:
            kwargs.setdefault(
                "initial",
                {
                    "color": Inbox._meta.get_field("color").default,
                    "auto_ack_enabled": True,
                    "is_active": True,
                    "mail_on_resolved": True,
                    "transport": Inbox.Transport.DEFAULT,
                    "smtp_security": Security.STARTTLS,
                    "imap_security": Security.SSL,
                },
            )
        super().__init__(*args, **kwargs)
        if inbox is not None:
            example = f"billing.{inbox.organization.slug}@{settings.TISKET_INBOUND_DOMAIN}"
            self.fields["extra_addresses"].widget.attrs["placeholder"] = example
            del self.fields["name"]
            for name, is_set in (
                ("smtp_password", inbox.smtp_password_sealed),
                ("imap_password", inbox.imap_password_sealed),
                ("esp_settings", inbox.esp_settings_sealed),
            ):
                if is_set:
                    self.fields[name].widget.attrs["placeholder"] = KEPT

    def clean_extra_addresses(self) -> list[str]:
        return split_list(self.cleaned_data["extra_addresses"])

    def clean_esp_settings(self) -> dict | None:
        raw = self.cleaned_data["esp_settings"].strip()
        if not raw:
            return None
        try:
            value = json.loads(raw)
        except ValueError as error:
            raise ValidationError(f"This is not JSON: {error}.") from None
        if not isinstance(value, dict):
            raise ValidationError('Use a JSON object, such as {"server_token": "…"}.')
        return value

    def settings_args(self) -> dict:
        """display_name, colour, acknowledgement and extra addresses, for inbox_update."""
        keys = (
            "display_name",
            "color",
            "is_active",
            "is_default",
            "auto_ack_enabled",
            "auto_ack_text",
            "extra_addresses",
            *STATUS_MAIL_FIELDS,
        )
        return {k: self.cleaned_data[k] for k in keys}

    def transport_args(self) -> dict:
        """The arguments of inbox_transport_set; a blank secret is None (keep)."""
        data = self.cleaned_data
        keys = ("transport", "smtp_host", "smtp_port", "smtp_security", "smtp_username")
        return {
            **{k: data[k] for k in keys},
            "smtp_password": data["smtp_password"] or None,
            "esp_name": data["esp_name"],
            "esp_settings": data["esp_settings"],
        }

    def mailbox_args(self) -> dict:
        """The arguments of inbox_imap_set; a blank password is None (keep)."""
        data = self.cleaned_data
        keys = ("host", "port", "security", "username", "folder")
        return {k: data[f"imap_{k}"] for k in keys} | {"password": data["imap_password"] or None}
