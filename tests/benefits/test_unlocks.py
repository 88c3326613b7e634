"""Unlock records follow the score: opened with a notification when a snapshot crosses a
threshold, closed (kept as history) when it falls back or the offer goes, in a fixed number
of queries for any number of users; and the nightly run writes them in bulk, once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from accounts.crypto import keyed_hash
from accounts.models import ConsentPurpose, Identity, Notification, User
from accounts.services import consent_revoke
from benefits.models import Benefit, BenefitUnlock, Partner, PartnerStatusChange
from benefits.services import partner_status_set, unlocks_apply
from scoring.models import CourtListEntry, RecomputeChunk, ScoreSnapshot
from scoring.services.recompute import recompute_chunk_process
from scoring.tasks import recompute_run_start
from sesame_portal.errors import ServiceError
from tests.dates import in_days
from tests.factories import (
    WEB,
    grant_scoring,
    make_benefit,
    make_partner,
    make_user,
    rescore,
    verify,
)

pytestmark = pytest.mark.django_db


def unlocks_of(user: User, benefit: Benefit) -> list[BenefitUnlock]:
    return list(BenefitUnlock.objects.filter(user=user, benefit=benefit).order_by("id"))


def kinds_of(user: User) -> list[str]:
    return list(
        Notification.objects.filter(user=user).order_by("id").values_list("kind", flat=True)
    )


# --- Crossing thresholds -------------------------------------------------------------------------


def test_a_score_below_the_threshold_unlocks_nothing(owner, benefit, model_version):
    assert rescore(owner, 599, model_version=model_version) == (0, 0)

    assert unlocks_of(owner, benefit) == []
    assert kinds_of(owner) == []


def test_crossing_up_opens_an_unlock_and_notifies(owner, benefit, model_version):
    assert rescore(owner, 600, model_version=model_version) == (1, 0)

    [unlock] = unlocks_of(owner, benefit)
    assert unlock.locked_at is None
    assert unlock.score_at_unlock == 600
    notification = Notification.objects.get(user=owner)
    assert notification.kind == Notification.Kind.BENEFIT_UNLOCKED
    assert notification.read_at is None
    [item] = notification.params["benefits"]
    assert item["id"] == benefit.pk
    assert item["min_score"] == 600
    assert item["title_zh"] == benefit.title_zh


def test_staying_above_the_threshold_adds_nothing(owner, benefit, model_version):
    rescore(owner, 610, model_version=model_version)

    assert rescore(owner, 700, model_version=model_version) == (0, 0)
    assert rescore(owner, 600, model_version=model_version) == (0, 0)

    [unlock] = unlocks_of(owner, benefit)
    assert unlock.locked_at is None
    assert unlock.score_at_unlock == 610
    assert kinds_of(owner) == [Notification.Kind.BENEFIT_UNLOCKED]


def test_falling_below_closes_the_unlock_and_notifies(owner, benefit, model_version):
    rescore(owner, 610, model_version=model_version)

    assert rescore(owner, 599, model_version=model_version) == (0, 1)

    [unlock] = unlocks_of(owner, benefit)
    assert unlock.locked_at is not None
    assert unlock.score_at_lock == 599
    assert unlock.score_at_unlock == 610
    assert kinds_of(owner) == [
        Notification.Kind.BENEFIT_UNLOCKED,
        Notification.Kind.BENEFIT_LOCKED,
    ]
    locked_note = Notification.objects.filter(user=owner).first()
    assert [item["id"] for item in locked_note.params["benefits"]] == [benefit.pk]


def test_crossing_up_again_opens_a_new_row_and_keeps_the_history(owner, benefit, model_version):
    rescore(owner, 610, model_version=model_version)
    rescore(owner, 580, model_version=model_version)

    assert rescore(owner, 640, model_version=model_version) == (1, 0)

    first, second = unlocks_of(owner, benefit)
    assert (first.score_at_unlock, first.score_at_lock) == (610, 580)
    assert first.locked_at is not None
    assert (second.score_at_unlock, second.score_at_lock, second.locked_at) == (640, None, None)
    assert kinds_of(owner) == [
        Notification.Kind.BENEFIT_UNLOCKED,
        Notification.Kind.BENEFIT_LOCKED,
        Notification.Kind.BENEFIT_UNLOCKED,
    ]


def test_each_benefit_unlocks_at_its_own_threshold(owner, partner, model_version):
    bikes = make_benefit(partner, 600)
    cars = make_benefit(partner, 650)
    visas = make_benefit(partner, 700)

    assert rescore(owner, 660, model_version=model_version) == (2, 0)
    assert set(
        BenefitUnlock.objects.filter(user=owner, locked_at__isnull=True).values_list(
            "benefit_id", flat=True
        )
    ) == {bikes.pk, cars.pk}
    assert rescore(owner, 620, model_version=model_version) == (0, 1)
    assert not unlocks_of(owner, visas)
    assert unlocks_of(owner, cars)[0].score_at_lock == 620


def test_a_sub_score_below_its_minimum_keeps_the_benefit_locked(owner, partner, model_version):
    make_benefit(partner, 600, min_subscores={"capacity": 50})

    assert rescore(owner, 700, {"capacity": 49}, model_version=model_version) == (0, 0)
    assert rescore(owner, 700, {"capacity": 50}, model_version=model_version) == (1, 0)
    assert rescore(owner, 700, {"capacity": 30}, model_version=model_version) == (0, 1)


def test_only_benefits_on_offer_unlock(owner, partner, model_version):
    make_benefit(partner, 400, status=Benefit.Status.DRAFT)
    make_benefit(partner, 400, active_from=in_days(2))
    make_benefit(partner, 400, active_to=in_days(-0.5), active_from=in_days(-3))
    make_benefit(make_partner("待审 Pending", status=Partner.Status.PENDING), 400)
    make_benefit(make_partner("停用 Suspended", status=Partner.Status.SUSPENDED), 400)

    assert rescore(owner, 800, model_version=model_version) == (0, 0)
    assert not BenefitUnlock.objects.exists()


def test_a_benefit_that_ended_is_locked_at_the_next_recompute(owner, partner, model_version):
    ending = make_benefit(partner, 600)
    rescore(owner, 700, model_version=model_version)
    Benefit.objects.filter(pk=ending.pk).update(active_to=in_days(-0.01))

    assert rescore(owner, 700, model_version=model_version) == (0, 1)
    assert unlocks_of(owner, ending)[0].score_at_lock == 700


def test_a_court_listed_user_unlocks_nothing(owner, benefit, model_version):
    number = verify(owner)
    CourtListEntry.objects.create(id_number_hash=keyed_hash(number))

    assert rescore(owner, 900, model_version=model_version) == (0, 0)


def test_many_users_in_one_call_each_get_what_their_own_score_unlocks(partner, model_version):
    low, high = make_benefit(partner, 600), make_benefit(partner, 700)
    users = [make_user(f"many{i}") for i in range(4)]
    scores = [550, 600, 699, 950]

    unlocked, locked = unlocks_apply(
        scores=[(user.pk, score, {}) for user, score in zip(users, scores, strict=True)]
    )

    assert (unlocked, locked) == (4, 0)
    opened = set(BenefitUnlock.objects.values_list("user_id", "benefit_id"))
    assert opened == {
        (users[1].pk, low.pk),
        (users[2].pk, low.pk),
        (users[3].pk, low.pk),
        (users[3].pk, high.pk),
    }
    # One notification a user, listing everything that user unlocked.
    assert Notification.objects.count() == 3
    listed = Notification.objects.get(user=users[3]).params["benefits"]
    assert [item["id"] for item in listed] == [low.pk, high.pk]


def test_no_scores_do_nothing_and_ask_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert unlocks_apply(scores=[]) == (0, 0)


# --- Queries ------------------------------------------------------------------------------------


def _queries_to_apply(users: list[User], score: int) -> int:
    with CaptureQueriesContext(connection) as context:
        unlocks_apply(scores=[(user.pk, score, {"capacity": 60}) for user in users])
    return len(context.captured_queries)


def test_unlocks_take_the_same_number_of_queries_for_5_users_as_for_50(partner, model_version):
    make_benefit(partner, 600)
    make_benefit(partner, 700, min_subscores={"capacity": 50})
    few = [make_user(f"few{i}") for i in range(5)]
    many = [make_user(f"many{i}") for i in range(50)]
    for user in few[:2] + many[:20]:
        verify(user)

    assert _queries_to_apply(few, 750) == _queries_to_apply(many, 750)  # opening
    assert _queries_to_apply(few, 750) == _queries_to_apply(many, 750)  # nothing changes
    assert _queries_to_apply(few, 500) == _queries_to_apply(many, 500)  # closing
    assert BenefitUnlock.objects.filter(locked_at__isnull=False).count() == 2 * 55
    # Per user: one notification for what unlocked, one for what locked again.
    assert Notification.objects.count() == 2 * 55


# --- Other reasons an unlock closes --------------------------------------------------------------


def test_suspending_a_partner_closes_its_open_unlocks_and_records_why(
    owner, other_user, admin_user, partner, model_version
):
    theirs = make_benefit(partner, 600)
    elsewhere = make_benefit(make_partner("悦途酒店 Joyway Hotels", category="hotel"), 600)
    rescore(owner, 700, model_version=model_version)
    rescore(other_user, 700, model_version=model_version)

    changed = partner_status_set(
        partners=[partner], status=Partner.Status.SUSPENDED, reason="许可证过期", by=admin_user
    )

    assert [p.pk for p in changed] == [partner.pk]
    assert not BenefitUnlock.objects.filter(benefit=theirs, locked_at__isnull=True).exists()
    assert BenefitUnlock.objects.filter(benefit=theirs).count() == 2
    assert BenefitUnlock.objects.filter(benefit=elsewhere, locked_at__isnull=True).count() == 2
    change = PartnerStatusChange.objects.get(partner=partner)
    assert (change.status_from, change.status_to) == ("approved", "suspended")
    assert change.changed_by == admin_user
    assert change.reason == "许可证过期"
    partner.refresh_from_db()
    assert partner.status_changed_by == admin_user


def test_reapproving_a_partner_unlocks_again_at_the_next_recompute_as_a_new_row(
    owner, admin_user, partner, benefit, model_version
):
    rescore(owner, 700, model_version=model_version)
    partner_status_set(partners=[partner], status="suspended", reason="检查", by=admin_user)
    partner_status_set(partners=[partner], status="approved", reason="已整改", by=admin_user)

    assert rescore(owner, 700, model_version=model_version) == (1, 0)
    assert [u.locked_at is None for u in unlocks_of(owner, benefit)] == [False, True]


def test_a_status_change_needs_a_known_status_and_a_reason(admin_user, partner):
    for status, reason, code in [
        ("closed", "why", "invalid"),
        ("suspended", "  ", "reason_required"),
    ]:
        with pytest.raises(ServiceError) as caught:
            partner_status_set(partners=[partner], status=status, reason=reason, by=admin_user)
        assert caught.value.code == code
    partner.refresh_from_db()
    assert partner.status == Partner.Status.APPROVED
    assert not PartnerStatusChange.objects.exists()


def test_revoking_scoring_consent_closes_the_users_open_unlocks(
    owner, other_user, benefit, model_version
):
    grant_scoring(owner)
    grant_scoring(other_user)
    rescore(owner, 700, model_version=model_version)
    rescore(other_user, 700, model_version=model_version)
    grant = owner.consent_grants.get(purpose=ConsentPurpose.SCORING)

    consent_revoke(user=owner, grant_id=grant.pk, client=WEB)

    assert unlocks_of(owner, benefit)[0].locked_at is not None
    assert unlocks_of(other_user, benefit)[0].locked_at is None


# --- The nightly run ------------------------------------------------------------------------------


def _court_listed_user_ids() -> set[int]:
    return set(
        Identity.objects.filter(
            id_number_hash__in=CourtListEntry.objects.values("id_number_hash")
        ).values_list("user_id", flat=True)
    )


def test_the_nightly_run_writes_unlocks_in_bulk_once_even_when_a_chunk_comes_twice(
    population, partner
):
    offers = [make_benefit(partner, 350), make_benefit(partner, 620), make_benefit(partner, 950)]
    run = recompute_run_start(chunk_size=50)
    chunk_ids = list(run.chunks.order_by("pk").values_list("pk", flat=True))
    for chunk_id in chunk_ids:
        recompute_chunk_process(chunk_id=chunk_id)

    scores = dict(ScoreSnapshot.objects.filter(run=run).values_list("user_id", "score"))
    listed = _court_listed_user_ids()
    expected = {
        (user_id, offer.pk)
        for user_id, score in scores.items()
        for offer in offers
        if score >= offer.min_score and user_id not in listed
    }
    opened = set(BenefitUnlock.objects.values_list("user_id", "benefit_id"))
    assert len(scores) > 50
    assert listed & set(scores), "the population should hold court-listed people"
    assert opened == expected
    assert {pk for _u, pk in opened} >= {offers[0].pk}
    unlocked_notes = Notification.objects.filter(kind=Notification.Kind.BENEFIT_UNLOCKED)
    announced = {
        (note.user_id, item["id"]) for note in unlocked_notes for item in note.params["benefits"]
    }
    assert announced == expected
    assert unlocked_notes.count() == len({user_id for user_id, _b in expected})

    # A worker died after its chunk committed but before counting it done: the chunk is
    # delivered again, and a finished chunk may be delivered again too.
    RecomputeChunk.objects.filter(pk=chunk_ids[0]).update(done_at=None)
    assert recompute_chunk_process(chunk_id=chunk_ids[0]) > 0  # it really ran again
    assert recompute_chunk_process(chunk_id=chunk_ids[1]) == 0

    assert BenefitUnlock.objects.count() == len(expected)
    assert unlocked_notes.count() == len({user_id for user_id, _b in expected})
    assert not Notification.objects.exclude(kind=Notification.Kind.BENEFIT_UNLOCKED).exists()
    per_pair = BenefitUnlock.objects.values("user_id", "benefit_id").annotate(n=Count("id"))
    assert {row["n"] for row in per_pair} == {1}


def test_a_run_applies_a_new_benefit_to_people_whose_score_did_not_change(population, partner):
    """A run writes snapshots only where a score changed, but benefits still follow every
    score it checked: what was published since the last run unlocks for them too."""
    first = recompute_run_start(chunk_size=50)
    for chunk_id in first.chunks.values_list("pk", flat=True):
        recompute_chunk_process(chunk_id=chunk_id)
    offer = make_benefit(partner, 350)

    second = recompute_run_start(chunk_size=50)
    for chunk_id in second.chunks.values_list("pk", flat=True):
        recompute_chunk_process(chunk_id=chunk_id)

    first.refresh_from_db()
    second.refresh_from_db()
    assert second.users_done == first.users_done > 50
    scored = set(ScoreSnapshot.objects.filter(run=first).values_list("user_id", flat=True))
    # Friends' first scores move some connections features; the rest did not change.
    changed = set(ScoreSnapshot.objects.filter(run=second).values_list("user_id", flat=True))
    assert second.users_changed == len(changed) < second.users_done
    opened = set(BenefitUnlock.objects.filter(benefit=offer).values_list("user_id", flat=True))
    assert opened == scored - _court_listed_user_ids()
    assert opened - changed
