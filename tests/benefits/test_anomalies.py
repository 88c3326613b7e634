"""Flagging partners whose calls look like scraping or resale: a volume far above their
own baseline, many distinct people in ten minutes, many refused calls. Each flag is
raised once while open; a partner configured for it is suspended at once."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from accounts.models import User
from benefits import tasks
from benefits.models import Partner, PartnerAnomaly, PartnerQuery, PartnerStatusChange
from benefits.services.anomalies import (
    DISTINCT_USERS_MAX,
    REFUSED_FLOOR,
    SPIKE_FACTOR,
    SPIKE_FLOOR,
    partner_anomalies_detect,
)
from tests.factories import authorize, make_api_key, make_partner
from tests.partner_api import assert_error, partner_client, score_url

pytestmark = pytest.mark.django_db

Kind = PartnerAnomaly.Kind


@pytest.fixture
def now() -> datetime.datetime:
    return timezone.now()


def calls(
    partner: Partner,
    count: int,
    *,
    at: datetime.datetime,
    spread: datetime.timedelta = datetime.timedelta(0),
    outcome: str = "ok",
    users: list[int] | None = None,
) -> None:
    """`count` logged calls of the partner, evenly from `at - spread` to `at`; the i-th
    is about users[i] when users are given."""
    step = spread / count if count else spread
    PartnerQuery.objects.bulk_create(
        [
            PartnerQuery(
                partner=partner,
                user_id=users[i] if users else None,
                kind=PartnerQuery.Kind.SCORE,
                outcome=outcome,
                status_code=200 if outcome == "ok" else 403,
                created_at=at - step * i,
            )
            for i in range(count)
        ],
        batch_size=1000,
    )


def people(count: int) -> list[int]:
    users = User.objects.bulk_create([User(username=f"person-{i}") for i in range(count)])
    return [user.pk for user in users]


def flags(partner: Partner) -> list[str]:
    return sorted(PartnerAnomaly.objects.filter(partner=partner).values_list("kind", flat=True))


def minutes(value: float) -> datetime.timedelta:
    return datetime.timedelta(minutes=value)


# --- Volume far above the partner's own baseline --------------------------------------------------


def test_the_thresholds_are_what_these_tests_assume():
    assert (SPIKE_FACTOR, SPIKE_FLOOR, DISTINCT_USERS_MAX, REFUSED_FLOOR) == (5, 200, 300, 50)


def test_a_new_partners_burst_of_calls_is_flagged_once(partner, now, caplog):
    calls(partner, SPIKE_FLOOR, at=now - minutes(1), spread=minutes(50))

    first = partner_anomalies_detect(now=now)
    again = partner_anomalies_detect(now=now + minutes(5))

    assert [(a.partner, a.kind) for a in first] == [(partner, Kind.VOLUME_SPIKE)]
    assert first[0].detail == {"calls_last_hour": 200, "hourly_baseline": 0.0}
    assert first[0].detected_at == now
    assert first[0].resolved_at is None
    assert not first[0].suspended_partner
    assert again == []
    assert flags(partner) == [Kind.VOLUME_SPIKE]
    assert "flagged" in caplog.text


def test_a_quiet_hour_under_the_floor_is_not_a_spike(partner, now):
    calls(partner, SPIKE_FLOOR - 1, at=now - minutes(1), spread=minutes(50))

    assert partner_anomalies_detect(now=now) == []


def test_a_busy_partner_at_its_usual_volume_is_left_alone(partner, now):
    """An hourly baseline of 41 calls: 205 an hour is within five times it, 206 is not."""
    busy = make_partner("繁忙单车 Busy Bikes")
    for someone in (partner, busy):
        calls(someone, 168 * 41, at=now - minutes(61), spread=datetime.timedelta(days=6.9))
    calls(partner, 205, at=now - minutes(1), spread=minutes(50))
    calls(busy, 206, at=now - minutes(1), spread=minutes(50))

    flagged = partner_anomalies_detect(now=now)

    assert [(a.partner, a.kind) for a in flagged] == [(busy, Kind.VOLUME_SPIKE)]
    assert flagged[0].detail == {"calls_last_hour": 206, "hourly_baseline": 41.0}
    assert flags(partner) == []
    assert Partner.objects.get(pk=partner.pk).status == Partner.Status.APPROVED


def test_calls_older_than_a_week_are_no_baseline(partner, now):
    calls(partner, 10_000, at=now - datetime.timedelta(days=8, hours=2), spread=minutes(30))
    calls(partner, SPIKE_FLOOR, at=now - minutes(1), spread=minutes(50))

    assert [a.kind for a in partner_anomalies_detect(now=now)] == [Kind.VOLUME_SPIKE]


# --- Many distinct people in ten minutes ----------------------------------------------------------


def test_many_distinct_people_in_ten_minutes_are_flagged(partner, now):
    calls(partner, 301, at=now - minutes(1), spread=minutes(8), users=people(301))

    flagged = {a.kind: a for a in partner_anomalies_detect(now=now)}

    assert Kind.MANY_USERS in flagged
    assert flagged[Kind.MANY_USERS].detail == {
        "distinct_people_last_10_minutes": 301,
        "limit": DISTINCT_USERS_MAX,
    }
    assert Kind.MANY_REFUSALS not in flagged
    assert partner_anomalies_detect(now=now + minutes(1)) == []


def test_the_same_people_asked_about_again_are_not_many(partner, now):
    crowd = people(300)
    calls(partner, 301, at=now - minutes(1), spread=minutes(8), users=[*crowd, crowd[0]])

    assert Kind.MANY_USERS not in {a.kind for a in partner_anomalies_detect(now=now)}


def test_people_asked_about_more_than_ten_minutes_ago_do_not_count(partner, now):
    calls(partner, 301, at=now - minutes(11), spread=minutes(30), users=people(301))

    assert Kind.MANY_USERS not in {a.kind for a in partner_anomalies_detect(now=now)}


# --- Many refused calls ---------------------------------------------------------------------------


def test_many_refused_calls_are_flagged(partner, now):
    calls(partner, 50, at=now - minutes(1), spread=minutes(40), outcome="authorization_not_found")
    calls(partner, 10, at=now - minutes(2), spread=minutes(40))

    flagged = partner_anomalies_detect(now=now)

    assert [(a.kind, a.detail) for a in flagged] == [
        (Kind.MANY_REFUSALS, {"refused_last_hour": 50, "calls_last_hour": 60})
    ]


@pytest.mark.parametrize(
    ("refused", "answered"),
    [pytest.param(49, 0, id="under-the-floor"), pytest.param(50, 50, id="half-of-the-calls")],
)
def test_refusals_that_are_few_or_not_most_calls_are_not_flagged(partner, now, refused, answered):
    calls(partner, refused, at=now - minutes(1), spread=minutes(40), outcome="out_of_scope")
    calls(partner, answered, at=now - minutes(1), spread=minutes(40))

    assert partner_anomalies_detect(now=now) == []


def test_refusals_more_than_an_hour_ago_do_not_count(partner, now):
    calls(partner, 80, at=now - minutes(61), spread=minutes(30), outcome="out_of_scope")

    assert partner_anomalies_detect(now=now) == []


# --- Open flags, resolving, partners not approved -------------------------------------------------


def test_a_resolved_flag_is_raised_again_when_it_happens_again(partner, now):
    calls(partner, 60, at=now - minutes(1), spread=minutes(40), outcome="out_of_scope")
    [first] = partner_anomalies_detect(now=now)
    assert partner_anomalies_detect(now=now + minutes(5)) == []

    PartnerAnomaly.objects.filter(pk=first.pk).update(resolved_at=now + minutes(6))

    [second] = partner_anomalies_detect(now=now + minutes(10))
    assert second.pk != first.pk
    assert second.kind == Kind.MANY_REFUSALS
    assert PartnerAnomaly.objects.filter(resolved_at__isnull=True).get() == second


def test_each_partner_and_kind_is_flagged_on_its_own(partner, now):
    noisy = make_partner("吵闹数据 Noisy Data")
    calls(partner, 60, at=now - minutes(1), spread=minutes(40), outcome="out_of_scope")
    calls(noisy, 60, at=now - minutes(1), spread=minutes(40), outcome="out_of_scope")
    PartnerAnomaly.objects.create(partner=noisy, kind=Kind.VOLUME_SPIKE, detail={})

    flagged = partner_anomalies_detect(now=now)

    assert sorted((a.partner.name, a.kind) for a in flagged) == sorted(
        [(partner.name, Kind.MANY_REFUSALS), (noisy.name, Kind.MANY_REFUSALS)]
    )


@pytest.mark.parametrize("status", [Partner.Status.SUSPENDED, Partner.Status.PENDING])
def test_partners_not_approved_are_not_examined(now, status):
    stopped = make_partner("已停用 Stopped", status=status)
    calls(stopped, 400, at=now - minutes(1), spread=minutes(5), outcome="out_of_scope")

    assert partner_anomalies_detect(now=now) == []


def test_detection_takes_two_queries_however_many_partners(now, django_assert_max_num_queries):
    for i in range(10):
        calls(make_partner(f"Partner {i}"), 20, at=now - minutes(1), spread=minutes(40))

    with django_assert_max_num_queries(2):
        assert partner_anomalies_detect(now=now) == []


# --- Automatic suspension -------------------------------------------------------------------------


def test_a_partner_configured_for_it_is_suspended_and_its_key_stops(
    partner, scored_owner, now, partner_cache
):
    Partner.objects.filter(pk=partner.pk).update(suspend_on_anomaly=True)
    api = partner_client(make_api_key(partner))
    _grant, token = authorize(scored_owner, partner, "score")
    assert api.get(score_url(token)).status_code == 200
    calls(partner, 60, at=now - minutes(1), spread=minutes(40), outcome="authorization_not_found")

    [anomaly] = partner_anomalies_detect(now=now)

    assert anomaly.suspended_partner
    assert Partner.objects.get(pk=partner.pk).status == Partner.Status.SUSPENDED
    change = PartnerStatusChange.objects.get(partner=partner)
    assert (change.status_from, change.status_to, change.changed_by) == (
        Partner.Status.APPROVED,
        Partner.Status.SUSPENDED,
        None,
    )
    assert change.reason.startswith("automatic: ")
    assert_error(api.get(score_url(token)), 403, "partner_not_approved")


def test_a_partner_flagged_twice_at_once_is_suspended_once(partner, now):
    Partner.objects.filter(pk=partner.pk).update(suspend_on_anomaly=True)
    calls(partner, 250, at=now - minutes(1), spread=minutes(40), outcome="out_of_scope")

    flagged = partner_anomalies_detect(now=now)

    assert sorted(a.kind for a in flagged) == [Kind.MANY_REFUSALS, Kind.VOLUME_SPIKE]
    assert sum(a.suspended_partner for a in flagged) == 1
    assert PartnerStatusChange.objects.filter(partner=partner).count() == 1


def test_a_partner_not_configured_for_it_is_only_flagged(partner, now):
    calls(partner, 60, at=now - minutes(1), spread=minutes(40), outcome="out_of_scope")

    [anomaly] = partner_anomalies_detect(now=now)

    assert not anomaly.suspended_partner
    assert Partner.objects.get(pk=partner.pk).status == Partner.Status.APPROVED
    assert not PartnerStatusChange.objects.exists()


# --- Schedule and admin ---------------------------------------------------------------------------


def test_the_task_runs_the_detection_every_five_minutes(partner, now):
    calls(partner, 60, at=timezone.now() - minutes(1), spread=minutes(40), outcome="out_of_scope")

    assert tasks.partner_anomalies_detect() == 1
    schedule = PeriodicTask.objects.get(task="benefits.partner_anomalies_detect")
    assert schedule.enabled
    assert (schedule.interval.every, schedule.interval.period) == (5, "minutes")


def test_the_admin_lists_anomalies_and_resolves_them(admin_client, partner, now):
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    calls(partner, 60, at=now - minutes(1), spread=minutes(40), outcome="out_of_scope")
    [anomaly] = partner_anomalies_detect(now=now)

    listing = admin_client.get("/admin/benefits/partneranomaly/", {"resolved_at__isempty": "1"})
    assert listing.status_code == 200
    assert [a.pk for a in listing.context["cl"].result_list] == [anomaly.pk]
    change = admin_client.get(f"/admin/benefits/partneranomaly/{anomaly.pk}/change/")
    assert change.status_code == 200
    assert admin_client.get("/admin/benefits/partneranomaly/add/").status_code == 403

    admin_client.post(
        "/admin/benefits/partneranomaly/",
        {"action": "resolve", "_selected_action": [anomaly.pk]},
    )

    assert PartnerAnomaly.objects.get().resolved_at is not None


def test_the_admin_query_log_is_read_only(admin_client, partner, now):
    calls(partner, 3, at=now - minutes(1), spread=minutes(3), outcome="out_of_scope")
    row = PartnerQuery.objects.first()

    listing = admin_client.get("/admin/benefits/partnerquery/", {"outcome": "out_of_scope"})

    assert listing.status_code == 200
    assert len(listing.context["cl"].result_list) == 3
    assert admin_client.get("/admin/benefits/partnerquery/add/").status_code == 403
    assert admin_client.get(f"/admin/benefits/partnerquery/{row.pk}/delete/").status_code == 403
    admin_client.post(f"/admin/benefits/partnerquery/{row.pk}/change/", {"outcome": "ok"})
    assert PartnerQuery.objects.get(pk=row.pk).outcome == "out_of_scope"
