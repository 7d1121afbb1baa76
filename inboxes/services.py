"""Writes of inboxes and their addresses."""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from inboxes.domains import domain_is_verified
from inboxes.models import Inbox, InboxAddress
from tisket.audit import Action, audit_record
from tisket.errors import ConflictError
from tisket.lib.addresses import address_is_valid, address_normalize
from tisket.models import Organization

logger = logging.getLogger(__name__)

EDITABLE = (
    "display_name",
    "color",
    "auto_ack_enabled",
    "auto_ack_text",
    "max_message_bytes",
    "mail_on_resolved",
    "mail_on_waiting",
    "mail_on_reopened",
    "status_mail_to_participants",
    "is_active",
)


def _default_check(inbox: Inbox, *, is_default: bool) -> None:
    if is_default and not inbox.is_active:
        raise ValidationError(
            {"is_active": "The default inbox for new conversations must be active."}
        )


@transaction.atomic
def inbox_default_set(*, inbox: Inbox) -> Inbox:
    """Make this inbox the one new conversations start from (one per organization)."""
    _default_check(inbox, is_default=True)
    Inbox.objects.filter(organization_id=inbox.organization_id, is_default=True).exclude(
        pk=inbox.pk
    ).update(is_default=False)
    Inbox.objects.filter(pk=inbox.pk).update(is_default=True)
    inbox.is_default = True
    return inbox


def inbox_provisioned_address(*, organization: Organization, name: str) -> str:
    return f"{name}.{organization.slug}@{settings.TISKET_INBOUND_DOMAIN}"


def _address_usable(address: str, *, inbox: Inbox, outside_domain_allowed: bool) -> str:
    """The address, normalized, if this inbox's organization may take it; raises otherwise.

    The inbound domain is divided among organizations: <anything>.<org-slug>@ is
    the organization's own namespace, so one tenant can never take another's
    future inbox. An address at any other domain needs a domain the organization
    has verified (inboxes.domains), or an installation admin adding it.
    A refusal never says whether the address exists elsewhere.
    """
    address = address_normalize(address)
    local, _, domain = address.partition("@")
    if not address_is_valid(address) or "+" in local:
        raise ValidationError({"extra_addresses": f"'{address}' is not a usable email address."})
    if domain == settings.TISKET_INBOUND_DOMAIN:
        slug = inbox.organization.slug
        if not local.endswith(f".{slug}") or local == f".{slug}":
            raise ValidationError(
                {
                    "extra_addresses": f"'{address}' is outside this organization's addresses "
                    f"at {domain}: use <name>.{slug}@{domain}."
                }
            )
    elif not outside_domain_allowed and not domain_is_verified(
        organization_id=inbox.organization_id, name=domain
    ):
        raise ValidationError(
            {
                "extra_addresses": f"'{address}' is at a domain this organization has not "
                "verified; verify it on the Domains page, or ask the installation's admins."
            }
        )
    taken = Inbox.objects.filter(address=address).exclude(pk=inbox.pk).exists()
    taken = taken or InboxAddress.objects.filter(address=address).exclude(inbox=inbox).exists()
    if taken:
        raise ConflictError(f"The address {address} already belongs to an inbox.")
    return address


def _provisioned_address_reclaim(*, organization: Organization, address: str) -> None:
    """Take back an organization's own provisioned address from another's extra addresses.

    Only an installation admin could have put it there (or a version of Tisket
    before the namespace was enforced); the organization that owns the name wins.
    """
    squatted = InboxAddress.objects.filter(address=address).exclude(
        inbox__organization=organization
    )
    rows = list(squatted)
    for row in rows:
        logger.warning(
            "address %s taken back from inbox #%s for organization #%s",
            address,
            row.inbox_id,
            organization.pk,
        )
    if rows:
        InboxAddress.objects.filter(pk__in=[row.pk for row in rows]).delete()


@transaction.atomic
def inbox_create(
    *,
    organization: Organization,
    name: str,
    extra_addresses: list[str] = (),
    outside_domain_allowed: bool = False,
    **fields,
) -> Inbox:
    """Create an inbox with its provisioned address <name>.<org-slug>@<inbound domain>."""
    name = name.strip()
    inbox = Inbox(
        organization=organization, name=name, **{k: fields[k] for k in EDITABLE if k in fields}
    )
    inbox.address = inbox_provisioned_address(organization=organization, name=name)
    # The organization is the caller's own row: no query to check that it exists.
    inbox.full_clean(exclude=["organization"], validate_unique=False, validate_constraints=False)
    if Inbox.objects.filter(organization=organization, name=name).exists():
        raise ValidationError({"name": f"This organization already has an inbox named '{name}'."})
    _provisioned_address_reclaim(organization=organization, address=inbox.address)
    if InboxAddress.objects.filter(address=inbox.address).exists():
        raise ConflictError(f"The address {inbox.address} already belongs to an inbox.")
    _default_check(inbox, is_default=fields.get("is_default", False))
    inbox.save()
    if fields.get("is_default"):
        inbox_default_set(inbox=inbox)
    if extra_addresses or inbox.from_address:  # else a new inbox has nothing to set
        inbox_set_addresses(
            inbox=inbox,
            addresses=list(extra_addresses),
            outside_domain_allowed=outside_domain_allowed,
        )
    audit_record(
        organization=organization,
        action=Action.INBOX_CREATED,
        target=inbox,
        target_label=inbox.address,
    )
    return inbox


@transaction.atomic
def inbox_update(
    *,
    inbox: Inbox,
    extra_addresses: list[str] | None = None,
    outside_domain_allowed: bool = False,
    **fields,
) -> Inbox:
    """Change an inbox's settings; its name and provisioned address never change."""
    changed = [k for k in EDITABLE if k in fields]
    for key in changed:
        setattr(inbox, key, fields[key])
    _default_check(inbox, is_default=fields.get("is_default", inbox.is_default))
    inbox.full_clean(validate_unique=False)
    if changed:
        inbox.save(update_fields=changed)
    if "is_default" in fields and bool(fields["is_default"]) != inbox.is_default:
        if fields["is_default"]:
            inbox_default_set(inbox=inbox)
        else:  # no inbox chosen: the oldest active one serves (selectors.inbox_default)
            Inbox.objects.filter(pk=inbox.pk).update(is_default=False)
            inbox.is_default = False
        changed.append("is_default")
    if extra_addresses is not None:
        inbox_set_addresses(
            inbox=inbox, addresses=extra_addresses, outside_domain_allowed=outside_domain_allowed
        )
        changed.append("extra_addresses")
    if changed:
        # The names of the fields only: some hold credentials, none of which goes to the log.
        audit_record(
            organization=inbox.organization_id,
            action=Action.INBOX_CHANGED,
            target=inbox,
            target_label=inbox.address,
            data={"fields": changed},
        )
    return inbox


def inbox_set_addresses(
    *, inbox: Inbox, addresses: list[str], outside_domain_allowed: bool = False
) -> None:
    """Make the inbox's extra addresses exactly these (each unique installation-wide).

    outside_domain_allowed: an installation admin adds addresses at other domains;
    the ones the inbox already has are kept whoever saves.
    """
    known = set(InboxAddress.objects.filter(inbox=inbox).values_list("address", flat=True))
    wanted = {
        address_normalize(a)
        if address_normalize(a) in known
        else _address_usable(a, inbox=inbox, outside_domain_allowed=outside_domain_allowed)
        for a in addresses
    }
    InboxAddress.objects.filter(inbox=inbox).exclude(address__in=wanted).delete()
    if inbox.from_address and inbox.from_address not in wanted:
        inbox.from_address = ""  # its address is gone: the provisioned one again
        inbox.save(update_fields=["from_address"])
    InboxAddress.objects.bulk_create(
        [InboxAddress(inbox=inbox, address=a) for a in sorted(wanted - known)]
    )


def inbox_delete(*, inbox: Inbox) -> None:
    """Delete an inbox that holds no thread."""
    if inbox.threads.exists():
        raise ConflictError("This inbox holds threads; it cannot be deleted.")
    audit_record(
        organization=inbox.organization_id,
        action=Action.INBOX_DELETED,
        target=inbox,
        target_label=inbox.address,
    )
    inbox.delete()
