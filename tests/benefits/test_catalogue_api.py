"""GET /api/v1/me/benefits/: the catalogue as each user sees it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import ConsentPurpose
from accounts.services import consent_revoke
from benefits.models import Benefit, BenefitCategory, Partner
from benefits.services import voucher_claim
from tests.dates import in_days
from tests.factories import WEB, grant_scoring, make_benefit, make_partner, make_user, set_score

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/benefits/"


def by_id(items: list[dict]) -> dict[int, dict]:
    return {item["id"]: item for item in items}


def test_unlocked_come_first_then_the_nearest(scored_owner, owner_api, partner):
    far = make_benefit(partner, 900)
    near = make_benefit(partner, 660)
    middle = make_benefit(partner, 700)
    easy = make_benefit(partner, 600)
    exact = make_benefit(partner, 650)

    response = owner_api.get(URL)

    assert response.status_code == 200
    items = response.json()
    assert [item["id"] for item in items] == [easy.pk, exact.pk, near.pk, middle.pk, far.pk]
    assert [item["unlocked"] for item in items] == [True, True, False, False, False]
    assert [item["points_away"] for item in items] == [0, 0, 10, 50, 250]
    assert items[0]["progress"] == 100
    assert items[2]["progress"] == int(100 * (650 - 350) / (660 - 350))
    assert items[0]["blocked_by"] == []
    assert items[2]["blocked_by"] == ["score"]


def test_each_item_says_what_it_is_and_what_stands_in_the_way(scored_owner, owner_api, partner):
    short = make_benefit(partner, 600, min_subscores={"capacity": 80}, quota=5)

    [item] = owner_api.get(URL).json()

    assert item["id"] == short.pk
    assert item["partner"] == partner.name
    assert item["category"] == BenefitCategory.BIKE_RENTAL
    assert item["min_score"] == 600
    assert item["min_subscores"] == {"capacity": 80}
    assert item["unlocked"] is False
    assert item["points_away"] == 0
    assert item["blocked_by"] == ["subscore"]
    assert item["subscores_short"] == ["capacity"]
    assert item["claimed_out"] is False
    assert item["voucher"] is None


def test_a_locked_benefit_blocked_by_age_sorts_with_zero_points_away(
    scored_owner, owner_api, partner
):
    seniors = make_benefit(partner, 600, min_age=60)
    reach = make_benefit(partner, 700)

    items = owner_api.get(URL).json()

    assert [(i["id"], i["blocked_by"]) for i in items] == [
        (seniors.pk, ["age"]),
        (reach.pk, ["score"]),
    ]


def test_my_valid_voucher_and_an_exhausted_quota_are_shown(
    scored_owner, owner_api, partner, model_version
):
    mine = make_benefit(partner, 600)
    gone = make_benefit(partner, 610, quota=1)
    voucher = voucher_claim(user=scored_owner, benefit_id=mine.pk)
    other = make_user("quick")
    grant_scoring(other)
    set_score(other, 800, model_version=model_version)
    voucher_claim(user=other, benefit_id=gone.pk)

    items = by_id(owner_api.get(URL).json())

    assert items[mine.pk]["voucher"]["code"] == voucher.code
    assert items[mine.pk]["claimed_out"] is False
    assert items[gone.pk]["voucher"] is None
    assert items[gone.pk]["claimed_out"] is True


def test_the_category_filter_keeps_one_category(scored_owner, owner_api, partner):
    make_benefit(partner, 600)
    hotel = make_benefit(partner, 600, category=BenefitCategory.HOTEL)

    items = owner_api.get(URL, {"category": "hotel"}).json()

    assert [item["id"] for item in items] == [hotel.pk]
    assert owner_api.get(URL, {"category": "visa"}).json() == []


def test_an_unknown_category_is_refused(scored_owner, owner_api, benefit):
    response = owner_api.get(URL, {"category": "spaceships"})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["message"]


def test_only_what_is_on_offer_now_is_listed(scored_owner, owner_api, partner):
    offered = make_benefit(partner, 600)
    make_benefit(partner, 600, status=Benefit.Status.DRAFT)
    make_benefit(partner, 600, active_from=in_days(1))
    make_benefit(partner, 600, active_from=in_days(-9), active_to=in_days(-1))
    make_benefit(make_partner("停用 Suspended", status=Partner.Status.SUSPENDED), 600)
    make_benefit(make_partner("待审 Pending", status=Partner.Status.PENDING), 600)
    ending_later = make_benefit(partner, 600, active_to=in_days(1))

    ids = [item["id"] for item in owner_api.get(URL).json()]

    assert ids == [offered.pk, ending_later.pk]


def test_without_scoring_consent_everything_is_locked_with_no_points_away(
    scored_owner, owner_api, partner
):
    make_benefit(partner, 350)
    make_benefit(partner, 700)
    grant = scored_owner.consent_grants.get(purpose=ConsentPurpose.SCORING)
    consent_revoke(user=scored_owner, grant_id=grant.pk, client=WEB)

    items = owner_api.get(URL).json()

    assert len(items) == 2
    for item in items:
        assert item["unlocked"] is False
        assert item["points_away"] is None
        assert item["progress"] == 0
        assert item["blocked_by"] == ["no_score"]


def test_a_user_never_scored_sees_everything_locked(owner_api, partner):
    make_benefit(partner, 350)

    [item] = owner_api.get(URL).json()

    assert (item["unlocked"], item["points_away"], item["blocked_by"]) == (
        False,
        None,
        ["no_score"],
    )


def test_each_user_sees_the_catalogue_by_their_own_score(
    scored_owner, owner_api, other_api, other_user, partner, model_version
):
    offer = make_benefit(partner, 640)
    grant_scoring(other_user)
    set_score(other_user, 600, model_version=model_version)

    assert owner_api.get(URL).json()[0]["unlocked"] is True
    theirs = other_api.get(URL).json()[0]
    assert (theirs["id"], theirs["unlocked"], theirs["points_away"]) == (offer.pk, False, 40)


def test_the_latest_snapshot_counts(scored_owner, owner_api, partner, model_version):
    offer = make_benefit(partner, 640)
    set_score(scored_owner, 630, model_version=model_version, at=in_days(0.001))

    [item] = owner_api.get(URL).json()

    assert (item["id"], item["points_away"]) == (offer.pk, 10)


def test_the_catalogue_needs_authentication(api_client, benefit):
    response = api_client.get(URL)

    assert response.status_code in (401, 403)
    assert set(response.json()) == {"code", "message"}


def test_the_catalogue_takes_the_same_queries_for_3_benefits_as_for_30(
    scored_owner, owner_api, partner
):
    for score in (600, 650, 700):
        make_benefit(partner, score)
    owner_api.get(URL)
    with CaptureQueriesContext(connection) as few:
        assert len(owner_api.get(URL).json()) == 3
    for score in range(360, 950, 22):
        make_benefit(make_partner(f"Partner {score}"), score, min_subscores={"capacity": 10})

    with CaptureQueriesContext(connection) as many:
        assert len(owner_api.get(URL).json()) == 30

    assert len(many.captured_queries) == len(few.captured_queries)
