from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.demo import DEMO_USERS, demo_users_load
from benefits.demo import demo_benefits_load, demo_partners_load
from scoring.population.demo import (
    demo_model_ensure,
    demo_population_ensure,
    demo_population_score,
    demo_records_load,
    demo_scores_compute,
)


class Command(BaseCommand):
    help = "Load the demo partners, benefits and users (idempotent). Refused in production."

    def add_arguments(self, parser):
        parser.add_argument(
            "--list-logins", action="store_true", help="Only print the demo logins."
        )

    def handle(self, *args, list_logins: bool = False, **options):
        if list_logins:
            for demo in DEMO_USERS:
                self.stdout.write(f"    {demo.username:<14} {demo.password:<18} {demo.description}")
            return
        if settings.PRODUCTION:
            raise CommandError("Demo data has known passwords: not loaded in production.")
        partners = demo_partners_load()
        benefits = demo_benefits_load()
        model = demo_model_ensure()
        users = demo_users_load()
        for user in users:
            if user.username == "demo":
                demo_records_load(user=user)
        people = demo_population_ensure()
        scored = demo_scores_compute(users=users)
        people_scored = demo_population_score()
        self.stdout.write(
            f"Demo data ready: {len(partners)} partners, {len(benefits)} benefits, "
            f"{len(users)} users ({scored} scored with {model.version}), "
            f"{people} synthetic people added, {people_scored} of them scored."
        )
