"""Accounts models, one module per concern; import them from here."""

from __future__ import annotations

from accounts.models.appeals import IdentityAppeal, IdentityAppealEvidence
from accounts.models.consent import (
    DATA_CATEGORY_PURPOSES,
    ConsentGrant,
    ConsentGrantQuerySet,
    ConsentPurpose,
    ConsentRevocation,
    ConsentText,
)
from accounts.models.devices import KnownDevice, SignIn, session_key_hash
from accounts.models.helpers import HelperAuditEntry, HelperGrant, invitation_code_hash
from accounts.models.notifications import (
    DATA_USE_EMAILED,
    DataUseAlerts,
    Notification,
    NotificationPreference,
)
from accounts.models.profile import (
    EMPLOYED_OCCUPATIONS,
    EducationLevel,
    FieldMark,
    IncomeBand,
    Occupation,
    Profile,
    VehicleValue,
    WorkEmailChallenge,
)
from accounts.models.users import Identity, IdentityAttempt, User
from accounts.models.verification import SectionVerification, SectionVerificationDocument

__all__ = [
    "DATA_CATEGORY_PURPOSES",
    "DATA_USE_EMAILED",
    "EMPLOYED_OCCUPATIONS",
    "ConsentGrant",
    "ConsentGrantQuerySet",
    "ConsentPurpose",
    "ConsentRevocation",
    "ConsentText",
    "DataUseAlerts",
    "EducationLevel",
    "FieldMark",
    "HelperAuditEntry",
    "HelperGrant",
    "Identity",
    "IdentityAppeal",
    "IdentityAppealEvidence",
    "IdentityAttempt",
    "IncomeBand",
    "KnownDevice",
    "Notification",
    "NotificationPreference",
    "Occupation",
    "Profile",
    "SectionVerification",
    "SectionVerificationDocument",
    "SignIn",
    "User",
    "VehicleValue",
    "WorkEmailChallenge",
    "invitation_code_hash",
    "session_key_hash",
]
