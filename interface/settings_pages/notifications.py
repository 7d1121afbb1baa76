"""The organization's notification defaults: the matrix every member starts from, and the
cells admins lock for everyone."""

from django.http import HttpRequest, HttpResponse

from interface.settings_pages.common import admin_view, done, page
from tisket.notifications import selectors, services
from tisket.notifications.forms import DefaultsForm

SECTION = "settings:notifications"


@admin_view
def notification_defaults(request: HttpRequest) -> HttpResponse:
    matrix = selectors.organization_matrix(organization=request.organization)
    form = DefaultsForm(request.POST or None, matrix=matrix)
    if request.method == "POST" and form.is_valid():
        changed = services.notification_defaults_set(
            organization=request.organization, cells=form.cells(), actor=request.membership
        )
        count = len(changed)
        return done(
            request,
            f"Notification defaults saved ({count} change{'s' if count != 1 else ''}).",
            SECTION,
        )
    return page(request, "settings/notifications.html", {"form": form}, section=SECTION)
