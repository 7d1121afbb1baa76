"""The client panel: a client's page (their conversations and company), the client companies,
and a company's page (its conversations and SLA tier)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from tickets import clients, selectors
from tickets.views.queue_rows import row_make, rows_html
from tisket.models import Role
from tisket.views import org_view


def _rows(request: HttpRequest, threads) -> tuple[str, bool]:
    """The conversations as the queue draws them (one page), and whether there are more."""
    now = timezone.now()
    page = selectors.queue_page(threads, clients.CLIENT_PAGE + 1)
    more = len(page) > clients.CLIENT_PAGE
    html = rows_html(
        [row_make(thread, request.organization, now) for thread in page[: clients.CLIENT_PAGE]],
        can_work=False,
        now=now,
        organization=request.organization,
    )
    return html, more


@org_view()
@require_GET
def client_page(request: HttpRequest, client: str) -> HttpResponse:
    """A client's conversations in this organization, newest first, and their company."""
    member = request.membership
    profile = clients.client_profile(organization=request.organization, email=client, viewer=member)
    threads = clients.client_threads(organization=request.organization, email=client, viewer=member)
    rows, more = _rows(request, threads)
    context = {"profile": profile, "rows_html": rows, "more": more, "nav": "clients"}
    return render(request, "tickets/client.html", context)


@org_view()
@require_GET
def companies(request: HttpRequest) -> HttpResponse:
    """The organization's client companies with their tier and domains."""
    found = list(clients.companies_list(organization=request.organization))
    context = {
        "companies": found,
        "can_edit": request.membership.has_role(Role.ADMIN),
        "nav": "clients",
    }
    return render(request, "tickets/companies.html", context)


@org_view()
@require_GET
def company_page(request: HttpRequest, customer: int) -> HttpResponse:
    """A client company: its SLA tier, domains and conversations."""
    company = clients.company_get(organization=request.organization, pk=customer)
    member = request.membership
    profile = clients.company_profile(
        organization=request.organization, company=company, viewer=member
    )
    threads = clients.company_threads(
        organization=request.organization, company=company, viewer=member
    )
    rows, more = _rows(request, threads)
    context = {
        "profile": profile,
        "clients": clients.company_clients(
            organization=request.organization, company=company, viewer=member
        ),
        "rows_html": rows,
        "more": more,
        "can_edit": member.has_role(Role.ADMIN),
        "nav": "clients",
    }
    return render(request, "tickets/company.html", context)
