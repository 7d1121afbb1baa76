"""Reads of SLA settings, always within one organization; a miss is a 404."""

from django.db.models import QuerySet
from django.http import Http404

from sla.models import BusinessCalendar, CustomerOrganization, SlaPolicy
from tisket.models import Organization


def calendars_list(*, organization: Organization) -> QuerySet[BusinessCalendar]:
    return BusinessCalendar.objects.filter(organization=organization).prefetch_related(
        "hours", "holidays"
    )


def policies_list(*, organization: Organization) -> QuerySet[SlaPolicy]:
    return (
        SlaPolicy.objects.filter(organization=organization)
        .select_related("calendar")
        .prefetch_related("targets")
    )


def customers_list(*, organization: Organization) -> QuerySet[CustomerOrganization]:
    return (
        CustomerOrganization.objects.filter(organization=organization)
        .select_related("policy")
        .prefetch_related("domains")
    )


def _one(queryset: QuerySet, pk, what: str):
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404(f"No such {what}.") from None


def calendar_get(*, organization: Organization, pk: int) -> BusinessCalendar:
    return _one(calendars_list(organization=organization), pk, "calendar")


def policy_get(*, organization: Organization, pk: int) -> SlaPolicy:
    return _one(policies_list(organization=organization), pk, "policy")


def customer_get(*, organization: Organization, pk: int) -> CustomerOrganization:
    return _one(customers_list(organization=organization), pk, "customer organization")
