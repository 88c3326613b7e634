"""The score home: its states, charts, reasons, tips and next update; the htmx panel that
is polled while a recompute runs; asking again after a failure; the history page."""

from __future__ import annotations

import datetime
import itertools
import re
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from accounts.clients import Client as WebClient
from accounts.services import consent_revoke
from scoring import charts
from scoring.models import CourtListEntry, PendingRecompute, ScoreSnapshot
from scoring.services.scores import score_recompute
from scoring.views.home import nightly_next, score_home
from tests.dates import days_ago
from tests.factories import (
    add_account,
    add_bill,
    add_repayment,
    grant,
    make_id_number,
    make_user,
    past_snapshot,
    set_profile,
    snapshot_arrays,
    solid_file,
    verify_identity,
)

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _client(user, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


@pytest.fixture
def person(active_model):
    """Verified, consenting, an ordinary file, one snapshot."""
    user = make_user("homed")
    verify_identity(user, make_id_number(sequence="301"))
    grant(user)
    solid_file(user)
    PendingRecompute.objects.filter(user=user).delete()  # the consent's recompute ran
    snapshot = score_recompute(user=user, trigger="test")
    return user, snapshot


# --- Charts ---------------------------------------------------------------------------


def _start(path: str) -> tuple[float, float]:
    x, y = re.match(r"M ([\d.]+) ([\d.]+)", path).groups()
    return float(x), float(y)


def _end(path: str) -> tuple[float, float]:
    *_rest, x, y = path.split()
    return float(x), float(y)


def test_gauge_runs_from_350_on_the_left_to_950_on_the_right():
    low, high, middle = charts.gauge(350), charts.gauge(950), charts.gauge(650)
    assert low.marker == (charts.GAUGE_CX - charts.GAUGE_R, charts.GAUGE_CY)
    assert high.marker == (charts.GAUGE_CX + charts.GAUGE_R, charts.GAUGE_CY)
    assert middle.marker == (charts.GAUGE_CX, charts.GAUGE_CY - charts.GAUGE_R)  # the top
    # The value arc starts at 350 and ends at the marker.
    assert _start(middle.value_path) == low.marker
    assert _end(middle.value_path) == middle.marker


def test_gauge_bands_follow_each_other_without_a_gap():
    bands = charts.gauge(600).bands
    assert [b["name"] for b in bands] == ["poor", "fair", "good", "very_good", "excellent"]
    for before, after in itertools.pairwise(bands):
        assert _end(before["path"]) == _start(after["path"])


def test_gauge_keeps_scores_outside_the_scale_on_it():
    assert charts.gauge(200).marker == charts.gauge(350).marker
    assert charts.gauge(2000).marker == charts.gauge(950).marker


def test_radar_puts_the_first_axis_on_top_and_scales_each_value():
    radar = charts.radar([("A", 100), ("B", 0), ("C", 50), ("D", 100), ("E", 25)])
    top = radar.axes[0]
    assert top.end == (charts.RADAR_CX, charts.RADAR_CY - charts.RADAR_R)
    assert top.anchor == "middle"
    assert radar.dots[0] == top.end  # 100 reaches the axis end
    assert radar.dots[1] == (charts.RADAR_CX, charts.RADAR_CY)  # 0 sits at the centre
    assert radar.axes[1].anchor == "start"
    assert radar.axes[4].anchor == "end"
    assert len(radar.rings) == 4
    assert len(radar.shape.split()) == 5


def test_history_orders_by_time_and_fits_the_range_to_the_scores():
    at = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)
    chart = charts.history(
        [(at + datetime.timedelta(days=2), 640), (at, 610), (at + datetime.timedelta(days=1), 655)]
    )
    assert [p.score for p in chart.points] == [610, 655, 640]
    assert chart.low == 600
    assert chart.high == 700
    assert chart.first.x == charts.HISTORY_LEFT
    assert chart.last.x == charts.HISTORY_W - charts.HISTORY_RIGHT
    # Higher scores are drawn higher; band boundaries inside the range are gridlines.
    assert chart.points[1].y < chart.points[0].y
    assert {line["score"] for line in chart.gridlines} == {600, 650, 700}


def test_history_of_one_score_is_a_point_in_the_middle_and_of_none_is_nothing():
    at = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)
    chart = charts.history([(at, 950)])
    assert len(chart.points) == 1
    assert chart.high == 950
    assert chart.high - chart.low >= 100
    assert (
        chart.points[0].x
        == charts.HISTORY_LEFT + (charts.HISTORY_W - charts.HISTORY_LEFT - charts.HISTORY_RIGHT) / 2
    )
    assert charts.history([]) is None


def test_history_tap_strips_cover_the_chart_without_overlapping():
    at = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)
    chart = charts.history([(at + datetime.timedelta(days=d), 600 + d) for d in (0, 1, 30)])
    edges = [(p.hit_left, p.hit_left + p.hit_width) for p in chart.points]
    assert edges[0][0] == 0
    assert edges[-1][1] == charts.HISTORY_W
    for (_left, right), (next_left, _right) in itertools.pairwise(edges):
        assert right == pytest.approx(next_left)
    # Two points far apart: each strip is at least 44 px on a 375 px phone (the chart is
    # drawn 311 px wide there: 375 less the page's and the card's padding).
    two = charts.history([(at, 600), (at + datetime.timedelta(days=9), 640)])
    assert min(p.hit_width for p in two.points) * 311 / charts.HISTORY_W >= 44


# --- When the next update runs ------------------------------------------------------------


def test_next_nightly_run_is_read_from_the_beat_schedule():
    evening = datetime.datetime(2026, 11, 21, 21, 19, tzinfo=SHANGHAI)
    assert nightly_next(now=evening) == datetime.datetime(2026, 11, 22, 2, 0, tzinfo=SHANGHAI)
    early = datetime.datetime(2026, 11, 21, 1, 30, tzinfo=SHANGHAI)
    assert nightly_next(now=early) == datetime.datetime(2026, 11, 21, 2, 0, tzinfo=SHANGHAI)


def test_no_next_run_when_an_admin_disabled_the_nightly_task():
    PeriodicTask.objects.filter(task="scoring.recompute_nightly").update(enabled=False)
    assert nightly_next(now=timezone.now()) is None


def _nightly_on(**fields) -> None:
    """Point the nightly task at another crontab, as an admin would."""
    schedule = CrontabSchedule.objects.create(timezone="Asia/Shanghai", **fields)
    PeriodicTask.objects.filter(task="scoring.recompute_nightly").update(crontab=schedule)


def test_next_nightly_run_honours_weekdays_and_several_hours():
    saturday = datetime.datetime(2026, 11, 21, 12, 0, tzinfo=SHANGHAI)
    _nightly_on(minute="15", hour="3,23", day_of_week="1")
    assert nightly_next(now=saturday) == datetime.datetime(2026, 11, 23, 3, 15, tzinfo=SHANGHAI)
    _nightly_on(minute="0", hour="2,14")
    assert nightly_next(now=saturday) == datetime.datetime(2026, 11, 21, 14, 0, tzinfo=SHANGHAI)
    at_two = datetime.datetime(2026, 11, 21, 2, 0, tzinfo=SHANGHAI)
    assert nightly_next(now=at_two) == datetime.datetime(2026, 11, 21, 14, 0, tzinfo=SHANGHAI)


def test_next_nightly_run_on_given_days_of_the_month_and_in_another_zone():
    saturday = datetime.datetime(2026, 11, 21, 12, 0, tzinfo=SHANGHAI)
    _nightly_on(minute="30", hour="1", day_of_month="1,15")
    assert nightly_next(now=saturday) == datetime.datetime(2026, 12, 1, 1, 30, tzinfo=SHANGHAI)
    schedule = CrontabSchedule.objects.create(minute="0", hour="2", timezone="UTC")
    PeriodicTask.objects.filter(task="scoring.recompute_nightly").update(crontab=schedule)
    assert nightly_next(now=saturday) == datetime.datetime(2026, 11, 22, 2, 0, tzinfo=datetime.UTC)


# --- States ---------------------------------------------------------------------------------


def test_not_verified_is_asked_to_verify_first(db):
    page = _client(make_user("fresh")).get("/").content.decode()
    assert "Verify my identity" in page
    assert 'class="gauge"' not in page
    assert "hx-trigger" not in page


def test_no_consent_is_asked_to_review_consent(db):
    user = make_user("unsure")
    verify_identity(user, make_id_number(sequence="302"))
    page = _client(user).get("/").content.decode()
    assert "only while you consent" in page
    assert "/accounts/consents/" in page
    assert "Tips to improve" not in page


def test_a_queued_recompute_shows_a_poll_that_ends_when_the_score_is_in(person):
    user, _snapshot = person
    ScoreSnapshot.objects.filter(user=user).delete()
    PendingRecompute.objects.create(user=user)
    client = _client(user)

    page = client.get("/").content.decode()
    assert 'hx-get="/score/panel/"' in page
    assert 'hx-trigger="every 2s"' in page
    assert "Computing your score" in page

    # The worker is done: the panel comes back with the score and without the trigger.
    score_recompute(user=user, trigger="test")
    PendingRecompute.objects.filter(user=user).delete()
    panel = client.get("/score/panel/").content.decode()
    assert panel.lstrip().startswith('<div id="score-panel"')
    assert "<html" not in panel
    assert "hx-trigger" not in panel
    assert 'class="gauge"' in panel


def test_an_existing_score_stays_visible_while_it_is_updated(person):
    user, snapshot = person
    PendingRecompute.objects.create(user=user, started_at=timezone.now())
    page = _client(user).get("/").content.decode()
    assert f">{snapshot.score}</text>" in page
    assert "Updating your score" in page
    assert 'hx-trigger="every 2s"' in page


def test_a_failed_recompute_stops_the_poll_and_offers_to_try_again(person):
    user, _snapshot = person
    ScoreSnapshot.objects.filter(user=user).delete()
    PendingRecompute.objects.create(user=user, started_at=timezone.now(), failed_at=timezone.now())
    page = _client(user).get("/score/panel/").content.decode()
    assert "hx-trigger" not in page
    assert 'role="alert"' in page
    assert "could not compute your score" in page
    assert 'action="/score/recompute/"' in page


def test_asking_again_queues_a_recompute_and_the_home_polls(
    person, recompute_calls, django_capture_on_commit_callbacks
):
    user, _snapshot = person
    PendingRecompute.objects.create(user=user, started_at=timezone.now(), failed_at=timezone.now())
    client = _client(user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/score/recompute/", follow=True)

    assert recompute_calls == [(user.pk, "asked")]
    assert "Your score is being computed." in response.content.decode()


def test_asking_again_while_one_is_queued_queues_nothing(person, monkeypatch):
    user, _snapshot = person
    PendingRecompute.objects.create(user=user)
    calls = []
    monkeypatch.setattr(
        "scoring.tasks.score_recompute_user.apply_async", lambda *a, **k: calls.append(a)
    )
    response = _client(user).post("/score/recompute/", follow=True)
    assert calls == []
    assert "already on its way" in response.content.decode()


def test_recompute_needs_a_post_and_a_login(person):
    user, _snapshot = person
    assert _client(user).get("/score/recompute/").status_code == 405
    assert Client().post("/score/recompute/").status_code == 302


def test_thin_file_is_explained(active_model):
    user = make_user("thin")
    verify_identity(user, make_id_number(sequence="303"))
    grant(user)
    snapshot = score_recompute(user=user, trigger="test")
    assert 350 <= snapshot.score <= 950
    page = _client(user).get("/").content.decode()
    assert "no credit history for you yet" in page


def test_an_ordinary_file_is_not_called_thin(person):
    user, _snapshot = person
    assert "no credit history for you yet" not in _client(user).get("/").content.decode()


def test_court_listed_user_sees_why_and_no_benefit_progress(person):
    user, _snapshot = person
    CourtListEntry.objects.create(id_number_hash=user.identity.id_number_hash)
    page = _client(user).get("/").content.decode()
    assert "court list of dishonest judgment debtors" in page
    assert "benefits unlocked" not in page


# --- What the score page says ------------------------------------------------------------


def test_score_page_has_gauge_radar_history_and_reasons_with_text_alternatives(person):
    user, snapshot = person
    page = _client(user).get("/").content.decode()
    assert re.search(r'<svg class="gauge"[^>]*role="img"', page)
    assert f"Score {snapshot.score} on a scale from 350 to 950" in page
    assert re.search(r'<svg class="radar"[^>]*role="img"', page)
    # An ordinary file has no friends: connections is "no data yet", the rest are numbers.
    for key, value in snapshot.dimensions.items():
        if key != "connections":
            assert f"{value}" in page
    assert "Connections No data yet" in page  # the radar's text alternative
    assert "Credit history" in page
    assert "(each out of 100)" in page
    # One score draws no chart (a lone dot is not a history): the page says so instead.
    assert "You have one score so far: the chart starts with your next one." in page
    assert 'class="history-chart"' not in page
    assert "What helped" in page or "What hurt" in page
    assert re.search("[+\u2212]\\d+ points?", page)
    assert "Next update" in page


def test_reasons_show_whole_points_at_least_one(person):
    user, snapshot = person
    layout = snapshot.model_version.points_layout
    points = dict(zip(layout["features"], layout["typical_points"], strict=True))
    points["cp_income_rank"] += 0.3
    points["ch_card_utilisation"] -= 12.6
    values = dict.fromkeys(layout["features"], 1.0)
    ScoreSnapshot.objects.filter(pk=snapshot.pk).update(
        **snapshot_arrays(snapshot.model_version, points, values)
    )
    page = _client(user).get("/").content.decode()
    assert "+1 point<" in page
    assert "\u221213 points" in page


def test_tips_name_what_the_person_can_do(person):
    user, _snapshot = person
    loan = add_account(user, opened_on=days_ago(400))
    add_repayment(loan, due=days_ago(20), days_overdue=20, paid=False)
    add_bill(user, due=days_ago(10), paid_on=None, kind="water")
    set_profile(user, occupation="employee", employer="示例公司")

    page = _client(user).get("/").content.decode()

    assert "1 instalment is overdue and unpaid" in page
    assert "Your water bill due on" in page
    assert "is unpaid" in page
    assert "profile steps" in page
    assert "/accounts/profile/" in page
    assert page.count('<ul class="tips">') == 1
    assert len(re.findall(r"<li><p>", page)) <= 4


def test_a_verified_work_email_is_not_suggested_again(person):
    user, _snapshot = person
    set_profile(
        user,
        occupation="employee",
        employer="示例公司",
        work_email="a@b.cn",
        work_email_verified_at=timezone.now(),
    )
    assert "Verify your work email" not in _client(user).get("/").content.decode()


def test_home_in_chinese_shows_the_band_name_in_chinese(person):
    user, snapshot = person
    page = _client(user, "zh-hans").get("/").content.decode()
    assert {"poor": "较差", "fair": "中等", "good": "良好", "very_good": "优秀"}.get(
        snapshot.band, "极好"
    ) in page
    assert "五个维度" in page or "信用历史" in page


def test_home_reads_a_fixed_number_of_queries(person, django_assert_max_num_queries):
    user, _snapshot = person
    version = ScoreSnapshot.objects.filter(user=user).first().model_version
    client = _client(user)
    with django_assert_max_num_queries(40) as short:
        client.get("/")
    start = timezone.now() - datetime.timedelta(days=90)
    for day in range(60):
        past_snapshot(
            user, 600 + day, model_version=version, at=start + datetime.timedelta(days=day)
        )
    with django_assert_max_num_queries(40) as long:
        client.get("/")
    assert len(long.captured_queries) == len(short.captured_queries)


def test_score_home_selector_hides_everything_without_consent(person):
    user, _snapshot = person
    grant_id = user.consent_grants.get(purpose="scoring").pk
    consent_revoke(user=user, grant_id=grant_id, client=WebClient(channel="web"))
    home = score_home(user=user)
    assert home.score is None
    assert home.status is None
    assert home.tips == []


# --- History page ------------------------------------------------------------------------


def test_history_lists_every_score_newest_first_with_change_and_cause(person):
    user, snapshot = person
    version = snapshot.model_version
    past_snapshot(user, 600, model_version=version, at=snapshot.computed_at - datetime.timedelta(2))
    older = past_snapshot(
        user, 610, model_version=version, at=snapshot.computed_at - datetime.timedelta(1)
    )
    older.trigger = "profile:education_level"
    older.save()

    page = _client(user).get("/score/history/").content.decode()

    scores = [int(s) for s in re.findall(r'class="history-score">(\d+)<', page)]
    assert scores == [snapshot.score, 610, 600]
    assert "+10" in page
    assert "Profile updated" in page
    assert "First score" in page
    assert '<svg class="history-chart"' in page
    assert "3 scores, from 600" in page
    assert "{#" not in page  # a template comment left as text


def test_a_history_of_one_score_says_so_instead_of_drawing_a_chart(person):
    user, snapshot = person
    page = _client(user).get("/score/history/").content.decode()
    assert "You have one score so far, so there is no line to draw yet." in page
    assert 'class="history-chart"' not in page
    assert re.findall(r'class="history-score">(\d+)<', page) == [str(snapshot.score)]


def test_history_is_hidden_without_consent_and_empty_before_a_score(db):
    user = make_user("nohistory")
    verify_identity(user, make_id_number(sequence="304"))
    client = _client(user)
    assert "hidden while you do not consent" in client.get("/score/history/").content.decode()
    grant(user)
    assert "No score has been computed" in client.get("/score/history/").content.decode()
