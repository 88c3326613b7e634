"""CSV import and export of partners and benefits (django-import-export)."""

from __future__ import annotations

from import_export import fields, resources, widgets

from benefits.models import Benefit, Partner


class PartnerResource(resources.ModelResource):
    # Exported, never imported: qualification changes only through the admin's actions,
    # which record who, when and why (new partners start pending review).
    status = fields.Field(attribute="status", column_name="status", readonly=True)

    class Meta:
        model = Partner
        fields = ("id", "name", "category", "licence_number", "licence_authority", "status")
        export_order = fields
        skip_unchanged = True
        clean_model_instances = True


class BenefitResource(resources.ModelResource):
    partner = fields.Field(
        attribute="partner",
        column_name="partner",
        widget=widgets.ForeignKeyWidget(Partner, field="name"),
    )
    min_subscores = fields.Field(
        attribute="min_subscores", column_name="min_subscores", widget=widgets.JSONWidget()
    )
    regions = fields.Field(attribute="regions", column_name="regions", widget=widgets.JSONWidget())
    # Exported, never imported: publishing goes through the admin's preview, so imported
    # benefits arrive as drafts and a file never publishes or withdraws one.
    status = fields.Field(attribute="status", column_name="status", readonly=True)

    class Meta:
        model = Benefit
        fields = (
            "id",
            "partner",
            "title_zh",
            "title_en",
            "terms_zh",
            "terms_en",
            "category",
            "min_score",
            "min_subscores",
            "min_age",
            "regions",
            "active_from",
            "active_to",
            "quota",
            "voucher_days",
            "status",
        )
        export_order = fields
        skip_unchanged = True
        clean_model_instances = True

    def before_import_row(self, row, **kwargs):
        # A blank JSON cell means "none", not a parse error.
        for column, empty in (("min_subscores", "{}"), ("regions", "[]")):
            if column in row and not (row[column] or "").strip():
                row[column] = empty
