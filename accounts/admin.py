from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts import services
from accounts.models import ConsentGrant, ConsentRevocation, ConsentText, Identity, User


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that are evidence (verifications, the consent ledger) are never edited."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class IdentityInline(admin.StackedInline):
    model = Identity
    fields = ["id_number_masked", "birth_date", "gender", "region_name", "verified_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    inlines = [IdentityInline]
    list_display = ["username", "is_staff", "is_active", "date_joined", "last_login"]

    def user_change_password(self, request, id, form_url=""):
        """A password set here ends the person's tokens and sessions too, as a change of
        their own does (the admin's own session stays when it is their account)."""
        old_key = request.session.session_key
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            user = User.objects.get(pk=id)
            own = user.pk == request.user.pk
            services.sign_out_everywhere(user=user, keep_session_key=old_key if own else None)
            # Django gives the admin's session a new key either way: its sign-in follows.
            if old_key and request.session.session_key != old_key:
                services.web_session_rekey(old_key=old_key, new_key=request.session.session_key)
        return response


@admin.register(Identity)
class IdentityAdmin(ReadOnlyAdmin):
    list_display = ["user", "id_number_masked", "region_name", "verified_at"]
    fields = [
        "user",
        "id_number_masked",
        "birth_date",
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
