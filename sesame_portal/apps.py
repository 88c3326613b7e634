from __future__ import annotations

from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class PortalAdminConfig(AdminConfig):
    """Django's admin, named after the portal and labelled in the reader's language."""

    def ready(self) -> None:
        super().ready()  # autodiscovery: every app's admin module registers its models
        from django.contrib import admin

        from sesame_portal.admin_labels import admin_label

        admin.site.site_header = _("Sesame Portal administration")
        admin.site.site_title = _("Sesame Portal")
        admin.site.index_title = _("Administration")
        admin_label(admin.site)
