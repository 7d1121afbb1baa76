"""How an inbox sends: the installation's default, its own SMTP server, or its own ESP account."""

import importlib
import json
import smtplib
import socket
import ssl

from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend

from inboxes.models import Inbox
from tisket.lib.secrets_box import secret_open, secret_seal

Transport = Inbox.Transport


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
    if transport == Transport.ESP:
        esp_name = esp_name.strip().lower()
        try:
            importlib.import_module(f"anymail.backends.{esp_name}")
        except ImportError:
            raise ValidationError(
                {"esp_name": f"'{esp_name}' is not an ESP Anymail knows."}
            ) from None
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
    return inbox


def inbox_connection(inbox: Inbox, *, timeout: int | None = None) -> BaseEmailBackend:
    """The email backend this inbox sends through."""
    if inbox.transport == Transport.SMTP:
        return get_connection(
            "django.core.mail.backends.smtp.EmailBackend",
            host=inbox.smtp_host,
            port=inbox.smtp_port,
            username=inbox.smtp_username or None,
            password=secret_open(inbox.smtp_password_sealed) or None,
            use_tls=inbox.smtp_security == Inbox.Security.STARTTLS,
            use_ssl=inbox.smtp_security == Inbox.Security.SSL,
            timeout=timeout,
        )
    if inbox.transport == Transport.ESP:
        extra = json.loads(secret_open(inbox.esp_settings_sealed) or "{}")
        return get_connection(f"anymail.backends.{inbox.esp_name}.EmailBackend", **extra)
    return get_connection()


def smtp_test(*, inbox: Inbox) -> tuple[bool, str]:
    """Connect and log in as sending would: (ok, what happened, in words an admin can act on)."""
    if inbox.transport != Transport.SMTP:
        return False, "This inbox does not send through its own SMTP server."
    where = f"{inbox.smtp_host}:{inbox.smtp_port}"
    connection = inbox_connection(inbox, timeout=10)
    try:
        connection.open()
    except socket.gaierror:
        return False, f"DNS: the host name {inbox.smtp_host} does not resolve."
    except ConnectionRefusedError:
        return False, f"Refused: nothing accepts connections on {where}."
    except TimeoutError:
        return False, f"Timeout: {where} did not answer within 10 seconds."
    except (ssl.SSLError, smtplib.SMTPNotSupportedError) as exc:
        return False, f"TLS: {where} refused the secure connection ({exc})."
    except smtplib.SMTPAuthenticationError:
        return False, f"Authentication: {where} refused the user name or password."
    except (smtplib.SMTPException, OSError) as exc:
        return False, f"{type(exc).__name__}: {exc}"
    connection.close()
    return True, f"Connected to {where}" + (" and logged in." if inbox.smtp_username else ".")
