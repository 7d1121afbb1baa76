"""An organization's own pages under /<org-slug>/ (URL namespace "org"): members, notifications."""

from django.urls import path

from tisket import views
from tisket.notifications import views as notifications

app_name = "org"

urlpatterns = [
    path("members/", views.org_members, name="members"),
    path("notifications/", notifications.notifications, name="notifications"),
    path("notifications/count/", notifications.notifications_count, name="notifications-count"),
    path(
        "notifications/<int:notification>/read/",
        notifications.notification_read,
        name="notification-read",
    ),
]
