from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    name = "scoring"
    verbose_name = _("Scoring")

    def ready(self) -> None:
        from accounts.signals import person_data_changed
        from scoring.notifications import notification_kinds_register
        from scoring.tasks import score_recompute_queue_many

        notification_kinds_register()

        def on_person_data_changed(sender, *, user_ids, trigger, **kwargs) -> int:
            return score_recompute_queue_many(user_ids=set(user_ids), trigger=trigger)

        person_data_changed.connect(
            on_person_data_changed, weak=False, dispatch_uid="score_recompute"
        )
