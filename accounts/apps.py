from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from accounts.notifications import notification_kinds_register
        from accounts.web_sessions import connect_signals

        connect_signals()
        notification_kinds_register()
