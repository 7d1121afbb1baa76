"""A client company's conversations, for the portal of an organization that shares them.

Where Organization.portal_company_view is on, a client sees the conversations whose
client is at one of their company's email domains (sla's customer domains), not only
their own. Off by default: an address sees its own conversations only. A free-mail
domain (gmail.com) is nobody's company: it gives no company view, and is left out of one.
"""

from django.db.models import Q

from sla.models import CustomerDomain
from tisket.lib.freemail import domain_is_free_mail
from tisket.models import Organization


def company_domains(*, organization: Organization, email: str) -> list[str]:
    """The email domains of the address's client company, if the organization shares them."""
    if not organization.portal_company_view:
        return []
    domain = email.rpartition("@")[2].lower()
    if not domain or domain_is_free_mail(domain):
        return []
    customers = CustomerDomain.objects.filter(organization=organization, domain=domain).values(
        "customer_id"
    )
    domains = CustomerDomain.objects.filter(
        organization=organization, customer_id__in=customers
    ).values_list("domain", flat=True)
    return [d for d in domains if not domain_is_free_mail(d)]


def company_client_filter(domains: list[str]) -> Q:
    """Conversations whose client is at one of these domains (exactly: not a subdomain)."""
    condition = Q(pk__in=[])
    for domain in domains:
        condition |= Q(client_email__iendswith=f"@{domain}")
    return condition


def company_sees(*, organization: Organization, email: str, client_email: str) -> bool:
    """Whether the address sees a conversation of this client as their company's."""
    domains = company_domains(organization=organization, email=email)
    return client_email.rpartition("@")[2].lower() in domains
