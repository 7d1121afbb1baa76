"""The client portal's addresses, under /hc/<org>/requests/."""

from django.urls import path

from tickets.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", views.sign_in, name="sign-in"),
    path("sign-in/<str:token>/", views.sign_in_confirm, name="sign-in-confirm"),
    path("sign-out/", views.sign_out, name="sign-out"),
    path("new/", views.request_new, name="new"),
    path("new/suggestions/", views.request_suggest, name="new-suggest"),
    path("preview/", views.preview, name="preview"),
    path("<str:reference>/", views.thread, name="thread"),
    path("<str:reference>/reply/", views.thread_reply, name="thread-reply"),
    path("<str:reference>/close/", views.thread_close, name="thread-close"),
    path("<str:reference>/reopen/", views.thread_reopen, name="thread-reopen"),
    path("<str:reference>/rate/", views.thread_rate, name="thread-rate"),
    path("<str:reference>/read/", views.thread_read, name="thread-read"),
]
