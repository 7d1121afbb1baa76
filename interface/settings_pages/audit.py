"""The organization's audit log: browse and filter it, export it as CSV (admins)."""

import csv
from datetime import datetime, time, timedelta

from django import forms
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone

from interface.settings_pages.common import admin_view, page
from tisket.audit import ACTION_LABELS, Action, audit_action_areas, audit_events_list, audit_record
from tisket.audit import csv_rows as audit_csv_rows
from tisket.lib.params import id_param

PAGE_SIZE = 50


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label="What", required=False)
    actor = forms.CharField(label="Who", required=False, max_length=254)
    target = forms.CharField(label="On", required=False, max_length=300)
    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        areas = [(a, f"{a} (all)") for a in audit_action_areas()]
        actions = [(name, label) for name, label in sorted(ACTION_LABELS.items())]
        self.fields["action"].choices = [("", "Everything"), *areas, *actions]

    def filters(self) -> dict:
        """The selector's filters; dates are whole days in the viewer's time zone."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        zone = timezone.get_current_timezone()

        def start(day) -> datetime:
            return datetime.combine(day, time.min, tzinfo=zone)

        return {
            "action": data["action"],
            "actor": data["actor"].strip(),
            "target": data["target"].strip(),
            "since": start(data["since"]) if data["since"] else None,
            "until": start(data["until"] + timedelta(days=1)) if data["until"] else None,
        }


@admin_view
def audit_log(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    events = audit_events_list(organization=request.organization, **form.filters())
    before = id_param(request.GET.get("before"))
    if before is not None:
        events = events.filter(pk__lt=before)
    rows = list(events[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    for row in rows:
        row.label = ACTION_LABELS.get(row.action, row.action)
    query = request.GET.copy()
    query.pop("before", None)
    context = {
        "form": form,
        "events": rows,
        "older": rows[-1].pk if more else None,
        "query": query.urlencode(),
        "errors": form.errors if request.GET else {},
    }
    return page(request, "settings/audit.html", context, section="settings:audit")


@admin_view
def audit_export(request: HttpRequest) -> HttpResponse:
    """The filtered log as CSV, streamed; the export itself is recorded."""
    form = AuditFilterForm(request.GET or None)
    filters = form.filters()
    audit_record(
        organization=request.organization,
        action=Action.AUDIT_EXPORTED,
        actor=request.membership,
        data={k: v for k, v in filters.items() if v},
    )
    events = audit_events_list(organization=request.organization, **filters).iterator(
        chunk_size=2000
    )
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in audit_csv_rows(events)), content_type="text/csv"
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = (
        f'attachment; filename="audit-{request.organization.slug}-{stamp}.csv"'
    )
    return response


class _Echo:
    def write(self, value: str) -> str:
        return value
