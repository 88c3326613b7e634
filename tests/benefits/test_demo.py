"""The demo catalogue: the thresholds of the public record, valid rows, loaded once."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from accounts.demo import DEMO_USERS
from accounts.models import User
from benefits.demo import demo_benefits_load, demo_partners_load
from benefits.models import Benefit, BenefitCategory, Partner
from benefits.selectors import benefits_offered, qualifying_preview
from scoring.models import ScoreSnapshot
from scoring.population.demo import DEMO_POPULATION_PREFIX, DEMO_POPULATION_USERS

pytestmark = pytest.mark.django_db


def load() -> list[Benefit]:
    demo_partners_load()
    return demo_benefits_load()


def test_loading_the_demo_catalogue_twice_changes_nothing():
    first = load()

    second = load()

    assert [b.pk for b in first] == [b.pk for b in second]
    assert Benefit.objects.count() == len(first)
    assert Partner.objects.count() == len(demo_partners_load())


def test_the_demo_thresholds_follow_the_public_record():
    load()
    offered = {b.category: b.min_score for b in benefits_offered()}

    assert offered[BenefitCategory.BIKE_RENTAL] == 600
    assert offered[BenefitCategory.HOTEL] == 600
    assert offered[BenefitCategory.HOUSING_DEPOSIT] == 600
    assert offered[BenefitCategory.CAR_RENTAL] == 650
    assert offered[BenefitCategory.VISA] == 700
    assert offered[BenefitCategory.SHARED_ITEMS] == 700


def test_every_demo_benefit_is_valid_and_only_approved_published_ones_are_offered():
    benefits = load()

    for benefit in benefits:
        benefit.full_clean()
    offered = list(benefits_offered())
    assert offered
    assert all(b.partner.is_approved and b.status == Benefit.Status.PUBLISHED for b in offered)
    assert len(offered) < len(benefits)  # a draft of a partner still in review waits


# --- The load_demo command (it composes accounts', scoring's and benefits' demo data) ----------


def test_load_demo_lists_the_demo_logins_without_loading_anything():
    out = io.StringIO()

    call_command("load_demo", "--list-logins", stdout=out)

    assert [line.split()[:2] for line in out.getvalue().splitlines()] == [
        [demo.username, demo.password] for demo in DEMO_USERS
    ]
    assert not Partner.objects.exists()


def test_load_demo_refuses_to_run_in_production(settings):
    settings.PRODUCTION = True

    with pytest.raises(CommandError, match="not loaded in production"):
        call_command("load_demo", stdout=io.StringIO())
    assert not Partner.objects.exists()


def test_load_demo_scores_its_synthetic_people_so_the_admin_preview_counts_them(active_model):
    call_command("load_demo", stdout=io.StringIO())
    bikes = Benefit.objects.get(category=BenefitCategory.BIKE_RENTAL)

    preview = qualifying_preview(benefit=bikes, thresholds=[600, 700])

    synthetic = User.objects.filter(username__startswith=f"{DEMO_POPULATION_PREFIX}-")
    assert synthetic.count() == DEMO_POPULATION_USERS
    assert ScoreSnapshot.objects.filter(user__in=synthetic).count() == DEMO_POPULATION_USERS
    assert preview.scored > DEMO_POPULATION_USERS // 2
    counts = dict(preview.by_threshold)
    assert counts[600] > counts[700] > 0
    # Loading again scores none of them twice (the demo logins are rescored each time).
    call_command("load_demo", stdout=io.StringIO())
    assert ScoreSnapshot.objects.filter(user__in=synthetic).count() == DEMO_POPULATION_USERS
