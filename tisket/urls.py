from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from threads.webhooks import PostmarkInboundView
from tisket import views
from tisket.forms import LoginForm

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("tisket.api_urls", namespace="api")),
    path("", views.home, name="home"),
    path("<slug:org_slug>/", views.org_home, name="org-home"),
    path("<slug:org_slug>/members/", views.org_members, name="org-members"),
]

# ESP webhooks (/anymail/<esp>/inbound/ and /tracking/) exist only with a secret:
# an open webhook would take anyone's mail.
if settings.ANYMAIL.get("WEBHOOK_SECRET"):
    urlpatterns[:0] = [
        path(
            "anymail/postmark/inbound/",
            PostmarkInboundView.as_view(),
            name="postmark-inbound-webhook",
        ),
        path("anymail/", include("anymail.urls")),
    ]
else:
    urlpatterns.insert(0, re_path(r"^anymail/", views.webhooks_off, name="anymail-off"))
