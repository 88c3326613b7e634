from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import views as account_views
from scoring.proof_views import proof_public
from sesame_portal.health import healthz, readyz

urlpatterns = [
    path("", account_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("accounts/", include("accounts.urls")),
    path("score/", include("scoring.urls")),
    path("benefits/", include("benefits.urls")),
    path("proof/<str:token>/", proof_public, name="proof_public"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("accounts.api_urls")),
    path("api/v1/", include("scoring.api_urls")),
    path("api/v1/", include("benefits.api_urls")),
    path("api/v1/partner/", include("benefits.partner_api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

handler400 = "sesame_portal.handlers.bad_request"
handler403 = "sesame_portal.handlers.permission_denied"
handler404 = "sesame_portal.handlers.page_not_found"
handler500 = "sesame_portal.handlers.server_error"
