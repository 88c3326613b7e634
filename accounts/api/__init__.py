"""The user API for accounts: one view per endpoint, input and output serializers,
the work done by services and selectors."""

from __future__ import annotations

from accounts.api.auth import RegisterApi, TokenApi
from accounts.api.consents import ConsentDetailApi, ConsentListApi, ConsentTextApi
from accounts.api.identity import IdentityApi
from accounts.api.my_data import AccountApi, ExportApi
from accounts.api.profile import ProfileApi, WorkEmailCodeApi, WorkEmailResendApi

__all__ = [
    "AccountApi",
    "ConsentDetailApi",
    "ConsentListApi",
    "ConsentTextApi",
    "ExportApi",
    "IdentityApi",
    "ProfileApi",
    "RegisterApi",
    "TokenApi",
    "WorkEmailCodeApi",
    "WorkEmailResendApi",
]
