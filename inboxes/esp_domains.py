"""Custom domains set up at the installation's ESP through its API (Postmark's Domains API).

Optional (TISKET_ESP_PROVISIONING): the records an admin publishes by hand work
without it. When on, a domain added to Tisket is created at Postmark too, with a
Return-Path on `pm-bounces.<domain>`, and the domain page shows the DKIM and
Return-Path records Postmark asks for and whether Postmark sees them. The API's
address and token are the installation's; a tenant only names the domain. What
goes wrong is told to the tenant by its class, never in Postmark's words; the
whole error goes to the log for the installation's admins.
"""

import contextlib
import logging
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from inboxes.models import MailDomain
from tisket.errors import TisketError
from tisket.lib.webfetch import FetchError, fetch_json

logger = logging.getLogger(__name__)

RETURN_PATH_LABEL = "pm-bounces"
MAX_VALUE = 2000
# Postmark's error codes (its API overview): a public domain; no such domain; one there already.
PUBLIC_DOMAIN, NOT_FOUND, ALREADY_THERE = 503, 510, 512
BAD_TOKEN = 10
PAGE = 500


class EspProvisioningError(TisketError):
    """The ESP could not set the domain up; says what kind of failure, never the ESP's words."""


def esp_provisioning_enabled() -> bool:
    return settings.TISKET_ESP_PROVISIONING == "postmark"


def esp_name() -> str:
    return "Postmark" if esp_provisioning_enabled() else ""


def _postmark(method: str, path: str, body: dict | None = None) -> dict:
    base = settings.TISKET_POSTMARK_API_URL.rstrip("/")
    host = (urlsplit(base).hostname or "").lower()
    return fetch_json(
        f"{base}{path}",
        # The installation's own setting, so its host may be inside (a proxy, a test server).
        allowed=[host],
        seconds=settings.TISKET_DOMAIN_CHECK_DEADLINE,
        json_body=body,
        method=method,
        headers={"X-Postmark-Account-Token": settings.TISKET_POSTMARK_ACCOUNT_TOKEN},
        setting="TISKET_POSTMARK_API_URL",
    )


def _error_code(error: FetchError) -> int | None:
    code = error.document.get("ErrorCode")
    return code if isinstance(code, int) else None


def error_class(error: FetchError) -> str:
    """What a tenant is told of a failure: its kind, and who can act on it."""
    code = _error_code(error)
    if error.status is None:
        return "Postmark could not be reached; Tisket tries again with the next check."
    if error.status in (401, 403) or code == BAD_TOKEN:
        return "Postmark refused the installation's credentials; its admins can fix that."
    if code == PUBLIC_DOMAIN:
        return "Postmark does not set up public mail domains (such as gmail.com)."
    if error.status == 429:
        return "Postmark asked to slow down; try again in a minute."
    if error.status >= 500:
        return "Postmark had a problem on its side; try again later."
    return "Postmark refused the request; the installation's admins can see why in the log."


def _records(details: dict) -> list[dict]:
    """The records Postmark asks for: its DKIM key (the pending one first) and Return-Path."""

    def text(key: str) -> str:
        value = details.get(key)
        return value[:MAX_VALUE] if isinstance(value, str) else ""

    records = []
    dkim_name = text("DKIMPendingHost") or text("DKIMHost")
    dkim_value = text("DKIMPendingTextValue") or text("DKIMTextValue")
    if dkim_name and dkim_value:
        ok = details.get("DKIMVerified") is True and not text("DKIMPendingHost")
        records.append(
            {"purpose": "dkim", "type": "TXT", "name": dkim_name, "value": dkim_value, "ok": ok}
        )
    if text("ReturnPathDomain"):
        records.append(
            {
                "purpose": "return_path",
                "type": "CNAME",
                "name": text("ReturnPathDomain"),
                "value": text("ReturnPathDomainCNAMEValue") or "pm.mtasv.net",
                "ok": details.get("ReturnPathDomainVerified") is True,
            }
        )
    return records


def _found_by_name(name: str) -> dict:
    """The domain of that name already at Postmark (added earlier, or by hand there)."""
    offset = 0
    while True:
        page = _postmark("GET", f"/domains?count={PAGE}&offset={offset}")
        listed = page.get("Domains") if isinstance(page.get("Domains"), list) else []
        for entry in listed:
            if isinstance(entry, dict) and str(entry.get("Name", "")).lower() == name:
                return _postmark("GET", f"/domains/{quote(str(entry.get('ID')))}")
        offset += PAGE
        if len(listed) < PAGE or offset >= 10 * PAGE:
            raise FetchError("Postmark lists no such domain.", status=422)


def _details(domain: MailDomain) -> dict:
    """The domain's details at Postmark, created there first if need be, checked again."""
    if domain.esp_id:
        path = f"/domains/{quote(domain.esp_id)}"
        try:
            _postmark("PUT", f"{path}/verifyDkim")
            return _postmark("PUT", f"{path}/verifyReturnPath")
        except FetchError as error:
            if _error_code(error) != NOT_FOUND:
                raise
            # Removed at Postmark meanwhile: set it up again.
    body = {"Name": domain.name, "ReturnPathDomain": f"{RETURN_PATH_LABEL}.{domain.name}"}
    try:
        return _postmark("POST", "/domains", body)
    except FetchError as error:
        if _error_code(error) != ALREADY_THERE:
            raise
    return _found_by_name(domain.name)


def mail_domain_esp_sync(*, domain: MailDomain) -> MailDomain:
    """Create the domain at the ESP, or ask it to check the records again; record what it says.

    The HTTP exchange runs outside any transaction; raises EspProvisioningError (after
    recording its class on the domain) when the ESP could not do it.
    """
    if not esp_provisioning_enabled():
        raise EspProvisioningError("This installation does not set domains up at its ESP.")
    failure = ""
    try:
        details = _details(domain)
        esp_id = str(details.get("ID", ""))[:40]
        if not esp_id:
            raise FetchError("Postmark's answer has no domain ID.", status=200)
    except FetchError as error:
        failure = error_class(error)
        logger.warning(
            "mail domain #%s: Postmark: %s (HTTP %s, code %s)",
            domain.pk,
            error,
            error.status,
            _error_code(error),
        )
    with transaction.atomic():
        row = MailDomain.objects.select_for_update().get(pk=domain.pk)
        row.esp_checked_at = timezone.now()
        row.esp_error = failure
        if not failure:
            row.esp_id, row.esp_records = esp_id, _records(details)
        row.save(update_fields=["esp_id", "esp_records", "esp_error", "esp_checked_at"])
    if failure:
        raise EspProvisioningError(failure)
    return row


def mail_domain_esp_sync_quietly(*, domain: MailDomain) -> None:
    """The sync of the hourly check and of a new domain: a failure is recorded, not raised."""
    with contextlib.suppress(EspProvisioningError):
        mail_domain_esp_sync(domain=domain)
