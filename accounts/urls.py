from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="accounts/password_change_done.html"
        ),
        name="password_change_done",
    ),
    path("me/data/", views.my_data, name="my_data"),
    path("me/devices/", views.devices, name="devices"),
    path("me/devices/<int:sign_in_id>/revoke/", views.device_revoke, name="device_revoke"),
    path("profile/work-email/code/", views.profile_work_email_code, name="work_email_code"),
    path("profile/work-email/resend/", views.profile_work_email_resend, name="work_email_resend"),
    path("profile/<slug:section>/", views.profile_step, name="profile_step"),
    path("profile/<slug:section>/clear/", views.profile_clear, name="profile_clear"),
    path("profile/<slug:section>/verify/", views.profile_verify, name="profile_verify"),
    path("identity/", views.identity, name="identity"),
    path("identity/appeal/<str:token>/", views.identity_appeal, name="identity_appeal"),
    path("helpers/", views.helpers, name="helpers"),
    path("helpers/<int:grant_id>/revoke/", views.helper_revoke, name="helper_revoke"),
    path("helpers/audit/", views.helper_audit, name="helper_audit"),
    path("helpers/accept/<str:code>/", views.helper_accept, name="helper_accept"),
    path("helping/", views.helping, name="helping"),
    path("helping/<int:grant_id>/act/", views.helper_start, name="helper_start"),
    path("helping/stop/", views.helper_stop, name="helper_stop"),
    path("notifications/", views.notifications, name="notifications"),
]
