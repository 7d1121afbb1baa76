"""Ticket categories: the organization's list, kept on one page (add, remove)."""

from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from interface.settings_pages.common import admin_view, done, page, refused
from tickets import categories
from tickets.models import Ticket, TicketCategory
from tisket.errors import TisketError

SECTION = "settings:categories"


@admin_view
def category_list(request: HttpRequest) -> HttpResponse:
    """The list with each category's open and total tickets: one query whatever its length."""
    used = (
        Ticket.objects.filter(organization=request.organization, category=OuterRef("name"))
        .values("category")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = categories.categories_list(organization=request.organization).annotate(
        tickets=Coalesce(Subquery(used), 0)
    )
    return page(request, "settings/categories.html", {"categories": rows}, section=SECTION)


@admin_view
@require_POST
def category_new(request: HttpRequest) -> HttpResponse:
    try:
        made = categories.category_create(
            organization=request.organization, name=request.POST.get("name", "")
        )
    except TisketError as error:
        return refused(request, error, SECTION)
    return done(request, f"Category {made.name} added.", SECTION)


@admin_view
@require_POST
def category_delete(request: HttpRequest, category: int) -> HttpResponse:
    found = TicketCategory.objects.filter(organization=request.organization, pk=category).first()
    if found is None:
        raise Http404("No such category.")
    used = categories.category_delete(category=found)
    kept = f" {used} ticket(s) keep it as their category." if used else ""
    return done(request, f"Category {found.name} removed.{kept}", SECTION)
