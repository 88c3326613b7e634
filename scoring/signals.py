"""What scoring tells the apps above it (which register their receivers in
AppConfig.ready; scoring never imports them)."""

from __future__ import annotations

from django.dispatch import Signal

# People were put on the court list (scoring.services.court_list.court_list_import), inside its
# transaction and before their recompute is queued: what a listed person may not keep is
# closed now. Sent with user_ids=set of user ids.
court_listed = Signal()

# Snapshots were written (scoring.services.scores.snapshots_write_and_follow_up), inside its
# transaction. Sent with scores=list of (user id, score, sub-scores) of the snapshots that
# are now each user's current one, and at=datetime, their moment. Each receiver returns how
# many changes it recorded for these people at that moment (0 for none): with any, the
# users who asked for email get one that carries them with their score notification.
scores_written = Signal()

# A recompute run of everyone is starting, before it reads who consents to scoring: what
# depends on a scoring consent no longer held is closed now. Sent with no arguments.
recompute_run_starting = Signal()
