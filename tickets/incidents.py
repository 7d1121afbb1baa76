"""Incidents, read: the tickets grouped under another, each with its affected tickets.

The writes (group, ungroup, resolve with the incident) are tickets.workflows'.
"""

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from tickets import selectors
from tickets.models import OPEN_STATUSES, Ticket
from tisket.models import Membership, Organization


def incidents_list(
    *, organization: Organization, viewer: Membership, open_only: bool = True
) -> QuerySet[Ticket]:
    """Incidents the viewer sees, open first then newest, their visible tickets prefetched.

    Two queries whatever the number of incidents and tickets.
    """
    visible = selectors.tickets_list(organization=organization, viewer=viewer)
    children = visible.filter(parent_id__isnull=False).order_by("number")
    incidents = visible.filter(Exists(Ticket.objects.filter(parent_id=OuterRef("pk"))))
    if open_only:
        incidents = incidents.filter(status__in=OPEN_STATUSES)
    return (
        incidents.annotate(
            affected_open=Count("children", filter=Q(children__status__in=OPEN_STATUSES))
        )
        .prefetch_related(Prefetch("children", queryset=children, to_attr="affected"))
        .order_by("-created_at", "-id")
    )
