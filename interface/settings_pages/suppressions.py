"""The addresses the organization's automatic mail is held back from, and lifting one."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from interface.settings_pages.common import admin_view, done, page, refused
from threads import outbound, selectors
from tisket.errors import TisketError

SECTION = "settings:suppressions"


@admin_view
def suppressions(request: HttpRequest) -> HttpResponse:
    context = {"suppressions": selectors.suppressions_list(organization=request.organization)}
    return page(request, "settings/suppressions.html", context, section=SECTION)


@admin_view
@require_POST
def suppression_lift(request: HttpRequest, suppression: int) -> HttpResponse:
    found = selectors.suppression_get(organization=request.organization, pk=suppression)
    try:
        outbound.suppression_lift(suppression=found, actor=request.membership)
    except TisketError as error:
        return refused(request, error, SECTION)
    return done(request, f"Automatic mail goes to {found.address} again.", SECTION)
