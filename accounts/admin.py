from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import ConsentGrant, ConsentRevocation, ConsentText, Identity, User
from accounts.selectors import identity_age


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that are evidence (verifications, the consent ledger) are never edited."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class IdentityFacts:
    """Staff see the age, never the birth date: beside the mask it rebuilt the number."""

    @admin.display(description=_("age"))
    def age(self, identity: Identity) -> int:
        return identity_age(identity)


class IdentityInline(IdentityFacts, admin.StackedInline):
    model = Identity
    fields = ["id_number_masked", "age", "gender", "region_name", "verified_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    inlines = [IdentityInline]
    list_display = ["username", "is_staff", "is_active", "date_joined", "last_login"]


@admin.register(Identity)
class IdentityAdmin(IdentityFacts, ReadOnlyAdmin):
    list_display = ["user", "id_number_masked", "region_name", "verified_at"]
    fields = [
        "user",
        "id_number_masked",
        "age",
        "gender",
        "region_code",
        "region_name",
        "verified_at",
    ]
    search_fields = ["user__username"]
    list_filter = ["gender"]


@admin.register(ConsentText)
class ConsentTextAdmin(admin.ModelAdmin):
    """A new wording is added as a new version; published versions stay as they were."""

    list_display = ["purpose", "version", "title_zh", "published_at"]
    list_filter = ["purpose"]

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class RevocationInline(admin.StackedInline):
    model = ConsentRevocation
    readonly_fields = ["revoked_at", "reason", "channel", "client_ip", "user_agent"]
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ConsentGrant)
class ConsentGrantAdmin(ReadOnlyAdmin):
    list_display = ["user", "purpose", "partner", "scope", "granted_at", "expires_at"]
    list_filter = ["purpose", "scope", "channel"]
    search_fields = ["user__username", "partner__name"]
    list_select_related = ["user", "partner"]
    inlines = [RevocationInline]
