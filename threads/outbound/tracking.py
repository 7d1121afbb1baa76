"""What ESPs tell of the mail we sent (delivered, bounced, complained), and the
addresses each organization sends no automatic mail to for a while.
"""

from datetime import timedelta

from django.utils import timezone

from threads.models import OutboundMail, Suppression
from tisket.audit import Action, audit_record
from tisket.errors import NotAllowedError
from tisket.lib.addresses import (
    address_is_valid,
    address_normalize,
)
from tisket.models import Membership, Role

SUPPRESS_FOR = timedelta(days=60)


def delivery_recorded(
    *, esp_message_id: str, event: str, recipient: str, detail: str, hard: bool
) -> OutboundMail | None:
    """An ESP's word on a mail we sent; a hard bounce or a complaint suppresses the address
    for the organization that sent the mail."""
    if not esp_message_id:  # never every mail without one
        return None
    # One conditional UPDATE: a mail sent again meanwhile no longer carries this
    # id, and an event about its first attempt must not land on the new one.
    rows = OutboundMail.objects.filter(esp_message_id=esp_message_id)
    now = timezone.now()
    rows.update(delivery_event=event[:20], delivery_detail=detail[:2000], delivery_at=now)
    sent = list(rows.only("pk", "organization_id", "to", "cc"))
    address = address_normalize(recipient)
    if hard and address_is_valid(address):
        # Only for the address the mail went to: an event names no one else.
        organizations = {
            row.organization_id
            for row in sent
            if address in {address_normalize(a) for a in [*row.to, *row.cc]}
        }
        until = now + SUPPRESS_FOR
        for organization_id in organizations:
            Suppression.objects.update_or_create(
                organization_id=organization_id,
                address=address,
                defaults={"reason": f"{event}: {detail}"[:200], "until": until},
            )
    return rows.first()


def address_suppressed(*, organization_id: int, address: str) -> bool:
    """Whether the organization's automatic mail to the address is held back lately."""
    held = addresses_suppressed(organization_ids={organization_id}, addresses={address})
    return (organization_id, address_normalize(address)) in held


def addresses_suppressed(
    *, organization_ids: set[int], addresses: set[str]
) -> set[tuple[int, str]]:
    """address_suppressed for many in one query: the (organization, normalized address)
    pairs whose automatic mail is held back lately."""
    return set(
        Suppression.objects.filter(
            organization_id__in=organization_ids,
            address__in={address_normalize(address) for address in addresses},
            until__gt=timezone.now(),
        ).values_list("organization_id", "address")
    )


def suppression_lift(*, suppression: Suppression, actor: Membership) -> None:
    """An admin lets automatic mail of their organization go to the address again."""
    if actor.organization_id != suppression.organization_id or not actor.has_role(Role.ADMIN):
        raise NotAllowedError("Only the organization's admins can lift this.")
    Suppression.objects.filter(pk=suppression.pk).delete()
    audit_record(
        organization=suppression.organization_id,
        action=Action.SUPPRESSION_LIFTED,
        actor=actor,
        target=suppression,
        target_label=suppression.address,
    )
