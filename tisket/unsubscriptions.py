"""Who asked for no more of a category of optional mail: written by the link, read by senders."""

from collections.abc import Iterable

from django.db.models import QuerySet

from tisket.lib.unsubscribe import CATEGORIES, Subscription
from tisket.models import Organization, Unsubscription


def unsubscribe(*, subscription: Subscription) -> Unsubscription | None:
    """Stop a category of mail to an address; asking twice changes nothing.

    None when the organization no longer exists: there is nothing left to send.
    """
    if not Organization.objects.filter(pk=subscription.organization_id).exists():
        return None
    row, _ = Unsubscription.objects.get_or_create(
        organization_id=subscription.organization_id,
        address=subscription.address,
        category=subscription.category,
    )
    return row


def resubscribe(*, subscription: Subscription) -> bool:
    """Send that category of mail to the address again; whether it had been stopped."""
    deleted, _ = Unsubscription.objects.filter(
        organization_id=subscription.organization_id,
        address=subscription.address,
        category=subscription.category,
    ).delete()
    return bool(deleted)


def is_unsubscribed(*, subscription: Subscription) -> bool:
    return Unsubscription.objects.filter(
        organization_id=subscription.organization_id,
        address=subscription.address,
        category=subscription.category,
    ).exists()


def unsubscribed_pairs(*, pairs: Iterable[tuple[int, str]], category: str) -> set[tuple[int, str]]:
    """Which (organization id, address) of these want no more of the category, in one query."""
    pairs = {(org, address.strip().lower()) for org, address in pairs}
    if not pairs:
        return set()
    return (
        set(
            Unsubscription.objects.filter(
                organization_id__in={org for org, _ in pairs},
                address__in={address for _, address in pairs},
                category=category,
            ).values_list("organization_id", "address")
        )
        & pairs
    )


def unsubscriptions_of(*, address: str) -> QuerySet[Unsubscription]:
    """An address's unsubscriptions in every organization, for its owner's profile."""
    return (
        Unsubscription.objects.filter(address=address.strip().lower(), category__in=CATEGORIES)
        .select_related("organization")
        .order_by("organization__name", "category")
    )
