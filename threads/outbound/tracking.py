"""What ESPs tell of the mail we sent (delivered, bounced, complained), and the
addresses that get no automatic mail for a while.
"""

from datetime import timedelta

from django.utils import timezone

from threads.models import OutboundMail, Suppression
from tisket.lib.addresses import (
    address_is_valid,
    address_normalize,
)

SUPPRESS_FOR = timedelta(days=60)


def delivery_recorded(
    *, esp_message_id: str, event: str, recipient: str, detail: str, hard: bool
) -> OutboundMail | None:
    """An ESP's word on a mail we sent; a hard bounce or a complaint suppresses the address."""
    # One conditional UPDATE: a mail sent again meanwhile no longer carries this
    # id, and an event about its first attempt must not land on the new one.
    outbound = None
    if esp_message_id:  # never every mail without one
        rows = OutboundMail.objects.filter(esp_message_id=esp_message_id)
        now = timezone.now()
        rows.update(delivery_event=event[:20], delivery_detail=detail[:2000], delivery_at=now)
        outbound = rows.first()
    address = address_normalize(recipient)
    if hard and address_is_valid(address):
        Suppression.objects.update_or_create(
            address=address,
            defaults={"reason": f"{event}: {detail}"[:200], "until": timezone.now() + SUPPRESS_FOR},
        )
    return outbound


def address_suppressed(address: str) -> bool:
    return Suppression.objects.filter(address=address, until__gt=timezone.now()).exists()
