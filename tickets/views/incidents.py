"""The incidents page: each open incident (or every one) with the tickets grouped under it."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from tickets import sla
from tickets.incidents import incidents_list
from tisket.views import org_view

PAGE_SIZE = 100


@org_view()
@require_GET
def incidents(request: HttpRequest) -> HttpResponse:
    """Open incidents, newest first; ?all=1 shows the resolved ones too."""
    show_all = request.GET.get("all") == "1"
    found = list(
        incidents_list(
            organization=request.organization, viewer=request.membership, open_only=not show_all
        )[:PAGE_SIZE]
    )
    now = timezone.now()
    rows = [
        (
            incident,
            sla.sla_state(incident, now),
            [(t, sla.sla_state(t, now)) for t in incident.affected],
        )
        for incident in found
    ]
    return render(
        request,
        "tickets/incidents.html",
        {"rows": rows, "show_all": show_all, "nav": "incidents"},
    )
