"""What scoring tells the apps above it (which register their receivers in
AppConfig.ready; scoring never imports them)."""

from __future__ import annotations

from django.dispatch import Signal

# A dispute was answered "corrected", inside the transaction that records it and
# before its recompute is queued: the app holding the disputed record fixes it there.
# Sent with dispute=Dispute.
dispute_corrected = Signal()
