"""Download my data: everything held about the person, assembled at the top from each
app's part (accounts ← scoring ← benefits), so no app reads another's data for it."""

from __future__ import annotations

from django.utils import timezone

from accounts.models import User
from accounts.selectors import accounts_export
from benefits.selectors import benefits_export
from scoring.selectors import score_export


def account_export(*, user: User) -> dict:
    """Everything held about the user, for "download my data" (the page and the API)."""
    return {
        "exported_at": timezone.now(),
        **accounts_export(user=user),
        **score_export(user=user),
        **benefits_export(user=user),
    }
