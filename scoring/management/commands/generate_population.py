from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from scoring.population.generate import population_draw
from scoring.population.store import population_save


class Command(BaseCommand):
    help = (
        "Create N synthetic people with correlated records, drawn from the documented "
        "latent-risk process (scoring/population/generate.py), as portal users."
    )

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, users: int, seed: int, **options):
        if not 1 <= users <= 2_000_000:
            raise CommandError("--users must be between 1 and 2,000,000.")
        started = time.perf_counter()
        population = population_draw(users=users, seed=seed)
        try:
            created = population_save(population)
        except Exception as exc:  # a clash with an earlier run of the same seed, mostly
            raise CommandError(f"Nothing was saved: {exc}") from None
        self.stdout.write(
            f"Created {len(created)} people (seed {seed}, default rate "
            f"{population.defaulted.mean():.1%}) in {time.perf_counter() - started:.1f} s."
        )
