"""Pages that compose several apps, assembled at the top so that no app imports a higher
one: the score home with its panel (scoring's score, benefits' progress), "me" with the
data export (every app's part) and the profile overview (accounts' sections with scoring's
provenance). sesame_portal/urls.py routes them under the names they always had (`home`,
`scoring:panel`, `accounts:account`, `accounts:profile`, ...)."""

from __future__ import annotations

from sesame_portal.pages.home import home, panel, recompute
from sesame_portal.pages.me import ExportApi, account, my_data_export
from sesame_portal.pages.profile import profile_overview

__all__ = [
    "ExportApi",
    "account",
    "home",
    "my_data_export",
    "panel",
    "profile_overview",
    "recompute",
]
