from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BenefitsConfig(AppConfig):
    name = "benefits"
    verbose_name = _("Partners and benefits")

    def ready(self) -> None:
        from benefits.services.court_list import court_list_correct
        from scoring.signals import dispute_corrected

        def on_dispute_corrected(sender, *, dispute, **kwargs) -> None:
            court_list_correct(dispute=dispute)

        dispute_corrected.connect(on_dispute_corrected, weak=False, dispatch_uid="court_list")
