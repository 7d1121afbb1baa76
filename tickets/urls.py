"""The agent's pages under /<org-slug>/, URL namespace "tickets": the queue, the conversation and
its ticket, quarantine, the SLA dashboard, incidents."""

from django.urls import path

from tickets.sla import dashboard, report_pages
from tickets.views import client_view, clients, incidents, knowledge, quarantine, queue
from tickets.views.conversation import urlpatterns as conversation_urlpatterns

app_name = "tickets"

urlpatterns = [
    path("", queue.queue, name="queue"),
    path("queue/bulk/", queue.queue_bulk, name="queue-bulk"),
    path("queue/views/", queue.saved_view_save, name="saved-view-save"),
    path("queue/views/<int:view>/delete/", queue.saved_view_delete, name="saved-view-delete"),
    path("sla/", dashboard.sla_dashboard, name="sla-dashboard"),
    path("reports/", report_pages.reports_page, name="sla-reports"),
    *(
        path(
            f"reports/{report}.csv",
            report_pages.report_csv,
            {"report": report},
            name=f"sla-report-{report}-csv",
        )
        for report in ("resolved", "breaches", "tiers", "companies", "csat")
    ),
    path("incidents/", incidents.incidents, name="incidents"),
    path("clients/", clients.companies, name="companies"),
    path("clients/companies/<int:customer>/", clients.company_page, name="company"),
    path("clients/<path:client>/", clients.client_page, name="client"),
    path("quarantine/", quarantine.quarantine, name="quarantine"),
    path(
        "quarantine/<int:quarantined>/release/",
        quarantine.quarantine_release,
        name="quarantine-release",
    ),
    path(
        "quarantine/<int:quarantined>/discard/",
        quarantine.quarantine_discard,
        name="quarantine-discard",
    ),
    path("quarantine/<int:quarantined>/", quarantine.quarantine_read, name="quarantine-read"),
    path(
        "quarantine/<int:quarantined>/body/",
        quarantine.quarantine_body,
        name="quarantine-body",
    ),
    path(
        "quarantine/<int:quarantined>/block/",
        quarantine.quarantine_block,
        name="quarantine-block",
    ),
    path(
        "quarantine/<int:quarantined>/allow/",
        quarantine.quarantine_allow,
        name="quarantine-allow",
    ),
    path("quarantine/rules/", quarantine.sender_rule_list, name="sender-rules"),
    path(
        "quarantine/rules/<int:rule>/remove/",
        quarantine.sender_rule_remove,
        name="sender-rule-remove",
    ),
    path(
        "threads/<str:thread>/view-as-client/",
        client_view.client_view_start,
        name="client-view-start",
    ),
    path("view-as-client/<int:client_view>/", client_view.client_view_page, name="client-view"),
    path(
        "view-as-client/<int:client_view>/act/",
        client_view.client_view_act,
        name="client-view-act",
    ),
    path(
        "view-as-client/<int:client_view>/end/",
        client_view.client_view_end,
        name="client-view-end",
    ),
    *conversation_urlpatterns,
    *knowledge.urlpatterns,
]
