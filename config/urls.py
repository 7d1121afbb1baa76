from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config.webhook_urls import webhook_urlpatterns
from interface import ops
from tisket import accounts, views

urlpatterns = [
    path("healthz", ops.healthz, name="healthz"),
    path("metrics", ops.metrics, name="metrics"),
    path("accounts/login/", accounts.login, name="login"),
    path("accounts/logout/", accounts.logout, name="logout"),
    path("accounts/sso/", include("tisket.sso.views")),
    path("accounts/", include("tisket.accounts")),
    path("accounts/invitations/", include("interface.settings_pages.invitations")),
    path("admin/login/", views.admin_login),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("config.api_urls", namespace="api")),
    path("", views.home, name="home"),
    path("c/rate/", include("tickets.rating_pages")),
    path("c/unsubscribe/", include("tickets.unsubscribe_pages")),
    path("c/", include("tickets.client_pages")),
    path("hc/<slug:org_slug>/requests/", include("tickets.portal.urls")),
    # Before the organization's pages: /hc/<org>/ is the help centre, /<org>/kb/ its editor.
    path("", include("kb.urls")),
    path("<slug:org_slug>/settings/", include("interface.settings_pages")),
    path("<slug:org_slug>/", include("tisket.urls")),
    path("<slug:org_slug>/", include("tickets.urls")),
]

# ESP webhooks first: /anymail/ is reserved, never an organization's slug.
urlpatterns[:0] = webhook_urlpatterns()

handler400 = "tisket.api_errors.bad_request"
handler403 = "tisket.api_errors.permission_denied"
handler404 = "tisket.api_errors.page_not_found"
handler500 = "tisket.api_errors.server_error"
