"""The client panel's reads: a client's conversations and company, a company's conversations.

A client is an address: their conversations are the organization's threads whose
client is that address. A client company (sla's CustomerOrganization) owns the
conversations whose client is at one of its email domains, and those whose ticket
names it as the customer organization, as the SLA policy match does
(tickets.sla.clocks.policy_for). Every read is narrowed to what the member sees
(tickets.visibility): a client none of whose conversations the member may see is
a 404, like a conversation they may not open.
"""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from sla.models import CustomerDomain, CustomerOrganization, SlaPolicy
from threads.company import company_client_filter
from threads.models import Thread
from tickets import visibility
from tickets.models import OPEN_STATUSES, TicketThread
from tisket.models import Membership, Organization

CLIENT_PAGE = 100  # conversations listed on a client's or a company's page


@dataclass(frozen=True)
class ClientProfile:
    email: str
    name: str
    company: CustomerOrganization | None
    conversations: int
    open: int


@dataclass(frozen=True)
class CompanyProfile:
    company: CustomerOrganization
    domains: list[str]
    tier: SlaPolicy | None
    tier_is_default: bool
    conversations: int
    open: int
    clients: int


def _visible(threads: QuerySet[Thread], viewer: Membership | None) -> QuerySet[Thread]:
    scope = visibility.thread_scope(viewer)
    return threads if scope is None else threads.filter(scope)


def _open_tickets_threads(organization: Organization) -> QuerySet[TicketThread]:
    return TicketThread.objects.filter(
        ticket__organization=organization, ticket__status__in=OPEN_STATUSES
    ).values("thread_id")


def client_threads(
    *, organization: Organization, email: str, viewer: Membership | None
) -> QuerySet[Thread]:
    """The client's conversations the viewer sees, newest activity first."""
    threads = Thread.objects.filter(organization=organization, client_email__iexact=email.strip())
    return _visible(threads, viewer).order_by("-updated_at", "-id")


def company_of_client(*, organization: Organization, email: str) -> CustomerOrganization | None:
    """The client's company: by the domain of their address, else by the customer organization
    their latest ticket names."""
    domain = email.rpartition("@")[2].lower()
    found = (
        CustomerDomain.objects.filter(organization=organization, domain=domain)
        .select_related("customer__policy")
        .first()
    )
    if found is not None:
        return found.customer
    named = (
        TicketThread.objects.filter(
            ticket__organization=organization, thread__client_email__iexact=email
        )
        .exclude(ticket__customer_organization="")
        .order_by("-ticket__created_at")
        .values_list("ticket__customer_organization", flat=True)
        .first()
    )
    if not named:
        return None
    return (
        CustomerOrganization.objects.filter(organization=organization, name__iexact=named.strip())
        .select_related("policy")
        .first()
    )


def client_profile(
    *, organization: Organization, email: str, viewer: Membership | None
) -> ClientProfile:
    """Who the client is, with counts; 404 when the viewer sees none of their conversations."""
    threads = client_threads(organization=organization, email=email, viewer=viewer)
    counts = threads.aggregate(
        conversations=Count("id"),
        open=Count("id", filter=Q(pk__in=_open_tickets_threads(organization))),
    )
    if not counts["conversations"]:
        raise Http404("No such client.")
    latest = threads.exclude(client_name="").values_list("client_name", "client_email").first()
    return ClientProfile(
        email=latest[1] if latest else email.strip(),
        name=latest[0] if latest else "",
        company=company_of_client(organization=organization, email=email.strip()),
        **counts,
    )


def company_get(*, organization: Organization, pk: int) -> CustomerOrganization:
    """A client company of the organization, with its tier and domains; 404 otherwise."""
    try:
        return (
            CustomerOrganization.objects.select_related("policy")
            .prefetch_related("domains")
            .get(organization=organization, pk=pk)
        )
    except CustomerOrganization.DoesNotExist:
        raise Http404("No such client company.") from None


def companies_list(*, organization: Organization) -> QuerySet[CustomerOrganization]:
    return (
        CustomerOrganization.objects.filter(organization=organization)
        .select_related("policy")
        .prefetch_related("domains")
        .order_by("name")
    )


def company_threads(
    *, organization: Organization, company: CustomerOrganization, viewer: Membership | None
) -> QuerySet[Thread]:
    """The company's conversations the viewer sees, newest activity first."""
    domains = [d.domain for d in company.domains.all()]
    named = TicketThread.objects.filter(
        ticket__organization=organization, ticket__customer_organization__iexact=company.name
    ).values("thread_id")
    threads = Thread.objects.filter(organization=organization).filter(
        company_client_filter(domains) | Q(pk__in=named)
    )
    return _visible(threads, viewer).order_by("-updated_at", "-id")


def company_profile(
    *, organization: Organization, company: CustomerOrganization, viewer: Membership | None
) -> CompanyProfile:
    """The company with its SLA tier (its own, else the default policy) and counts."""
    threads = company_threads(organization=organization, company=company, viewer=viewer)
    counts = threads.aggregate(
        conversations=Count("id"),
        open=Count("id", filter=Q(pk__in=_open_tickets_threads(organization))),
        clients=Count("client_email", distinct=True),
    )
    tier = company.policy
    if tier is None:
        tier = SlaPolicy.objects.filter(organization=organization, is_default=True).first()
    return CompanyProfile(
        company=company,
        domains=[d.domain for d in company.domains.all()],
        tier=tier,
        tier_is_default=company.policy_id is None,
        **counts,
    )


def company_clients(
    *, organization: Organization, company: CustomerOrganization, viewer: Membership | None
) -> list[dict]:
    """The company's clients the viewer sees, by number of conversations (at most a page)."""
    threads = company_threads(organization=organization, company=company, viewer=viewer)
    return list(
        threads.order_by()
        .values("client_email")
        .annotate(conversations=Count("id"))
        .order_by("-conversations", "client_email")[:CLIENT_PAGE]
    )
