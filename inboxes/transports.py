"""How an inbox sends: the installation's default, its own SMTP server, or its own ESP account.

A tenant's transport is the tenant's alone. Its SMTP server is resolved and
checked before every connection (tisket.lib.netguard) and talked to under a
total deadline; its ESP account takes credentials from an allow-list of keys
per ESP, never an endpoint, and never falls back to the installation's own
account (Anymail fills a missing key from the installation's ANYMAIL_*
settings, so every key the backend reads is given explicitly).
"""

import json
import logging
import smtplib
import socket
import ssl
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend

from inboxes.models import Inbox
from tisket.audit import Action, audit_record
from tisket.lib import netguard
from tisket.lib.secrets_box import secret_open, secret_seal

logger = logging.getLogger(__name__)

Transport = Inbox.Transport
CONNECT_TIMEOUT = 10


@dataclass(frozen=True)
class EspAccount:
    """What a tenant may give for one ESP: credential keys; everything else is pinned."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    # Every other setting the backend reads, at Anymail's own default: an
    # installation's ANYMAIL_<ESP>_* value (its endpoint above all) never applies.
    pinned: dict = field(default_factory=dict)

    @property
    def keys(self) -> tuple[str, ...]:
        return self.required + self.optional


# ESPs whose API lives at one public address. Those that take the endpoint as a
# setting (Postal, Unisender Go) or that fall back to the machine's own cloud
# credentials (Amazon SES through boto3) are not offered per inbox.
ESP_ACCOUNTS: dict[str, EspAccount] = {
    "postmark": EspAccount(
        required=("server_token",),
        optional=("message_stream",),
        pinned={
            "api_url": "https://api.postmarkapp.com/",
            "use_bulk_api": False,
            "generate_message_id": False,
        },
    ),
    "mailgun": EspAccount(
        required=("api_key",),
        optional=("sender_domain",),
        pinned={"api_url": "https://api.mailgun.net/v3"},
    ),
    "brevo": EspAccount(
        required=("api_key",),
        pinned={
            "api_url": "https://api.brevo.com/v3/",
            "workaround_display_name_bugs": True,
            "prevent_header_encoding_bugs": True,
        },
    ),
    "mailjet": EspAccount(
        required=("api_key", "secret_key"), pinned={"api_url": "https://api.mailjet.com/v3.1/"}
    ),
    "mandrill": EspAccount(
        required=("api_key",), pinned={"api_url": "https://mandrillapp.com/api/1.0"}
    ),
    "sparkpost": EspAccount(
        required=("api_key",),
        optional=("subaccount",),
        pinned={"api_url": "https://api.sparkpost.com/api/v1/"},
    ),
    "resend": EspAccount(
        required=("api_key",),
        pinned={"api_url": "https://api.resend.com/", "verify_attachment_extensions": True},
    ),
    "mailersend": EspAccount(
        required=("api_token",),
        pinned={"api_url": "https://api.mailersend.com/v1/", "batch_send_mode": None},
    ),
}
# Read by every Anymail backend, per ESP; the installation's values are its own.
ESP_COMMON_PINNED = {
    "send_defaults": None,
    "idna_encoder": None,
    "requests_timeout": 30,
    "ignore_unsupported_features": False,
    "ignore_recipient_status": False,
    "debug_api_requests": False,
}


def esp_settings_clean(esp_name: str, esp_settings: dict) -> dict[str, str]:
    """The ESP account's credentials, checked against the ESP's allow-list of keys."""
    account = ESP_ACCOUNTS.get(esp_name)
    if account is None:
        raise ValidationError(
            {
                "esp_name": f"'{esp_name}' is not an ESP an inbox can send through; "
                f"choose one of {', '.join(sorted(ESP_ACCOUNTS))}."
            }
        )
    unknown = sorted(set(esp_settings) - set(account.keys))
    if unknown:
        raise ValidationError(
            {
                "esp_settings": f"{esp_name} takes only {', '.join(account.keys)}; "
                f"not {', '.join(unknown)}."
            }
        )
    if not all(isinstance(v, str) for v in esp_settings.values()):
        raise ValidationError({"esp_settings": "Every value must be a string."})
    missing = [k for k in account.required if not (esp_settings.get(k) or "").strip()]
    if missing:
        raise ValidationError(
            {"esp_settings": f"{esp_name} needs {', '.join(missing)} of this inbox's own account."}
        )
    return {k: v.strip() for k, v in esp_settings.items() if v.strip()}


def inbox_transport_set(
    *,
    inbox: Inbox,
    transport: str,
    smtp_host: str = "",
    smtp_port: int = 587,
    smtp_security: str = Inbox.Security.STARTTLS,
    smtp_username: str = "",
    smtp_password: str | None = None,
    esp_name: str = "",
    esp_settings: dict | None = None,
) -> Inbox:
    """Choose the inbox's transport; a secret given as None keeps the stored one."""
    transport = Transport(transport)
    if transport == Transport.SMTP and not smtp_host.strip():
        raise ValidationError({"smtp_host": "An SMTP transport needs a host."})
    esp_name = esp_name.strip().lower()
    if transport == Transport.ESP:
        if esp_settings is None:  # keep the stored account, if it still fits this ESP
            esp_settings_clean(esp_name, _esp_stored(inbox))
        else:
            esp_settings = esp_settings_clean(esp_name, esp_settings)
    inbox.transport = transport
    inbox.smtp_host, inbox.smtp_port = smtp_host.strip(), smtp_port
    inbox.smtp_security, inbox.smtp_username = Inbox.Security(smtp_security), smtp_username
    inbox.esp_name = esp_name
    fields = ["transport", "smtp_host", "smtp_port", "smtp_security", "smtp_username", "esp_name"]
    if smtp_password is not None:
        inbox.smtp_password_sealed = secret_seal(smtp_password)
        fields.append("smtp_password_sealed")
    if esp_settings is not None:
        inbox.esp_settings_sealed = secret_seal(json.dumps(esp_settings)) if esp_settings else ""
        fields.append("esp_settings_sealed")
    inbox.save(update_fields=fields)
    # Where it sends, never with what: a new password or ESP key shows only as "changed".
    audit_record(
        organization=inbox.organization_id,
        action=Action.INBOX_CHANGED,
        target=inbox,
        target_label=inbox.address,
        data={
            "transport": transport.value,
            "host": inbox.smtp_host,
            "esp": esp_name,
            "login_details": "replaced" if smtp_password is not None or esp_settings else "kept",
        },
    )
    return inbox


def _esp_stored(inbox: Inbox) -> dict:
    try:
        stored = json.loads(secret_open(inbox.esp_settings_sealed) or "{}")
    except ValueError:
        stored = {}
    return stored if isinstance(stored, dict) else {}


class GuardedSmtpBackend(SmtpBackend):
    """Django's SMTP backend, connecting only to a checked address, within a total deadline."""

    def __init__(self, *, limit: netguard.Deadline, **kwargs) -> None:
        super().__init__(**kwargs)
        self.limit = limit

    @property
    def connection_class(self) -> type[smtplib.SMTP]:
        base = smtplib.SMTP_SSL if self.use_ssl else smtplib.SMTP
        limit = self.limit

        class Guarded(base):
            def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
                sock = netguard.connect(
                    host,
                    port,
                    allowed=settings.TISKET_ALLOWED_MAIL_HOSTS,
                    limit=limit,
                    timeout=min(timeout or CONNECT_TIMEOUT, CONNECT_TIMEOUT),
                )
                sock.settimeout(timeout)
                if base is smtplib.SMTP_SSL:
                    return self.context.wrap_socket(sock, server_hostname=self._host)
                return sock

        return Guarded


def inbox_connection(
    inbox: Inbox, *, limit: netguard.Deadline, timeout: int | None = None
) -> BaseEmailBackend:
    """The email backend this inbox sends through; its own SMTP server within the deadline."""
    if inbox.transport == Transport.SMTP:
        return GuardedSmtpBackend(
            limit=limit,
            host=inbox.smtp_host,
            port=inbox.smtp_port,
            # "" rather than None: Django would fill None from the installation's EMAIL_*.
            username=inbox.smtp_username or "",
            password=secret_open(inbox.smtp_password_sealed) or "",
            use_tls=inbox.smtp_security == Inbox.Security.STARTTLS,
            use_ssl=inbox.smtp_security == Inbox.Security.SSL,
            ssl_keyfile="",
            ssl_certfile="",
            timeout=timeout or settings.TISKET_MAIL_IO_TIMEOUT,
        )
    if inbox.transport == Transport.ESP:
        account = ESP_ACCOUNTS.get(inbox.esp_name)
        if account is None:
            raise EspAccountError(f"'{inbox.esp_name}' is not an ESP an inbox can send through.")
        stored = _esp_stored(inbox)
        if any(not stored.get(k) for k in account.required):
            raise EspAccountError(f"This inbox's {inbox.esp_name} account lacks credentials.")
        given = {k: stored.get(k, "") for k in account.keys}
        backend = get_connection(
            f"anymail.backends.{inbox.esp_name}.EmailBackend",
            **ESP_COMMON_PINNED,
            **account.pinned,
            **given,
        )
        # Anymail merges the installation's global SEND_DEFAULTS (a Bcc archive,
        # metadata, tags) whatever the arguments say: none of it is the tenant's.
        backend.send_defaults = {}
        return backend
    return get_connection()


class EspAccountError(Exception):
    """An inbox's ESP account cannot be used as stored (not an offered ESP, or no credentials)."""


def send_failure(error: BaseException, *, expired: bool = False) -> str:
    """What a tenant is told when a send failed: the class of the failure, not the peer's words.

    The full error goes to the server log and Django admin; a tenant's server
    (or a server it points at) must not be able to write into the tenant's UI.
    """
    if isinstance(error, EspAccountError):
        return f"Configuration: {error}"
    if expired:  # whatever the cut-off connection made the client raise
        return netguard.failure_class(error, expired=True)
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return "Authentication: the SMTP server refused the user name or password."
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in error.recipients.values()})
        return f"Refused: the SMTP server refused the recipients (codes {codes})."
    if isinstance(error, smtplib.SMTPSenderRefused):
        return f"Refused: the SMTP server refused the sender (code {error.smtp_code})."
    if isinstance(error, smtplib.SMTPResponseException):
        return f"Refused: the SMTP server answered code {error.smtp_code}."
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return "TLS: the SMTP server does not offer a secure connection."
    if isinstance(error, smtplib.SMTPServerDisconnected) and not expired:
        return "Connection: the SMTP server closed the connection."
    status = getattr(getattr(error, "response", None), "status_code", None)
    if status is not None:
        return f"Refused: the ESP answered HTTP {status}."
    if type(error).__module__.startswith("anymail"):
        return "The ESP did not accept the mail."
    if isinstance(error, OSError | netguard.HostRefused) or expired:
        return netguard.failure_class(error, expired=expired)
    return "The mail could not be sent."


def smtp_test(*, inbox: Inbox) -> tuple[bool, str]:
    """Connect and log in as sending would: (ok, what happened, in words an admin can act on)."""
    if inbox.transport != Transport.SMTP:
        return False, "This inbox does not send through its own SMTP server."
    where = f"{inbox.smtp_host}:{inbox.smtp_port}"
    with netguard.deadline(settings.TISKET_MAIL_TEST_DEADLINE) as limit:
        connection = inbox_connection(inbox, limit=limit, timeout=CONNECT_TIMEOUT)
        try:
            connection.open()
            # A full exchange over TLS, as sending would have; smtplib returns a reply it
            # cannot read (a connection cut mid-line) as code -1 rather than raising.
            code, _ = connection.connection.noop()
            if code != 250:
                raise smtplib.SMTPResponseException(code, b"")
        except (smtplib.SMTPException, OSError, netguard.HostRefused, ssl.SSLError) as exc:
            logger.info("inbox %s: SMTP test failed: %r", inbox.pk, exc)
            return False, send_failure(exc, expired=limit.expired)
        connection.close()
    return True, f"Connected to {where}" + (" and logged in." if inbox.smtp_username else ".")
