"""Unlocks when things happen at once or lapse: an overlapping recompute, a nightly chunk
older than a per-user recompute, a scoring consent that expired, a voucher that would
outlive its offer."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from django.utils import timezone

from accounts.models import ConsentGrant, ConsentPurpose, Notification
from benefits.models import BenefitUnlock
from benefits.services import unlocks as unlocks_module
from benefits.services import unlocks_apply, voucher_claim
from benefits.services.unlocks import unlocks_close_without_consent
from scoring.models import CourtListEntry, ScoreSnapshot
from scoring.services.recompute import recompute_chunk_process
from scoring.tasks import recompute_run_start
from tests.dates import in_days
from tests.factories import grant_scoring, make_benefit, make_user, set_score

pytestmark = pytest.mark.django_db


def test_an_unlock_opened_meanwhile_by_another_recompute_is_announced_once(
    owner, benefit, model_version
):
    set_score(owner, 700, model_version=model_version)
    real_copy_insert = unlocks_module.copy_insert

    def overlapping(model, *args, **kwargs):
        if model is BenefitUnlock:
            # The other recompute writes the same unlock between our read and our write.
            BenefitUnlock.objects.create(
                user=owner,
                benefit=benefit,
                score_at_unlock=700,
                unlocked_at=timezone.now() - datetime.timedelta(seconds=1),
            )
        return real_copy_insert(model, *args, **kwargs)

    with mock.patch.object(unlocks_module, "copy_insert", side_effect=overlapping):
        unlocked, _locked = unlocks_apply(scores=[(owner.pk, 700, {})])

    assert unlocked == 0
    assert BenefitUnlock.objects.filter(user=owner).count() == 1
    assert not Notification.objects.filter(user=owner).exists()


def test_an_expired_scoring_consent_closes_unlocks_when_the_nightly_run_starts(
    owner, other_user, benefit, model_version
):
    for user in (owner, other_user):
        grant_scoring(user)
        set_score(user, 700, model_version=model_version)
        unlocks_apply(scores=[(user.pk, 700, {})])
    ConsentGrant.objects.filter(user=owner, purpose=ConsentPurpose.SCORING).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )

    with mock.patch("scoring.tasks.recompute_chunk.delay"):
        recompute_run_start()

    assert BenefitUnlock.objects.get(user=owner).locked_at is not None
    assert BenefitUnlock.objects.get(user=other_user).locked_at is None
    assert unlocks_close_without_consent() == 0  # nothing left to close


def test_a_nightly_chunk_leaves_the_unlocks_of_a_newer_per_user_recompute_alone(
    population,
    partner,
):
    offer = make_benefit(partner, 350)  # everyone not court-listed qualifies
    run = recompute_run_start(chunk_size=1000)
    chunk = run.chunks.get()
    # A per-user recompute commits after the run started: its score is the newer one, and
    # it found the person no longer qualifying (nothing unlocked for them).
    listed = CourtListEntry.objects.values("id_number_hash")
    user_id = (
        ConsentGrant.objects.current()
        .filter(purpose=ConsentPurpose.SCORING)
        .exclude(user__identity__id_number_hash__in=listed)
        .values_list("user_id", flat=True)
        .order_by("user_id")
        .first()
    )
    later = timezone.now() + datetime.timedelta(hours=1)
    ScoreSnapshot.objects.create(
        user_id=user_id,
        score=350,
        band="poor",
        dimensions={},
        model_version_id=run.model_version_id,
        trigger="profile",
        computed_at=later,
    )

    recompute_chunk_process(chunk_id=chunk.pk)

    others = BenefitUnlock.objects.filter(benefit=offer).exclude(user_id=user_id)
    assert others.exists()
    assert not BenefitUnlock.objects.filter(user_id=user_id).exists()


def test_a_voucher_never_outlives_the_offer(owner, partner, model_version):
    grant_scoring(owner)
    set_score(owner, 700, model_version=model_version)
    ending = in_days(3)
    offer = make_benefit(partner, 600, active_to=ending, voucher_days=30)

    voucher = voucher_claim(user=owner, benefit_id=offer.pk)

    assert voucher.expires_at == ending


def test_a_voucher_lasts_its_days_when_the_offer_runs_longer(owner, partner, model_version):
    grant_scoring(owner)
    set_score(owner, 700, model_version=model_version)
    offer = make_benefit(partner, 600, active_to=in_days(90), voucher_days=30)

    voucher = voucher_claim(user=owner, benefit_id=offer.pk)

    assert voucher.expires_at == voucher.issued_at + datetime.timedelta(days=30)


def test_without_an_age_or_region_rule_an_unverified_user_unlocks_by_score(benefit, model_version):
    user = make_user("unverified")
    assert unlocks_apply(scores=[(user.pk, 900, {})]) == (1, 0)
