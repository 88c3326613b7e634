"""The user API for accounts: one view per endpoint, input and output serializers,
the work done by services and selectors."""

from __future__ import annotations

from accounts.api.auth import LogoutAllApi, LogoutApi, PasswordApi, RegisterApi, TokenApi
from accounts.api.consents import ConsentDetailApi, ConsentTextApi
from accounts.api.helpers import HelperAuditApi, HelperDetailApi, HelperListApi
from accounts.api.identity import IdentityApi
from accounts.api.my_data import AccountApi
from accounts.api.profile import ProfileApi, WorkEmailCodeApi, WorkEmailResendApi
from accounts.api.sign_ins import SignInDetailApi, SignInListApi

__all__ = [
    "AccountApi",
    "ConsentDetailApi",
    "ConsentTextApi",
    "HelperAuditApi",
    "HelperDetailApi",
    "HelperListApi",
    "IdentityApi",
    "LogoutAllApi",
    "LogoutApi",
    "PasswordApi",
    "ProfileApi",
    "RegisterApi",
    "SignInDetailApi",
    "SignInListApi",
    "TokenApi",
    "WorkEmailCodeApi",
    "WorkEmailResendApi",
]
