"""CSV import and export of partners and benefits (django-import-export)."""

from __future__ import annotations

from import_export import fields, resources, widgets

from benefits.models import Benefit, Partner


class PartnerResource(resources.ModelResource):
    class Meta:
        model = Partner
        fields = ("id", "name", "category", "licence_number", "status")
        export_order = fields
        # Imported partners wait for review: qualification is never set by a file.
        skip_unchanged = True
        clean_model_instances = True

    def before_save_instance(self, instance, row, **kwargs):
        if instance.pk is None:
            instance.status = Partner.Status.PENDING


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

    def before_save_instance(self, instance, row, **kwargs):
        # Publishing goes through the admin's preview: imported benefits arrive as drafts.
        if instance.pk is None:
            instance.status = Benefit.Status.DRAFT

    def before_import_row(self, row, **kwargs):
        # A blank JSON cell means "none", not a parse error.
        for column, empty in (("min_subscores", "{}"), ("regions", "[]")):
            if column in row and not (row[column] or "").strip():
                row[column] = empty
