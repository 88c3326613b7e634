"""The nightly recompute of everyone: a run split into chunks of user ids, each chunk
read with a fixed number of queries, scored with one vectorised pass and written with one
bulk insert, the benefit unlocks it causes written in bulk alongside. Chunks are
idempotent (one snapshot per user per run, enforced by a unique constraint), so a chunk
delivered twice after a worker died holding it scores nobody twice; the sweep re-queues
chunks that went quiet, whatever the broker."""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.utils import timezone

from accounts.models import ConsentGrant, ConsentPurpose, NotificationPreference
from accounts.notifications import notification_emails_queue, score_changes_notify
from benefits.services.unlocks import unlocks_apply, unlocks_close_without_consent
from scoring.features import features_compute
from scoring.model_health import model_usable, model_verified
from scoring.models import (
    ModelVersion,
    PendingRecompute,
    RecomputeChunk,
    RecomputeRun,
    ScoreSnapshot,
)
from scoring.selectors import tables_load
from scoring.services import scores_compute
from sesame_portal.bulk import copy_insert

logger = logging.getLogger(__name__)

CHUNK_SIZE = 2000
STALE_AFTER = datetime.timedelta(minutes=2)
PENDING_STALE_AFTER = datetime.timedelta(minutes=10)


def _scoring_grants():
    return ConsentGrant.objects.current().filter(purpose=ConsentPurpose.SCORING)


def _consenting_user_ids(first: int | None = None, last: int | None = None) -> list[int]:
    grants = _scoring_grants()
    if first is not None:
        grants = grants.filter(user_id__gte=first, user_id__lte=last)
    return sorted(set(grants.values_list("user_id", flat=True)))


def _chunk_bounds(chunk_size: int) -> list[tuple[int, int]]:
    """(first, last) user id of each chunk of consenting users, read as one ordered stream
    from the database: memory grows with the number of chunks, not of users."""
    ids = (
        _scoring_grants()
        .order_by("user_id")
        .values_list("user_id", flat=True)
        .distinct()
        .iterator(chunk_size=20_000)
    )
    bounds: list[tuple[int, int]] = []
    first, count = None, 0
    for user_id in ids:
        if count == 0:
            first = user_id
        count += 1
        if count == chunk_size:
            bounds.append((first, user_id))
            count = 0
    if count:
        bounds.append((first, user_id))
    return bounds


def recompute_run_start(
    *, kind: str = RecomputeRun.Kind.NIGHTLY, chunk_size: int = CHUNK_SIZE
) -> RecomputeRun:
    """Create a run and its chunks, and queue one task per chunk after commit."""
    from scoring.tasks import recompute_chunk

    # No good model (none active, or it fails its check: the admins are alerted): the run
    # rescores nobody and everyone keeps their last good score.
    model = model_usable(kind=ModelVersion.Kind.PORTAL)
    unlocks_close_without_consent()
    bounds = _chunk_bounds(chunk_size) if model is not None else []
    with transaction.atomic():
        run = RecomputeRun.objects.create(
            kind=kind,
            chunk_size=chunk_size,
            model_version_id=model.model_version_id if model is not None else None,
        )
        chunks = [
            RecomputeChunk(run=run, first_user_id=first, last_user_id=last)
            for first, last in bounds
        ]
        RecomputeChunk.objects.bulk_create(chunks)
        run.chunks_total = len(chunks)
        if not chunks:
            run.finished_at = timezone.now()
        run.save(update_fields=["chunks_total", "finished_at"])
        chunk_ids = list(run.chunks.values_list("pk", flat=True))
        # robust: the sweep re-queues chunks whose message never left.
        transaction.on_commit(lambda: [recompute_chunk.delay(pk) for pk in chunk_ids], robust=True)
    return run


def run_snapshots_build(*, run: RecomputeRun, model, results: list[dict]) -> list[ScoreSnapshot]:
    """Unsaved snapshots of a run for scored rows (see scores_compute)."""
    now = timezone.now()
    return [
        ScoreSnapshot(
            user_id=r["user_id"],
            score=r["score"],
            band=r["band"],
            dimensions=r["dimensions"],
            contributions=r["contributions"],
            reasons=r["reasons"],
            features=r["features"],
            model_version_id=model.model_version_id,
            trigger=f"{run.kind}_run",
            computed_at=now,
            # The id, not the instance: assigning a related instance asks the database
            # router on every row, which cost more than building the row itself.
            run_id=run.pk,
        )
        for r in results
    ]


_SNAPSHOT_COLUMNS = (
    "user_id",
    "score",
    "band",
    "dimensions",
    "contributions",
    "reasons",
    "features",
    "model_version_id",
    "trigger",
    "computed_at",
    "run_id",
)
_SNAPSHOT_JSON = frozenset({"dimensions", "contributions", "reasons", "features"})


def snapshots_insert(snapshots: list[ScoreSnapshot]) -> None:
    """Insert a run's snapshots; a second delivery of the same chunk inserts nothing new.

    Streamed with COPY on PostgreSQL (see sesame_portal.bulk.copy_insert): encoding the
    JSON columns through the ORM's bulk insert costs several times more than scoring them.
    """
    copy_insert(
        ScoreSnapshot,
        _SNAPSHOT_COLUMNS,
        ([getattr(s, name) for name in _SNAPSHOT_COLUMNS] for s in snapshots),
        json_columns=_SNAPSHOT_JSON,
        ignore_conflicts=True,
    )


def _score_changes(
    *, run: RecomputeRun, user_ids: list[int], computed_at: datetime.datetime, skip: set[int]
) -> list[tuple[int, int | None, int | None, int, int, bool]]:
    """The snapshots this delivery of a chunk wrote (none when an earlier delivery wrote
    them: those carry its moment) as (user id, previous snapshot id, previous score,
    snapshot id, score, wants email), users in `skip` left out. One query: each user's
    new and previous snapshots are probes into the (user, computed_at) index."""
    previous = ScoreSnapshot.objects.filter(
        user_id=OuterRef("user_id"), computed_at__lt=OuterRef("computed_at")
    ).order_by("-computed_at", "-id")
    rows = (
        # The run is checked below, not in SQL: PostgreSQL's statistics cannot know a run
        # that started tonight, so it would scan the run's index, ever longer as the
        # night goes on, instead of probing the users' own index.
        ScoreSnapshot.objects.filter(user_id__in=user_ids, computed_at=computed_at)
        .annotate(
            previous_id=Subquery(previous.values("id")[:1]),
            previous_score=Subquery(previous.values("score")[:1]),
            by_email=Exists(
                NotificationPreference.objects.filter(user_id=OuterRef("user_id"), by_email=True)
            ),
        )
        .values_list(
            "user_id", "previous_id", "previous_score", "id", "score", "by_email", "run_id"
        )
    )
    return [row[:6] for row in rows if row[6] == run.pk and row[0] not in skip]


def recompute_chunk_process(*, chunk_id: int) -> int:
    """Score one chunk; return how many users were scored now (0 if it was done)."""
    chunk = RecomputeChunk.objects.select_related("run", "run__model_version").get(pk=chunk_id)
    if chunk.done_at is not None or chunk.run.model_version is None:
        return 0
    run = chunk.run
    model = model_verified(run.model_version)
    user_ids = _consenting_user_ids(chunk.first_user_id, chunk.last_user_id)
    created = 0
    if user_ids:
        day = timezone.localdate(run.started_at)
        tables = tables_load(user_ids=user_ids, as_of=day, previous_before=run.started_at)
        results = scores_compute(model=model, features=features_compute(tables, as_of=day))
        snapshots = run_snapshots_build(run=run, model=model, results=results)
        computed_at = snapshots[0].computed_at if snapshots else None
        with transaction.atomic():
            # One transaction: a chunk delivered again finds both written or neither.
            snapshots_insert(snapshots)
            # A per-user recompute that committed while this chunk was scored holds the
            # newer score: its unlocks stand.
            newer = set(
                ScoreSnapshot.objects.filter(
                    user_id__in=user_ids, computed_at__gt=computed_at
                ).values_list("user_id", flat=True)
            )
            changes = _score_changes(
                run=run, user_ids=user_ids, computed_at=computed_at, skip=newer
            )
            notified = score_changes_notify(
                changes=[change[:5] for change in changes], at=computed_at
            )
            unlocked, locked = unlocks_apply(
                scores=[
                    (s.user_id, s.score, s.dimensions) for s in snapshots if s.user_id not in newer
                ],
                now=computed_at,
            )
            # One email task for the chunk, for the users who asked for email: it finds
            # their score and benefit notifications by the chunk's moment.
            emailed = [change[0] for change in changes if change[5]]
            if emailed and (notified or unlocked or locked):
                notification_emails_queue(user_ids=emailed, at=computed_at)
        created = len(snapshots)
    with transaction.atomic():
        # Compare-and-set: only the first delivery to finish counts the chunk as done.
        claimed = RecomputeChunk.objects.filter(pk=chunk.pk, done_at__isnull=True).update(
            done_at=timezone.now(), users_done=created
        )
        if not claimed:
            return 0
        RecomputeRun.objects.filter(pk=run.pk).update(
            chunks_done=F("chunks_done") + 1, users_done=F("users_done") + created
        )
        RecomputeRun.objects.filter(
            pk=run.pk, finished_at__isnull=True, chunks_done=F("chunks_total")
        ).update(finished_at=timezone.now())
    return created


def recompute_chunk_failed(*, chunk_id: int) -> None:
    RecomputeRun.objects.filter(chunks__pk=chunk_id).update(failures=F("failures") + 1)


def recompute_sweep(*, stale_after: datetime.timedelta = STALE_AFTER) -> int:
    """Re-queue chunks of unfinished runs that have waited too long (their worker died,
    or the broker lost the message). Returns how many were re-queued."""
    from scoring.tasks import recompute_chunk

    cutoff = timezone.now() - stale_after
    stale = list(
        RecomputeChunk.objects.filter(
            run__finished_at__isnull=True,
            done_at__isnull=True,
            queued_at__lt=cutoff,
        ).values_list("pk", flat=True)
    )
    if stale:
        RecomputeChunk.objects.filter(pk__in=stale).update(queued_at=timezone.now())
        for pk in stale:
            recompute_chunk.delay(pk)
        logger.warning("re-queued %d stale recompute chunks", len(stale))
    return len(stale) + _pending_users_requeue(cutoff=timezone.now() - PENDING_STALE_AFTER)


def _pending_users_requeue(*, cutoff: datetime.datetime) -> int:
    """A per-user recompute whose message was lost would keep its user 'pending' for
    ever, blocking new ones: publish it again."""
    from scoring.tasks import score_recompute_user

    stale = list(
        PendingRecompute.objects.filter(
            Q(started_at__isnull=True) | Q(started_at__lt=cutoff),
            queued_at__lt=cutoff,
            failed_at__isnull=True,
        ).values_list("user_id", flat=True)[:10_000]
    )
    if stale:
        PendingRecompute.objects.filter(user_id__in=stale).update(
            queued_at=timezone.now(), started_at=None
        )
        for user_id in stale:
            score_recompute_user.delay(user_id, "requeued")
        logger.warning("re-queued %d stale per-user recomputes", len(stale))
    return len(stale)
