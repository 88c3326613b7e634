"""The nightly recompute of everyone: a run split into chunks of user ids, each chunk
read with a fixed number of queries, scored with one vectorised pass and written, with the
notifications and benefit unlocks it causes, by the pipeline the per-user recompute shares
(scoring.services.scores.snapshots_write_and_follow_up): bulk, a fixed number of queries. A chunk
is claimed and written in one transaction (see recompute_chunk_process), so a chunk
delivered twice, or again after a worker died holding it, scores nobody twice; the sweep
re-queues chunks that went quiet, whatever the broker."""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.selectors import users_consenting_to_scoring
from scoring.ml.features import features_compute, features_verified_only
from scoring.ml.health import model_usable, model_verified
from scoring.models import ModelVersion, RecomputeChunk, RecomputeRun
from scoring.selectors import feature_inputs_load
from scoring.services.pending import pending_requeue
from scoring.services.scores import scores_compute, snapshots_write_and_follow_up
from scoring.signals import recompute_run_starting

logger = logging.getLogger(__name__)

CHUNK_SIZE = 2000
STALE_AFTER = datetime.timedelta(minutes=2)
PENDING_STALE_AFTER = datetime.timedelta(minutes=10)


def _consenting_user_ids(first: int, last: int) -> list[int]:
    return sorted(set(users_consenting_to_scoring().filter(user_id__gte=first, user_id__lte=last)))


def _chunk_bounds(chunk_size: int) -> list[tuple[int, int]]:
    """(first, last) user id of each chunk of consenting users, read as one ordered stream
    from the database: memory grows with the number of chunks, not of users."""
    ids = users_consenting_to_scoring().order_by("user_id").distinct().iterator(chunk_size=20_000)
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


def recompute_run_create(
    *, kind: str = RecomputeRun.Kind.NIGHTLY, chunk_size: int = CHUNK_SIZE
) -> tuple[RecomputeRun, list[int]]:
    """Create a run and its chunks; returns the run and the chunk ids to queue
    (scoring.tasks.recompute_run_start queues them)."""
    # No good model (none active, or it fails its check: the admins are alerted): the run
    # rescores nobody and everyone keeps their last good score.
    model = model_usable(kind=ModelVersion.Kind.PORTAL)
    recompute_run_starting.send(RecomputeRun)
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
    return run, chunk_ids


def recompute_chunk_process(*, chunk_id: int) -> int:
    """Score one chunk; return how many users were scored now (0 if it was done). Only
    the users whose score changed get a new snapshot (see snapshots_write_and_follow_up);
    the chunk, once done, records that the others were checked.

    Exactly once: the chunk is claimed (done_at set where it was empty) at the start of
    the transaction that writes its snapshots. A second delivery waits on the claimed row
    and then finds it done; a worker that dies mid-way rolls the claim back with
    everything else. No unique index is needed for it, which the monthly partitions of
    the snapshot table could not enforce per run (their keys must hold the month).
    """
    chunk = RecomputeChunk.objects.select_related("run", "run__model_version").get(pk=chunk_id)
    if chunk.done_at is not None or chunk.run.model_version is None:
        return 0
    run = chunk.run
    model = model_verified(run.model_version)
    with transaction.atomic():
        claimed = RecomputeChunk.objects.filter(pk=chunk.pk, done_at__isnull=True).update(
            done_at=timezone.now()
        )
        if not claimed:
            return 0
        user_ids = _consenting_user_ids(chunk.first_user_id, chunk.last_user_id)
        created = changed = 0
        if user_ids:
            day = timezone.localdate(run.started_at)
            inputs = feature_inputs_load(
                user_ids=user_ids, as_of=day, previous_before=run.started_at
            )
            features = features_compute(inputs, as_of=day)
            scored = scores_compute(
                model=model, features=features, verified=features_verified_only(inputs, features)
            )
            changed = snapshots_write_and_follow_up(
                scored=scored,
                model_version_id=model.model_version_id,
                trigger=f"{run.kind}_run",
                computed_at=timezone.now(),
                run_id=run.pk,
                only_changes=True,
            )
            created = len(scored)
        RecomputeChunk.objects.filter(pk=chunk.pk).update(
            done_at=timezone.now(), users_done=created
        )
        RecomputeRun.objects.filter(pk=run.pk).update(
            chunks_done=F("chunks_done") + 1,
            users_done=F("users_done") + created,
            users_changed=F("users_changed") + changed,
        )
        RecomputeRun.objects.filter(
            pk=run.pk, finished_at__isnull=True, chunks_done=F("chunks_total")
        ).update(finished_at=timezone.now())
    return created


def recompute_chunk_failed(*, chunk_id: int) -> None:
    RecomputeRun.objects.filter(chunks__pk=chunk_id).update(failures=F("failures") + 1)


def recompute_stale_claim(
    *, stale_after: datetime.timedelta = STALE_AFTER
) -> tuple[list[int], list[int]]:
    """The chunks of unfinished runs that have waited too long (their worker died, or the
    broker lost the message), marked queued again, and the users whose per-user recompute
    is stuck: (chunk ids, user ids) for scoring.tasks.recompute_stale_requeue to queue."""
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
        logger.warning("re-queued %d stale recompute chunks", len(stale))
    # A per-user recompute whose message was lost would keep its user 'pending' for
    # ever, blocking new ones: it is published again.
    users = pending_requeue(cutoff=timezone.now() - PENDING_STALE_AFTER)
    if users:
        logger.warning("re-queued %d stale per-user recomputes", len(users))
    return stale, list(users)
