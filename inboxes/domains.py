"""Custom mail domains: adding one, checking its DNS, rotating its DKIM key, sending from it.

An organization proves a domain is its own with a TXT record holding a token;
from then on its admins may add inbox addresses on it, an inbox may send from
one of them, and Tisket signs that mail with the domain's DKIM key (when the
inbox sends over SMTP; an ESP signs with its own). A domain that stops
verifying is checked hourly like the others: its inboxes fall back to their
provisioned address at once, and the organization's admins are told.
"""

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from inboxes.domain_checks import (
    dkim_check,
    dmarc_check,
    inbound_mx_check,
    mx_check,
    ownership_check,
    spf_check,
)
from inboxes.esp_domains import esp_provisioning_enabled, mail_domain_esp_sync_quietly
from inboxes.models import Inbox, InboxAddress, MailDomain
from tisket.audit import Action, audit_record
from tisket.errors import ConflictError
from tisket.lib.addresses import address_normalize
from tisket.lib.mail.dkim_keys import dkim_key_make
from tisket.lib.mail.dns_records import Lookup
from tisket.lib.secrets_box import SecretUnreadable, secret_open, secret_seal
from tisket.models import Membership, Notification, Organization, Role

logger = logging.getLogger(__name__)

Status = MailDomain.Status
MAX_DOMAINS = 20
LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def domain_name_clean(name: str) -> str:
    """A domain as stored: lowercase, IDNA (punycode), no final dot; refused if not one."""
    name = name.strip().rstrip(".").lower()
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValidationError({"name": f"'{name}' is not a domain name."}) from None
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2 or not all(LABEL_RE.match(lb) for lb in labels):
        raise ValidationError({"name": f"'{name}' is not a domain name such as clientcorp.com."})
    inbound = settings.TISKET_INBOUND_DOMAIN.lower()
    if name == inbound or name.endswith(f".{inbound}") or inbound.endswith(f".{name}"):
        raise ValidationError({"name": f"{name} is this installation's own domain."})
    return name


def _selector() -> str:
    return f"tisket{timezone.now():%Y%m}{secrets.token_hex(2)}"


@transaction.atomic
def mail_domain_add(*, organization: Organization, name: str) -> MailDomain:
    """A domain to verify, with its token and a fresh DKIM key."""
    name = domain_name_clean(name)
    if MailDomain.objects.filter(organization=organization, name=name).exists():
        raise ConflictError(f"{name} is already one of this organization's domains.")
    if MailDomain.objects.filter(organization=organization).count() >= MAX_DOMAINS:
        raise ValidationError({"name": f"An organization has {MAX_DOMAINS} domains at most."})
    private, public = dkim_key_make()
    domain = MailDomain.objects.create(
        organization=organization,
        name=name,
        token=secrets.token_urlsafe(24),
        dkim_selector=_selector(),
        dkim_public=public,
        dkim_private_sealed=secret_seal(private),
    )
    logger.info("mail domain %s added for organization #%s", name, organization.pk)
    audit_record(organization=organization, action=Action.DOMAIN_ADDED, target=domain)
    if esp_provisioning_enabled():
        from inboxes.tasks import mail_domain_esp_sync_task  # the tasks import this module

        transaction.on_commit(lambda: mail_domain_esp_sync_task.delay(domain.pk))
    return domain


@transaction.atomic
def mail_domain_delete(*, domain: MailDomain) -> None:
    """Forget the domain; inboxes sending from it send from their provisioned address again."""
    Inbox.objects.filter(
        organization_id=domain.organization_id, from_address__endswith=f"@{domain.name}"
    ).update(from_address="")
    audit_record(
        organization=domain.organization_id,
        action=Action.DOMAIN_REMOVED,
        target_label=domain.name,
    )
    # The row as it is now: a sync may have stored a server since the caller read it.
    server_id = (
        MailDomain.objects.select_for_update()
        .filter(pk=domain.pk)
        .values_list("esp_inbound_id", flat=True)
        .first()
    )
    domain.delete()
    if server_id:
        from inboxes.tasks import esp_inbound_server_remove_task  # the tasks import this module

        transaction.on_commit(lambda: esp_inbound_server_remove_task.delay(server_id))


def mail_domain_rotate(*, domain: MailDomain) -> MailDomain:
    """A new DKIM key beside the current one; the current one signs until DNS shows the new."""
    with transaction.atomic():
        row = MailDomain.objects.select_for_update().get(pk=domain.pk)
        if row.dkim_next_selector:
            raise ConflictError(
                f"A new key ({row.dkim_next_selector}) is waiting to be published already."
            )
        private, public = dkim_key_make()
        row.dkim_next_selector = _selector()
        row.dkim_next_public = public
        row.dkim_next_private_sealed = secret_seal(private)
        row.save(
            update_fields=["dkim_next_selector", "dkim_next_public", "dkim_next_private_sealed"]
        )
        audit_record(
            organization=row.organization_id,
            action=Action.DOMAIN_KEY_ROTATED,
            target=row,
            data={"selector": row.dkim_next_selector},
        )
    return row


def _admins_tell(domain: MailDomain, title: str, body: str) -> None:
    admins = Membership.objects.filter(
        organization_id=domain.organization_id, role__in=[Role.ADMIN, Role.OWNER]
    )
    try:
        url = reverse("settings:domain", args=[domain.organization.slug, domain.pk])
    except NoReverseMatch:
        url = ""
    # Under the bell, and by mail if still unread after the usual delay (the notification
    # mail sweep sends it, coalesced with the rest of the domain's news).
    now = timezone.now()
    Notification.objects.bulk_create(
        Notification(
            organization_id=domain.organization_id,
            recipient=admin,
            kind=Notification.Kind.MAIL_DOMAIN,
            title=title[:300],
            body=body,
            url=url,
            topic=domain.name[:40],
            email_status=Notification.Email.PENDING,
            email_due_at=now + timedelta(seconds=settings.TISKET_NOTIFY_EMAIL_DELAY),
            created_at=now,
        )
        for admin in admins
    )


def mail_domain_check(*, domain: MailDomain, esp_sync: bool = True) -> MailDomain:
    """Look the domain up now (outside any transaction), then record what DNS says.

    A domain that verifies now is set up at the installation's ESP at once (esp_sync=False:
    the caller does that itself).
    """
    lookup = Lookup(settings.TISKET_DNS_SERVERS, settings.TISKET_DOMAIN_CHECK_DEADLINE)
    ownership = ownership_check(domain, lookup)
    dkim, current_ok, next_ok = dkim_check(domain, lookup)
    mx, routes_here = mx_check(domain, lookup)
    checks = [ownership, spf_check(domain, lookup), dkim, dmarc_check(domain, lookup), mx]
    if domain.esp_inbound_id:
        checks.append(inbound_mx_check(domain, lookup))
    with transaction.atomic():
        row = (
            MailDomain.objects.select_for_update().select_related("organization").get(pk=domain.pk)
        )
        before = row.status
        if ownership["ok"] is True:
            taken = (
                MailDomain.objects.filter(name=row.name, status=Status.VERIFIED)
                .exclude(organization_id=row.organization_id)
                .exists()
            )
            if taken:
                ownership.update(
                    ok=False,
                    explanation="Another organization on this installation verified this "
                    "domain first; ask the installation's admins.",
                )
        if ownership["ok"] is True:
            row.status = Status.VERIFIED
            row.verified_at = row.verified_at or timezone.now()
        elif ownership["ok"] is False and before == Status.VERIFIED:
            row.status = Status.FAILING
        # None (DNS did not answer): the status stays what it was.
        if next_ok and row.dkim_next_selector == domain.dkim_next_selector:
            row.dkim_selector, row.dkim_public = row.dkim_next_selector, row.dkim_next_public
            row.dkim_private_sealed = row.dkim_next_private_sealed
            row.dkim_next_selector = row.dkim_next_public = row.dkim_next_private_sealed = ""
            row.dkim_verified = True
            logger.info("mail domain #%s: DKIM key rotated to %s", row.pk, row.dkim_selector)
        elif row.dkim_selector == domain.dkim_selector:
            row.dkim_verified = current_ok
        row.checks, row.mx_routes_here, row.checked_at = checks, routes_here, timezone.now()
        row.save()
        if row.status != before:
            # What DNS said, not who asked: a periodic check has no actor.
            audit_record(
                organization=row.organization_id,
                action=Action.DOMAIN_STATUS_CHANGED,
                target=row,
                data={"from": before, "to": row.status},
            )
        if before == Status.VERIFIED and row.status == Status.FAILING:
            logger.warning("mail domain %s stopped verifying", row.name)
            _admins_tell(
                row,
                f"{row.name} stopped verifying",
                f"The TXT record {row.ownership_record_name} is gone or changed. Inboxes that "
                f"sent from {row.name} send from their provisioned address until it is back.",
            )
        elif before == Status.FAILING and row.status == Status.VERIFIED:
            _admins_tell(
                row,
                f"{row.name} verifies again",
                f"Inboxes set to send from {row.name} do so again.",
            )
        verified_now = before != Status.VERIFIED and row.status == Status.VERIFIED
        if verified_now and esp_sync and esp_provisioning_enabled():
            # The ESP may receive its mail now: an inbound server for it, at once.
            from inboxes.tasks import mail_domain_esp_sync_task  # the tasks import this module

            transaction.on_commit(lambda: mail_domain_esp_sync_task.delay(row.pk))
    return row


def mail_domains_check_all(*, limit: int = 500) -> int:
    """Check the domains checked longest ago (the hourly task); how many were checked."""
    ids = list(MailDomain.objects.order_by("checked_at", "pk").values_list("pk", flat=True)[:limit])
    for domain in MailDomain.objects.filter(pk__in=ids):
        try:
            mail_domain_check(domain=domain, esp_sync=False)
        except Exception:
            logger.exception("mail domain #%s: check failed", domain.pk)
        if esp_provisioning_enabled():
            mail_domain_esp_sync_quietly(domain=domain)
    return len(ids)


def domain_is_verified(*, organization_id: int, name: str) -> bool:
    return MailDomain.objects.filter(
        organization_id=organization_id, name=name, status=Status.VERIFIED
    ).exists()


@transaction.atomic
def inbox_from_set(*, inbox: Inbox, address: str) -> Inbox:
    """Send from one of the inbox's extra addresses on a verified domain; blank: provisioned."""
    address = address_normalize(address)
    if address:
        if not InboxAddress.objects.filter(inbox=inbox, address=address).exists():
            raise ValidationError({"from_address": f"{address} is not an address of this inbox."})
        domain = address.rpartition("@")[2]
        if not domain_is_verified(organization_id=inbox.organization_id, name=domain):
            raise ValidationError(
                {"from_address": f"{domain} is not a verified domain of this organization."}
            )
    inbox.from_address = address
    inbox.save(update_fields=["from_address"])
    return inbox


@dataclass(frozen=True)
class Sender:
    """Who an inbox's mail is from right now, where replies go, and how it is signed."""

    address: str
    reply_base: str
    dkim_domain: str = ""
    dkim_selector: str = ""
    dkim_private: str = ""


def inbox_sender(inbox: Inbox) -> Sender:
    """The inbox's From: its chosen address while the domain verifies, else the provisioned."""
    provisioned = Sender(address=inbox.address, reply_base=inbox.address)
    address = inbox.from_address
    if not address:
        return provisioned
    name = address.rpartition("@")[2]
    domain = MailDomain.objects.filter(
        organization_id=inbox.organization_id, name=name, status=Status.VERIFIED
    ).first()
    if domain is None or not InboxAddress.objects.filter(inbox=inbox, address=address).exists():
        return provisioned
    reply_base = address if domain.mx_routes_here else inbox.address
    if not domain.dkim_verified:
        return Sender(address=address, reply_base=reply_base)
    try:
        private = secret_open(domain.dkim_private_sealed)
    except SecretUnreadable:
        logger.error("mail domain #%s: DKIM key unreadable; mail goes unsigned", domain.pk)
        return Sender(address=address, reply_base=reply_base)
    return Sender(
        address=address,
        reply_base=reply_base,
        dkim_domain=domain.name,
        dkim_selector=domain.dkim_selector,
        dkim_private=private,
    )
