"""Writes of inboxes and their addresses."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from inboxes.models import Inbox, InboxAddress
from tisket.errors import ConflictError
from tisket.lib.addresses import address_is_valid, address_normalize
from tisket.models import Organization

EDITABLE = ("display_name", "color", "auto_ack_enabled", "auto_ack_text", "max_message_bytes")


def inbox_provisioned_address(*, organization: Organization, name: str) -> str:
    return f"{name}.{organization.slug}@{settings.TISKET_INBOUND_DOMAIN}"


def _check_address_free(address: str, *, inbox: Inbox | None = None) -> str:
    address = address_normalize(address)
    if not address_is_valid(address) or "+" in address.partition("@")[0]:
        raise ValidationError({"extra_addresses": f"'{address}' is not a usable email address."})
    taken = Inbox.objects.filter(address=address).exclude(pk=getattr(inbox, "pk", None)).exists()
    taken = taken or InboxAddress.objects.filter(address=address).exclude(inbox=inbox).exists()
    if taken:
        raise ConflictError(f"The address {address} already belongs to an inbox.")
    return address


@transaction.atomic
def inbox_create(
    *, organization: Organization, name: str, extra_addresses: list[str] = (), **fields
) -> Inbox:
    """Create an inbox with its provisioned address <name>.<org-slug>@<inbound domain>."""
    name = name.strip()
    inbox = Inbox(
        organization=organization, name=name, **{k: fields[k] for k in EDITABLE if k in fields}
    )
    inbox.address = inbox_provisioned_address(organization=organization, name=name)
    inbox.full_clean(validate_unique=False, validate_constraints=False)
    if Inbox.objects.filter(organization=organization, name=name).exists():
        raise ValidationError({"name": f"This organization already has an inbox named '{name}'."})
    _check_address_free(inbox.address)
    inbox.save()
    inbox_set_addresses(inbox=inbox, addresses=list(extra_addresses))
    return inbox


@transaction.atomic
def inbox_update(*, inbox: Inbox, extra_addresses: list[str] | None = None, **fields) -> Inbox:
    """Change an inbox's settings; its name and provisioned address never change."""
    changed = [k for k in EDITABLE if k in fields]
    for key in changed:
        setattr(inbox, key, fields[key])
    inbox.full_clean(validate_unique=False)
    if changed:
        inbox.save(update_fields=changed)
    if extra_addresses is not None:
        inbox_set_addresses(inbox=inbox, addresses=extra_addresses)
    return inbox


def inbox_set_addresses(*, inbox: Inbox, addresses: list[str]) -> None:
    """Make the inbox's extra addresses exactly these (each unique installation-wide)."""
    wanted = {_check_address_free(a, inbox=inbox) for a in addresses}
    InboxAddress.objects.filter(inbox=inbox).exclude(address__in=wanted).delete()
    known = set(InboxAddress.objects.filter(inbox=inbox).values_list("address", flat=True))
    InboxAddress.objects.bulk_create(
        [InboxAddress(inbox=inbox, address=a) for a in sorted(wanted - known)]
    )


def inbox_delete(*, inbox: Inbox) -> None:
    """Delete an inbox that holds no thread."""
    if inbox.threads.exists():
        raise ConflictError("This inbox holds threads; it cannot be deleted.")
    inbox.delete()
