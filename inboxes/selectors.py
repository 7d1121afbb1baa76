from django.db.models import Prefetch, QuerySet
from django.http import Http404

from inboxes.models import Inbox, InboxAddress, MailDomain
from tisket.models import Organization


def inboxes_list(*, organization: Organization) -> QuerySet[Inbox]:
    return Inbox.objects.filter(organization=organization).prefetch_related(
        Prefetch("extra_addresses", queryset=InboxAddress.objects.order_by("address"))
    )


def inbox_get(*, organization: Organization, pk: int) -> Inbox:
    try:
        return inboxes_list(organization=organization).get(pk=pk)
    except (Inbox.DoesNotExist, ValueError, TypeError):
        raise Http404("No such inbox.") from None


def inbox_default(*, organization: Organization) -> Inbox | None:
    """The inbox a new conversation starts from: the one chosen, else the oldest active."""
    return (
        Inbox.objects.filter(organization=organization, is_active=True)
        .order_by("-is_default", "created_at", "id")
        .first()
    )


def organization_addresses(*, organization_id: int) -> set[str]:
    """Every address of the organization's inboxes: mail from them is our own."""
    provisioned = Inbox.objects.filter(organization_id=organization_id).values_list("address")
    extra = InboxAddress.objects.filter(inbox__organization_id=organization_id).values_list(
        "address"
    )
    return {address for (address,) in provisioned.order_by().union(extra.order_by())}


def mail_domains_list(*, organization: Organization) -> QuerySet[MailDomain]:
    return MailDomain.objects.filter(organization=organization).order_by("name")


def mail_domains_verified(*, organization: Organization) -> set[str]:
    """The names of the domains the organization has proven it owns."""
    return set(
        MailDomain.objects.filter(
            organization=organization, status=MailDomain.Status.VERIFIED
        ).values_list("name", flat=True)
    )


def mail_domain_get(*, organization: Organization, pk: int) -> MailDomain:
    try:
        return mail_domains_list(organization=organization).get(pk=pk)
    except (MailDomain.DoesNotExist, ValueError, TypeError):
        raise Http404("No such domain.") from None


def mail_domain_addresses(*, domain: MailDomain) -> QuerySet[InboxAddress]:
    """The organization's inbox addresses on this domain, with their inbox."""
    return (
        InboxAddress.objects.filter(
            inbox__organization_id=domain.organization_id, address__endswith=f"@{domain.name}"
        )
        .select_related("inbox")
        .order_by("address")
    )
