"""What accounts tells the apps above it (which register their receivers in
AppConfig.ready; accounts never imports them). Sent inside the transaction of the change:
a receiver that acts on the outside world waits for the commit (scoring queues its
recomputes with transaction.on_commit)."""

from __future__ import annotations

from django.dispatch import Signal

# Something a person's score reads changed (identity, profile, a consent, an appeal's
# decision). Sent with user_ids=set[int] and trigger=str (why, recorded on the snapshot).
person_data_changed = Signal()

# A person revoked one of their consents. Sent with user=User and purpose=ConsentPurpose.
consent_revoked = Signal()
