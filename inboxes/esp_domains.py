"""Custom domains set up at the installation's ESP through its API (Postmark's Domains API).

Optional (TISKET_ESP_PROVISIONING): the records an admin publishes by hand work
without it. When on, a domain added to Tisket is created at Postmark too, with a
Return-Path on `pm-bounces.<domain>`, and the domain page shows the DKIM and
Return-Path records Postmark asks for and whether Postmark sees them. Once the
domain verifies, Postmark receives its mail too: Postmark takes one inbound domain
per server, so each verified domain gets a server of its own, named after the
domain, the organization and this installation, whose inbound webhook is this
installation's; the MX record that sends the domain's mail there stays the
tenant's to publish. The API's address and token are the installation's; a
tenant only names the domain. What goes wrong is told to the tenant by its
class, never in Postmark's words; the whole error goes to the log for the
installation's admins.
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
# ... and of its servers: none such; the inbound domain is another server's; the name is taken;
# the account may not delete servers; a webhook address it refuses.
NO_SERVER, INBOUND_DOMAIN_TAKEN, SERVER_NAME_TAKEN = 601, 602, 603
NO_DELETE_ACCESS, BAD_WEBHOOK_URL = 604, 606
BAD_TOKEN = 10
PAGE = 500
# Where the MX record of a domain received through Postmark points, and its priority.
INBOUND_MX_HOST, INBOUND_MX_PRIORITY = "inbound.postmarkapp.com", 10
INBOUND_WEBHOOK_PATH = "/anymail/postmark/inbound/"


class EspProvisioningError(TisketError):
    """The ESP could not set the domain up; says what kind of failure, never the ESP's words."""

    # Not the request's fault: the ESP's, or the installation's settings; the state of things.
    status_code = 409


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
    if code == INBOUND_DOMAIN_TAKEN:
        return (
            "Postmark already receives this domain's mail on another server; the "
            "installation's admins can free it there."
        )
    if code == BAD_WEBHOOK_URL:
        return "Postmark refused this installation's webhook address; its admins can fix that."
    if code == NO_DELETE_ACCESS:
        return "Postmark does not let this installation delete servers; its admins can fix that."
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


def inbound_hook_url() -> str:
    """This installation's Postmark inbound webhook with its basic-auth credentials; "": none."""
    secrets = settings.ANYMAIL.get("WEBHOOK_SECRET") or []
    secret = secrets if isinstance(secrets, str) else (secrets[0] if secrets else "")
    if not secret:
        return ""
    user, _, password = secret.partition(":")
    site = urlsplit(settings.SITE_URL)
    credentials = f"{quote(user, safe='')}:{quote(password, safe='')}"
    base = f"{site.scheme}://{credentials}@{site.netloc}{site.path.rstrip('/')}"
    return f"{base}{INBOUND_WEBHOOK_PATH}"


def inbound_server_name(domain: MailDomain) -> str:
    """The name of the domain's server at Postmark: this installation's, this organization's.

    Another installation sharing the account (a staging copy) never takes it for its own.
    """
    site = urlsplit(settings.SITE_URL).hostname or ""
    return f"Tisket {site} {domain.organization.slug} {domain.name}"


def _server_found_by_name(name: str) -> dict | None:
    """The server of that exact name at Postmark (its list filters by a part of the name)."""
    offset = 0
    while True:
        page = _postmark("GET", f"/servers?count={PAGE}&offset={offset}&name={quote(name)}")
        listed = page.get("Servers") if isinstance(page.get("Servers"), list) else []
        for entry in listed:
            if isinstance(entry, dict) and entry.get("Name") == name:
                return entry
        offset += PAGE
        if len(listed) < PAGE or offset >= 10 * PAGE:
            return None


def _inbound_server(domain: MailDomain) -> dict:
    """The domain's inbound server at Postmark, made there first or put right if need be."""
    wanted = {"InboundHookUrl": inbound_hook_url(), "InboundDomain": domain.name}
    server = None
    if domain.esp_inbound_id:
        try:
            server = _postmark("GET", f"/servers/{quote(domain.esp_inbound_id)}")
        except FetchError as error:
            if _error_code(error) != NO_SERVER:
                raise
            # Removed at Postmark meanwhile: made again below.
    name = inbound_server_name(domain)
    # By name before making one: a retry after an answer that was lost (a timeout, a worker
    # that died before the id was stored) finds the server it made, never makes a second.
    server = server or _server_found_by_name(name)
    if server is None:
        try:
            return _postmark("POST", "/servers", {"Name": name, "RawEmailEnabled": True, **wanted})
        except FetchError as error:
            if _error_code(error) != SERVER_NAME_TAKEN:
                raise
        # Made by a sync that ran at the same time.
        server = _server_found_by_name(name)
        if server is None:
            raise FetchError("Postmark lists no server of that name.", status=422)
    if any(server.get(key) != value for key, value in wanted.items()):
        # The webhook's secret rotated, or someone changed the server at Postmark.
        server = _postmark("PUT", f"/servers/{quote(str(server.get('ID')))}", wanted)
    return server


def _logged(domain: MailDomain, what: str, error: FetchError) -> str:
    logger.warning(
        "mail domain #%s: Postmark %s: %s (HTTP %s, code %s)",
        domain.pk,
        what,
        error,
        error.status,
        _error_code(error),
    )
    return error_class(error)


def _inbound_sync(domain: MailDomain) -> tuple[str, dict]:
    """The failure's class ("" if none) and the inbound server Postmark answered with."""
    if not inbound_hook_url():
        logger.warning("mail domain #%s: no TISKET_WEBHOOK_SECRET, no inbound server", domain.pk)
        return (
            "This installation takes no webhooks yet (no webhook secret); its admins can set "
            "one, then Postmark can receive this domain's mail.",
            {},
        )
    try:
        server = _inbound_server(domain)
        if not str(server.get("ID", "")):
            raise FetchError("Postmark's answer has no server ID.", status=200)
    except FetchError as error:
        return _logged(domain, "inbound server", error), {}
    return "", server


def mail_domain_esp_sync(*, domain: MailDomain) -> MailDomain:
    """Create the domain at the ESP, or ask it to check the records again; record what it says.

    A verified domain (or one that has a server already) gets its inbound server there too.
    The HTTP exchange runs outside any transaction; raises EspProvisioningError (after
    recording its class on the domain) when the ESP could not do it.
    """
    if not esp_provisioning_enabled():
        raise EspProvisioningError("This installation does not set domains up at its ESP.")
    # As it is now: the caller's copy may predate a check, or a server made since.
    domain = MailDomain.objects.select_related("organization").get(pk=domain.pk)
    failure = ""
    try:
        details = _details(domain)
        esp_id = str(details.get("ID", ""))[:40]
        if not esp_id:
            raise FetchError("Postmark's answer has no domain ID.", status=200)
    except FetchError as error:
        failure = _logged(domain, "domain", error)
    inbound_failure, server = "", {}
    if domain.status == MailDomain.Status.VERIFIED or domain.esp_inbound_id:
        inbound_failure, server = _inbound_sync(domain)
    with transaction.atomic():
        row = MailDomain.objects.select_for_update().filter(pk=domain.pk).first()
        if row is not None:
            row.esp_checked_at = timezone.now()
            row.esp_error, row.esp_inbound_error = failure, inbound_failure
            if not failure:
                row.esp_id, row.esp_records = esp_id, _records(details)
            if server:
                address = server.get("InboundAddress")
                row.esp_inbound_id = str(server["ID"])[:40]
                row.esp_inbound_address = address[:254] if isinstance(address, str) else ""
            row.save(
                update_fields=[
                    "esp_id",
                    "esp_records",
                    "esp_error",
                    "esp_checked_at",
                    "esp_inbound_id",
                    "esp_inbound_address",
                    "esp_inbound_error",
                ]
            )
    if row is None:
        # Removed while Postmark was asked: what was made for it goes too.
        if server:
            esp_inbound_server_remove(server_id=str(server["ID"]))
        raise EspProvisioningError(f"{domain.name} was removed meanwhile.")
    if failure or inbound_failure:
        raise EspProvisioningError(failure or inbound_failure)
    return row


def esp_inbound_server_remove(*, server_id: str) -> bool:
    """Delete a removed domain's inbound server at Postmark; False: worth trying again later.

    A server already gone is done; a refusal that trying again cannot change is logged for
    the installation's admins (the server is theirs to delete at Postmark), and done too.
    """
    try:
        _postmark("DELETE", f"/servers/{quote(server_id)}")
    except FetchError as error:
        if _error_code(error) == NO_SERVER:
            return True
        transient = error.status is None or error.status == 429 or error.status >= 500
        logger.log(
            logging.WARNING if transient else logging.ERROR,
            "Postmark server %s of a removed domain not deleted: %s (HTTP %s, code %s)",
            server_id,
            error,
            error.status,
            _error_code(error),
        )
        return not transient
    logger.info("Postmark server %s of a removed domain deleted", server_id)
    return True


def mail_domain_esp_sync_quietly(*, domain: MailDomain) -> None:
    """The sync of the hourly check and of a new domain: a failure is recorded, not raised."""
    with contextlib.suppress(EspProvisioningError):
        mail_domain_esp_sync(domain=domain)
