"""The score home draws a snapshot once (gauge, radar, reasons, history) and reads
everything else at every request: what may change shows at the very next request (the
consent, a new score, the catalogue, the records, the court list, the inbox), whichever
database and cache the suite runs with. And it does so in a handful of queries."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone

from accounts.clients import Client as WebClient
from accounts.models import Notification
from accounts.services import consent_revoke
from benefits.models import Benefit, Partner
from benefits.services.partners import partner_status_set
from scoring.models import CourtListEntry, PendingRecompute
from scoring.services.scores import score_recompute
from tests.factories import (
    add_account,
    grant,
    make_benefit,
    make_id_number,
    make_partner,
    make_user,
    past_snapshot,
    set_score,
    solid_file,
    verify_identity,
)

pytestmark = pytest.mark.django_db

# The queries of a warm score home: the session (none when sessions are read from Redis),
# the sign-in with the user, then the page's own: everything that may change (one, with
# the nightly schedule), the offered benefits.
WARM_QUERIES = 4
# The first request after a new score also reads the snapshot and its history to draw.
COLD_QUERIES = WARM_QUERIES + 2


def _client(user, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def _page(client: Client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    # The CSRF token is masked afresh on every page: the rest must be the same.
    return re.sub(
        r'("X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]*',
        r"\1",
        response.content.decode(),
    )


def _gauge_score(page: str) -> int | None:
    found = re.search(r'<text class="gauge-score"[^>]*>(\d+)</text>', page)
    return int(found.group(1)) if found else None


@pytest.fixture
def person(active_model):
    """Verified, consenting, an ordinary file, one snapshot."""
    user = make_user("cached")
    verify_identity(user, make_id_number(sequence="311"))
    grant(user)
    solid_file(user)
    PendingRecompute.objects.filter(user=user).delete()  # the consent's recompute ran
    snapshot = score_recompute(user=user, trigger="test")
    return user, snapshot


def test_a_snapshot_is_drawn_once_and_the_page_stays_the_same(
    person, django_assert_max_num_queries
):
    user, snapshot = person
    client = _client(user)
    with django_assert_max_num_queries(COLD_QUERIES):
        cold = _page(client)
    with django_assert_max_num_queries(WARM_QUERIES) as warm:
        again = _page(client)
    assert again == cold
    assert _gauge_score(again) == snapshot.score
    assert 'class="radar"' in again
    assert "What helped" in again or "What hurt" in again
    # Warm, nothing is read of the snapshots but the latest one's id and their count.
    assert not [
        q for q in warm.captured_queries if q["sql"].startswith('SELECT "scoring_scoresnapshot"')
    ]


def test_a_withdrawn_consent_hides_the_score_at_the_next_request(person):
    user, snapshot = person
    client = _client(user)
    assert _gauge_score(_page(client)) == snapshot.score
    grant_id = user.consent_grants.get(purpose="scoring").pk
    consent_revoke(user=user, grant_id=grant_id, client=WebClient(channel="web"))

    page = _page(client)

    assert _gauge_score(page) is None
    assert 'class="radar"' not in page
    assert "only while you consent" in page
    assert "Tips to improve" not in page
    assert "benefits unlocked" not in page
    # Consenting again shows the same snapshot, drawn as before.
    grant(user)
    assert _gauge_score(_page(client)) == snapshot.score


def test_a_new_score_shows_at_the_next_request(person):
    user, snapshot = person
    client = _client(user)
    first = _page(client)
    assert _gauge_score(first) == snapshot.score
    assert 'class="history-chart"' not in first  # one score: no line yet

    newer = set_score(user, 777, dict(snapshot.dimensions), model_version=snapshot.model_version)
    page = _page(client)

    assert _gauge_score(page) == 777
    assert 'class="history-chart"' in page
    assert f"2 scores, from {snapshot.score}" in page
    assert newer.pk != snapshot.pk


def test_an_older_score_stored_later_joins_the_history_at_the_next_request(person):
    user, snapshot = person
    client = _client(user)
    assert 'class="history-chart"' not in _page(client)

    earlier = snapshot.computed_at - datetime.timedelta(days=3)
    past_snapshot(user, 612, model_version=snapshot.model_version, at=earlier)
    page = _page(client)

    assert _gauge_score(page) == snapshot.score  # still the latest
    assert "2 scores, from 612" in page


def test_a_benefit_added_changed_or_withdrawn_shows_at_the_next_request(person):
    user, snapshot = person
    client = _client(user)
    assert "0 benefits unlocked." in _page(client)

    partner = make_partner()
    benefit = make_benefit(partner, min(snapshot.score + 40, 950), title_en="Free rides")
    page = _page(client)
    points = benefit.min_score - snapshot.score
    assert f"Next: Free rides, {points} points away" in page

    benefit.min_score = snapshot.score - 10
    benefit.save(update_fields=["min_score"])
    assert "1 benefit unlocked." in _page(client)

    Benefit.objects.filter(pk=benefit.pk).update(status=Benefit.Status.DRAFT)
    assert "0 benefits unlocked." in _page(client)

    Benefit.objects.filter(pk=benefit.pk).update(status=Benefit.Status.PUBLISHED)
    assert "1 benefit unlocked." in _page(client)
    partner_status_set(partners=[partner], status=Partner.Status.SUSPENDED, reason="test", by=None)
    assert "0 benefits unlocked." in _page(client)


def test_a_benefit_whose_window_ends_leaves_at_the_next_request(person):
    user, snapshot = person
    client = _client(user)
    make_benefit(
        make_partner(),
        snapshot.score - 10,
        active_to=timezone.now() + datetime.timedelta(seconds=1),
    )
    assert "1 benefit unlocked." in _page(client)
    Benefit.objects.update(active_to=timezone.now() - datetime.timedelta(seconds=1))
    assert "0 benefits unlocked." in _page(client)


def test_records_that_bring_data_to_a_dimension_redraw_it_at_the_next_request(active_model):
    user = make_user("thinfile")
    verify_identity(user, make_id_number(sequence="312"))
    grant(user)
    PendingRecompute.objects.filter(user=user).delete()
    score_recompute(user=user, trigger="test")
    client = _client(user)
    page = _page(client)
    assert "no credit history for you yet" in page
    assert "Credit history No data yet" in page

    add_account(user, opened_on=timezone.localdate() - datetime.timedelta(days=400))
    page = _page(client)

    assert "no credit history for you yet" not in page
    assert "Credit history No data yet" not in page


def test_each_language_has_its_own_drawings(person):
    user, _snapshot = person
    chinese = _page(_client(user, "zh-hans"))
    english = _page(_client(user, "en"))
    assert "五个维度" in chinese
    assert "Five dimensions" in english
    assert "五个维度" not in english
    assert "Five dimensions" in _page(_client(user, "en"))


def test_the_court_list_shows_at_the_next_request(person):
    user, _snapshot = person
    client = _client(user)
    assert "court list" not in _page(client)
    CourtListEntry.objects.create(id_number_hash=user.identity.id_number_hash)
    page = _page(client)
    assert "court list of dishonest judgment debtors" in page
    assert "benefits unlocked" not in page


def test_the_inbox_count_is_read_with_the_page(person, django_assert_max_num_queries):
    user, _snapshot = person
    client = _client(user)
    assert "bell-count" not in _page(client)
    Notification.objects.create(user=user, kind=Notification.Kind.NEW_SIGN_IN, params={})
    with django_assert_max_num_queries(WARM_QUERIES) as warm:
        page = _page(client)
    assert '<span class="bell-count">1</span>' in page
    assert not [q for q in warm.captured_queries if q["sql"].startswith("SELECT COUNT(*)")]


def test_a_recompute_on_its_way_shows_at_the_next_request(person):
    user, _snapshot = person
    client = _client(user)
    assert "Updating your score" not in _page(client)
    PendingRecompute.objects.create(user=user, started_at=timezone.now())
    page = _page(client)
    assert "Updating your score" in page
    assert 'hx-trigger="every 2s"' in page


def test_the_page_is_drawn_without_the_cache_when_it_fails(person, monkeypatch):
    user, snapshot = person

    class Down:
        def get(self, *_arguments, **_options):
            raise ConnectionError("the cache is down")

        set = get

        def make_key(self, key):
            return key

    monkeypatch.setattr("scoring.views.home.cache", Down())
    page = _page(_client(user))
    assert _gauge_score(page) == snapshot.score
    assert 'class="radar"' in page
