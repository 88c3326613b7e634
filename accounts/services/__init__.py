"""Writes for accounts, one module per concern; callers import them from here."""

from __future__ import annotations

from accounts.services.appeals import (
    appeal_offer_identity_id,
    identity_appeal_decide,
    identity_appeal_decide_check,
    identity_appeal_file,
)
from accounts.services.consent import consent_grant, consent_revoke
from accounts.services.deletion import account_delete
from accounts.services.field_keys import field_keys_rotate
from accounts.services.helpers import (
    helper_accept,
    helper_audit_record,
    helper_invitation,
    helper_invite,
    helper_revoke,
)
from accounts.services.housekeeping import IDENTITY_ATTEMPT_RETENTION, accounts_housekeeping
from accounts.services.identity import identity_verify
from accounts.services.profile import (
    profile_section_clear,
    profile_update,
    work_email_challenge_start,
    work_email_verify,
)
from accounts.services.registration import user_register
from accounts.services.sign_ins import (
    api_token_issue,
    api_token_touch,
    password_change,
    sign_in_revoke,
    sign_out_everywhere,
    web_session_end,
    web_session_rekey,
    web_session_start,
    web_session_user,
)
from accounts.services.verification import (
    section_verification_decide,
    section_verification_decide_check,
    section_verification_file,
)

__all__ = [
    "IDENTITY_ATTEMPT_RETENTION",
    "account_delete",
    "accounts_housekeeping",
    "api_token_issue",
    "api_token_touch",
    "appeal_offer_identity_id",
    "consent_grant",
    "consent_revoke",
    "field_keys_rotate",
    "helper_accept",
    "helper_audit_record",
    "helper_invitation",
    "helper_invite",
    "helper_revoke",
    "identity_appeal_decide",
    "identity_appeal_decide_check",
    "identity_appeal_file",
    "identity_verify",
    "password_change",
    "profile_section_clear",
    "profile_update",
    "section_verification_decide",
    "section_verification_decide_check",
    "section_verification_file",
    "sign_in_revoke",
    "sign_out_everywhere",
    "user_register",
    "web_session_end",
    "web_session_rekey",
    "web_session_start",
    "web_session_user",
    "work_email_challenge_start",
    "work_email_verify",
]
