"""Pages that compose several apps, assembled at the top so that no app imports a higher
one: the score home with its panel (scoring's score, benefits' progress), "me" with the
data export (every app's part), the profile overview (accounts' sections with scoring's
provenance) and the consents page (accounts' purposes with benefits' partners).
sesame_portal/urls.py routes them under the names they always had (`home`,
`scoring:panel`, `accounts:account`, `accounts:profile`, `accounts:consents`, ...)."""

from __future__ import annotations

from sesame_portal.pages.consents import consent_grant, consent_revoke, consents
from sesame_portal.pages.home import home, panel, recompute
from sesame_portal.pages.me import ExportApi, account, my_data_export
from sesame_portal.pages.profile import profile_overview

__all__ = [
    "ExportApi",
    "account",
    "consent_grant",
    "consent_revoke",
    "consents",
    "home",
    "my_data_export",
    "panel",
    "profile_overview",
    "recompute",
]
