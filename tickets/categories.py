"""Ticket categories: a list per organization that admins keep, and the check that a ticket's
category is on it."""

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from tickets.models import Ticket, TicketCategory
from tisket.errors import ConflictError, TisketError
from tisket.models import Organization


class CategoryError(TisketError):
    pass


def categories_list(*, organization: Organization) -> QuerySet[TicketCategory]:
    return TicketCategory.objects.filter(organization=organization).order_by("name")


def category_checked(*, organization: Organization, name: str) -> str:
    """The category as the list spells it; "" for none. An organization without a list yet
    takes any name (as before categories were kept)."""
    name = " ".join(name.split())
    if not name:
        return ""
    names = list(categories_list(organization=organization).values_list("name", flat=True))
    if not names:
        return name[:100]
    for known in names:
        if known.lower() == name.lower():
            return known
    raise CategoryError(f"Unknown category “{name}”: choose one of {', '.join(names)}.")


@transaction.atomic
def category_create(*, organization: Organization, name: str) -> TicketCategory:
    """Add a category to the organization's list."""
    name = " ".join(name.split())
    if not name or len(name) > 100:
        raise CategoryError("A category needs a name of at most 100 characters.")
    if categories_list(organization=organization).filter(name__iexact=name).exists():
        raise ConflictError(f"The category “{name}” exists already.")
    try:
        with transaction.atomic():
            return TicketCategory.objects.create(organization=organization, name=name)
    except IntegrityError:
        raise ConflictError(f"The category “{name}” exists already.") from None


def category_delete(*, category: TicketCategory) -> int:
    """Take a category off the list; its tickets keep the name (filed, not lost)."""
    used = Ticket.objects.filter(
        organization_id=category.organization_id, category=category.name
    ).count()
    category.delete()
    return used
