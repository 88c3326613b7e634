"""Pages for accounts, one module per area; urls.py imports them from here."""

from __future__ import annotations

from accounts.views.account import identity, signup
from accounts.views.appeals import identity_appeal
from accounts.views.helpers import (
    helper_accept,
    helper_audit,
    helper_revoke,
    helper_start,
    helper_stop,
    helpers,
    helping,
)
from accounts.views.my_data import my_data
from accounts.views.notifications import notifications
from accounts.views.profile import (
    profile_clear,
    profile_step,
    profile_verify,
    profile_work_email_code,
    profile_work_email_resend,
)
from accounts.views.sign_ins import PasswordChangeView, device_revoke, devices

__all__ = [
    "PasswordChangeView",
    "device_revoke",
    "devices",
    "helper_accept",
    "helper_audit",
    "helper_revoke",
    "helper_start",
    "helper_stop",
    "helpers",
    "helping",
    "identity",
    "identity_appeal",
    "my_data",
    "notifications",
    "profile_clear",
    "profile_step",
    "profile_verify",
    "profile_work_email_code",
    "profile_work_email_resend",
    "signup",
]
