"""An organization's own pages under /<org-slug>/ (URL namespace "org"): members, notifications."""

from django.urls import path

from tisket import views

app_name = "org"

urlpatterns = [
    path("members/", views.org_members, name="members"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/count/", views.notifications_count, name="notifications-count"),
    path(
        "notifications/<int:notification>/read/",
        views.notification_read,
        name="notification-read",
    ),
]
