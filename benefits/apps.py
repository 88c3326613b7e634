from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BenefitsConfig(AppConfig):
    name = "benefits"
    verbose_name = _("Partners and benefits")

    def ready(self) -> None:
        """Benefits follows what the apps below tell it (they never import benefits).
        The unlock functions are looked up when called, so a wrapper put on them (the
        benchmarks') sees these calls."""
        from accounts.models import ConsentPurpose
        from accounts.signals import consent_revoked
        from benefits.notifications import notification_kinds_register
        from benefits.notifications_receipts import (
            notification_kinds_register as receipt_kinds_register,
        )
        from benefits.services import goals, unlocks
        from scoring.signals import court_listed, recompute_run_starting, scores_written

        def on_court_listed(sender, *, user_ids, **kwargs) -> None:
            # No benefits on the court list: what was unlocked closes at the import.
            unlocks.unlocks_close_all(users=user_ids)

        def on_scores_written(sender, *, scores, at, **kwargs) -> int:
            return sum(unlocks.unlocks_apply(scores=scores, now=at))

        def on_scores_written_goals(sender, *, scores, at, **kwargs) -> int:
            return goals.goals_follow_scores(scores=scores, at=at)

        def on_recompute_run_starting(sender, **kwargs) -> None:
            unlocks.unlocks_close_without_consent()

        def on_consent_revoked(sender, *, user, purpose, **kwargs) -> None:
            if purpose == ConsentPurpose.SCORING:
                # No score, no benefits: what was unlocked closes with the consent.
                unlocks.unlocks_close_all(users=[user])

        notification_kinds_register()
        receipt_kinds_register()
        court_listed.connect(on_court_listed, weak=False, dispatch_uid="court_list_unlocks_close")
        scores_written.connect(on_scores_written, weak=False, dispatch_uid="unlocks_apply")
        scores_written.connect(on_scores_written_goals, weak=False, dispatch_uid="goals_follow")
        recompute_run_starting.connect(
            on_recompute_run_starting, weak=False, dispatch_uid="unlocks_close_without_consent"
        )
        consent_revoked.connect(on_consent_revoked, weak=False, dispatch_uid="unlocks_close_all")
