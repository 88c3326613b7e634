from __future__ import annotations

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import urls as accounts_urls
from scoring import urls as scoring_urls
from scoring.views.proofs import proof_public
from sesame_portal import pages
from sesame_portal.health import healthz, readyz


class FaviconRedirect(RedirectView):
    """Browsers ask for /favicon.ico on pages that name no icon (the admin, the API docs,
    a JSON answer): the portal's one icon. Looked up per request, so it follows the
    static files' hashed names."""

    def get_redirect_url(self, *args, **kwargs) -> str:
        return static("favicon.svg")


# Pages that compose several apps live at the top (sesame_portal.pages) and join the
# namespace of the app they have always been named in, so no app's urls import upward.
accounts_patterns = [
    *accounts_urls.urlpatterns,
    path("me/", pages.account, name="account"),
    path("me/data/export/", pages.my_data_export, name="my_data_export"),
    path("profile/", pages.profile_overview, name="profile"),
    path("consents/", pages.consents, name="consents"),
    path("consents/grant/", pages.consent_grant, name="consent_grant"),
    path("consents/<int:grant_id>/revoke/", pages.consent_revoke, name="consent_revoke"),
]
scoring_patterns = [
    path("panel/", pages.panel, name="panel"),
    path("recompute/", pages.recompute, name="recompute"),
    *scoring_urls.urlpatterns,
]

urlpatterns = [
    path("", pages.home, name="home"),
    path("favicon.ico", FaviconRedirect.as_view(), name="favicon"),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("accounts/", include((accounts_patterns, accounts_urls.app_name))),
    path("score/", include((scoring_patterns, scoring_urls.app_name))),
    path("benefits/", include("benefits.urls")),
    path("proof/<str:token>/", proof_public, name="proof_public"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/me/export/", pages.ExportApi.as_view(), name="api-export"),
    path("api/v1/", include("accounts.api_urls")),
    path("api/v1/", include("scoring.api_urls")),
    path("api/v1/", include("benefits.api_urls")),
    path("api/v1/", include("benefits.receipt_api_urls")),
    path("api/v1/partner/", include("benefits.partner_api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

handler400 = "sesame_portal.handlers.bad_request"
handler403 = "sesame_portal.handlers.permission_denied"
handler404 = "sesame_portal.handlers.page_not_found"
handler500 = "sesame_portal.handlers.server_error"
