from __future__ import annotations

from django.contrib import admin

from benefits.models import Partner


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "status", "status_changed_at"]
    list_filter = ["status", "category"]
    search_fields = ["name", "licence_number"]
    readonly_fields = ["status_changed_at", "status_changed_by", "created_at"]
