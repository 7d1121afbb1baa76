"""The agent's queue and the SLA dashboard, under /<org-slug>/."""

from django.urls import path

from tickets.views import dashboard, queue

urlpatterns = [
    path("", queue.queue, name="org-home"),
    path("queue/bulk/", queue.queue_bulk, name="queue-bulk"),
    path("queue/views/", queue.saved_view_save, name="saved-view-save"),
    path("queue/views/<int:view>/delete/", queue.saved_view_delete, name="saved-view-delete"),
    path("sla/", dashboard.sla_dashboard, name="sla-dashboard"),
]
