"""Whether the active model can be used, and the alert when it cannot.

A model whose artifact is missing, changed or unreadable is never used: scoring stops,
everyone keeps their last good score, and the admins are told once per version (the
error log, an email to ADMINS, and a banner on the admin site) until the version loads
again or another is activated."""

from __future__ import annotations

import logging

from django.core.mail import mail_admins
from django.utils import timezone

from scoring.ml.artifacts import ArtifactIntegrityError, LoadedModel
from scoring.models import ModelVersion
from scoring.selectors import model_active, model_load

logger = logging.getLogger(__name__)


def model_integrity_failed(*, model_version: ModelVersion, error: Exception) -> None:
    """Record the failure on the version and alert the admins the first time."""
    logger.error(
        "model failed its integrity check; scores are not recomputed",
        extra={"model_version": model_version.version, "error": str(error)},
    )
    first = ModelVersion.objects.filter(
        pk=model_version.pk, integrity_failed_at__isnull=True
    ).update(integrity_failed_at=timezone.now(), integrity_error=str(error)[:300])
    if first:
        mail_admins(
            f"Model {model_version.version} failed its integrity check",
            f"{error}\n\nScores are not recomputed with it; everyone keeps their last "
            "good score. Restore the artifact or activate another version in the admin "
            "(Model versions).",
            fail_silently=True,
        )


def model_integrity_passed(*, model_version: ModelVersion) -> None:
    if model_version.integrity_failed_at is not None:
        ModelVersion.objects.filter(pk=model_version.pk).update(
            integrity_failed_at=None, integrity_error=""
        )
        logger.info(
            "model passes its integrity check again",
            extra={"model_version": model_version.version},
        )


def model_verified(model_version: ModelVersion) -> LoadedModel:
    """Load a version, recording (and re-raising) an integrity failure."""
    try:
        model = model_load(model_version)
    except ArtifactIntegrityError as error:
        model_integrity_failed(model_version=model_version, error=error)
        raise
    model_integrity_passed(model_version=model_version)
    return model


def model_usable(*, kind: str = ModelVersion.Kind.PORTAL) -> LoadedModel | None:
    """The active model of this kind if it verifies, else None (and the admins know)."""
    version = model_active(kind=kind)
    if version is None:
        return None
    try:
        return model_verified(version)
    except ArtifactIntegrityError:
        return None


def model_alerts() -> list[ModelVersion]:
    """Active versions that failed their last integrity check, for the admin banner."""
    return list(
        ModelVersion.objects.filter(is_active=True, integrity_failed_at__isnull=False).defer(
            "artifact", "card"
        )
    )
