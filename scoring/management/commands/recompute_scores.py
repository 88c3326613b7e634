from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import User
from scoring.models import RecomputeRun, ScoreSnapshot
from scoring.services.recompute import CHUNK_SIZE
from scoring.tasks import recompute_run_start, recompute_stale_requeue, score_recompute_queue


class Command(BaseCommand):
    help = (
        "Queue a recompute of everyone (--all, in chunks) or of one user (--user ID); "
        "with --wait, wait for the worker and print progress and the final figures."
    )

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--all", action="store_true")
        target.add_argument("--user", type=int, metavar="ID")
        parser.add_argument("--wait", action="store_true")
        parser.add_argument("--chunk-size", type=int, default=CHUNK_SIZE)
        parser.add_argument("--timeout", type=int, default=3600, help="Seconds to wait.")

    def handle(self, *args, **options):
        if options["user"] is not None:
            return self._one(options)
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be at least 1.")
        run = recompute_run_start(kind=RecomputeRun.Kind.MANUAL, chunk_size=options["chunk_size"])
        self.stdout.write(f"Run {run.pk}: {run.chunks_total} chunks queued.")
        if not options["wait"]:
            return
        deadline = time.monotonic() + options["timeout"]
        last = -1
        while True:
            run.refresh_from_db()
            if run.chunks_done != last:
                self.stdout.write(
                    f"  {run.chunks_done}/{run.chunks_total} chunks, {run.users_done} users"
                )
                last = run.chunks_done
            if run.finished_at is not None:
                break
            if time.monotonic() > deadline:
                raise CommandError(f"Run {run.pk} not finished after {options['timeout']} s.")
            recompute_stale_requeue()
            time.sleep(1)
        seconds = (run.finished_at - run.started_at).total_seconds()
        self.stdout.write(
            f"Run {run.pk} finished: {run.users_done} users in {seconds:.1f} s "
            f"({run.users_done / max(seconds, 1e-6):,.0f} users/s), "
            f"{run.failures} failed attempts."
        )

    def _one(self, options):
        user = User.objects.filter(pk=options["user"]).first()
        if user is None:
            raise CommandError(f"No user with id {options['user']}.")
        started = timezone.now()
        if not score_recompute_queue(user=user, trigger="command"):
            self.stdout.write("Not queued: no scoring consent, or a recompute is pending.")
            if not options["wait"]:
                return
        else:
            self.stdout.write(f"Recompute of user {user.pk} queued.")
        if not options["wait"]:
            return
        deadline = time.monotonic() + options["timeout"]
        while time.monotonic() < deadline:
            snapshot = (
                ScoreSnapshot.objects.filter(user=user, computed_at__gte=started)
                .order_by("-computed_at")
                .first()
            )
            if snapshot is not None:
                self.stdout.write(f"User {user.pk}: {snapshot.score} ({snapshot.band}).")
                return
            time.sleep(0.5)
        raise CommandError(f"No new score for user {user.pk} after {options['timeout']} s.")
