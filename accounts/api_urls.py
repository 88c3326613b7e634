from __future__ import annotations

from django.urls import path

from accounts import api

urlpatterns = [
    path("auth/register/", api.RegisterApi.as_view(), name="api-register"),
    path("auth/token/", api.TokenApi.as_view(), name="api-token"),
    path("auth/logout/", api.LogoutApi.as_view(), name="api-logout"),
    path("auth/logout-all/", api.LogoutAllApi.as_view(), name="api-logout-all"),
    path("consent-texts/", api.ConsentTextApi.as_view(), name="api-consent-texts"),
    path("me/", api.AccountApi.as_view(), name="api-account"),
    path("me/password/", api.PasswordApi.as_view(), name="api-password"),
    path("me/tokens/", api.SignInListApi.as_view(), name="api-sign-ins"),
    path("me/tokens/<int:sign_in_id>/", api.SignInDetailApi.as_view(), name="api-sign-in"),
    path("me/profile/", api.ProfileApi.as_view(), name="api-profile"),
    path("me/profile/work-email/code/", api.WorkEmailCodeApi.as_view(), name="api-work-email-code"),
    path(
        "me/profile/work-email/resend/",
        api.WorkEmailResendApi.as_view(),
        name="api-work-email-resend",
    ),
    path("me/helpers/", api.HelperListApi.as_view(), name="api-helpers"),
    path("me/helpers/<int:helper_id>/", api.HelperDetailApi.as_view(), name="api-helper"),
    path("me/helper-audit/", api.HelperAuditApi.as_view(), name="api-helper-audit"),
    path("me/identity/", api.IdentityApi.as_view(), name="api-identity"),
    path("me/consents/<int:grant_id>/", api.ConsentDetailApi.as_view(), name="api-consent"),
]
