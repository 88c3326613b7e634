"""Pages that compose several apps, assembled at the top so that no app imports a higher
one: the score home with its panel (scoring's score, benefits' progress) and "me" with
the data export (every app's part). sesame_portal/urls.py routes them under the names
they always had (`home`, `scoring:panel`, `accounts:account`, ...)."""

from __future__ import annotations

from sesame_portal.pages.home import home, panel, recompute
from sesame_portal.pages.me import ExportApi, account, my_data_export

__all__ = ["ExportApi", "account", "home", "my_data_export", "panel", "recompute"]
