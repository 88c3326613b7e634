"""What staff may not do by hand in the admin, said once for every app: records that are
evidence, or that the code writes, are not added, changed or deleted there.

Each mixin goes before the admin class it narrows (`class X(NoAdd, admin.ModelAdmin)`) and
serves a ModelAdmin and an inline alike (Django asks an inline with the parent object)."""

from __future__ import annotations

from django.contrib import admin


class NoAdd:
    def has_add_permission(self, request, obj=None) -> bool:
        return False


class NoChange:
    def has_change_permission(self, request, obj=None) -> bool:
        return False


class NoDelete:
    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class DeleteOnly(NoAdd, NoChange):
    """Seen, and deleted when a record must go; never added or edited."""


class ReadOnly(NoAdd, NoChange, NoDelete):
    """Seen only."""


class ReadOnlyAdmin(ReadOnly, admin.ModelAdmin):
    """Records that are evidence (verifications, the consent ledger, the partner call log)
    are never edited."""
