"""The partner score query's fast path (benefits.api.partner.partner_score): the key and
partner cached in the process are never trusted past a change (a revoked key, a
suspended partner, new limits), consents and authorisations are read on every call, and
the answers, refusals and log rows are the same as the full DRF path's."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ConsentGrant, ConsentPurpose
from accounts.services import consent_revoke
from benefits.api import partner as partner_api_views
from benefits.credentials import credential_hash
from benefits.models import ConsentUseLimit, Partner, PartnerApiKey, PartnerQuery
from benefits.services import partner_calls, partner_status_set
from benefits.services.partner_access import (
    PARTNER_ACCESS_VERSION,
    api_key_revoke,
    partner_access_changed,
)
from scoring.models import ScoreSnapshot
from sesame_portal.counters import version_read
from tests.dates import in_days
from tests.factories import WEB, authorize, make_api_key, make_partner, set_score
from tests.partner_api import assert_error, partner_client, score_url


@pytest.fixture(autouse=True)
def _cold_cache():
    """Each test starts with no key cached in this process."""
    partner_calls._keys.clear()
    yield
    partner_calls._keys.clear()


@pytest.fixture
def token(scored_owner, partner) -> str:
    _grant, value = authorize(scored_owner, partner, "score")
    return value


def _warm(client, token: str) -> None:
    """One answered call: the key and its partner are now in this process's cache."""
    assert client.get(score_url(token)).status_code == 200
    assert partner_calls._keys


@pytest.mark.parametrize("scope", ["score", "score_and_subscores"])
def test_a_warm_call_reads_once_and_writes_once(partner_api, scored_owner, partner, scope):
    _grant, token = authorize(scored_owner, partner, scope)
    _warm(partner_api, token)

    with CaptureQueriesContext(connection) as queries:
        response = partner_api.get(score_url(token))

    assert response.status_code == 200
    assert ("dimensions" in response.json()) == (scope == "score_and_subscores")
    statements = [q["sql"] for q in queries.captured_queries]
    assert not any("benefits_partnerapikey" in sql for sql in statements)  # cached
    reads = [sql for sql in statements if sql.startswith("SELECT")]
    assert len(reads) == 1  # authorisation, grant, revocation, partner, consent, score
    inserts = [sql for sql in statements if "INSERT INTO" in sql]
    if connection.vendor == "postgresql":  # the use, the log row and the alert: one statement
        assert len(statements) == 2
        assert inserts == [statements[-1]]
        assert "queries_used" in statements[-1]
        assert "benefits_partnerquery" in statements[-1]
        assert "accounts_notification" in statements[-1]
    else:  # the log row, then the person's alert (in the same transaction)
        assert [
            ("benefits_partnerquery" in sql, "accounts_notification" in sql) for sql in inserts
        ] == [(True, False), (False, True)]


def test_a_revoked_key_is_refused_at_the_next_call_with_the_cache_warm(partner_api, api_key, token):
    _warm(partner_api, token)

    api_key_revoke(key=PartnerApiKey.objects.get(prefix=api_key.split("_")[1]))

    assert_error(partner_api.get(score_url(token)), 401, "api_key_invalid")


def test_a_suspended_partner_is_refused_at_the_next_call_with_the_cache_warm(
    partner_api, partner, token, admin_user
):
    _warm(partner_api, token)

    partner_status_set(
        partners=[partner], status=Partner.Status.SUSPENDED, reason="resold", by=admin_user
    )

    assert_error(partner_api.get(score_url(token)), 403, "partner_not_approved")
    assert PartnerQuery.objects.order_by("-id").first().outcome == "partner_not_approved"


def test_a_withdrawn_authorisation_is_refused_at_the_next_call_with_the_cache_warm(
    partner_api, scored_owner, partner
):
    grant, token = authorize(scored_owner, partner, "score")
    _warm(partner_api, token)

    consent_revoke(user=scored_owner, grant_id=grant.pk, client=WEB)

    assert_error(partner_api.get(score_url(token)), 403, "authorization_revoked")


def test_a_withdrawn_scoring_consent_hides_the_score_at_the_next_call(
    partner_api, scored_owner, token
):
    _warm(partner_api, token)
    scoring = ConsentGrant.objects.current().get(user=scored_owner, purpose=ConsentPurpose.SCORING)

    consent_revoke(user=scored_owner, grant_id=scoring.pk, client=WEB)

    assert_error(partner_api.get(score_url(token)), 404, "score_unavailable")


def test_new_limits_apply_at_the_next_call_with_the_cache_warm(partner_api, partner, token):
    _warm(partner_api, token)

    Partner.objects.filter(pk=partner.pk).update(rate_limit_per_minute=1)
    partner_access_changed()  # as the partner's admin page does on saving

    assert_error(partner_api.get(score_url(token)), 429, "rate_limited")


def test_a_lost_version_is_never_one_seen_before(partner_api, token, partner_cache):
    """A cache that lost the version (restarted, flushed) gives it a new random value,
    so no process keeps trusting what it cached under the old one."""
    _warm(partner_api, token)
    before = version_read(PARTNER_ACCESS_VERSION)

    partner_cache.delete(PARTNER_ACCESS_VERSION)

    assert version_read(PARTNER_ACCESS_VERSION) != before


def test_a_stale_cache_counts_the_call_once(partner_api, partner, token):
    _warm(partner_api, token)
    Partner.objects.filter(pk=partner.pk).update(rate_limit_per_minute=3)
    partner_access_changed()

    # Calls 2 and 3 of the minute pass (the stale entry's count is taken back), the 4th
    # is one too many.
    assert partner_api.get(score_url(token)).status_code == 200
    assert partner_api.get(score_url(token)).status_code == 200
    assert_error(partner_api.get(score_url(token)), 429, "rate_limited")


# --- The same answers as the full path --------------------------------------------------------


def _both(key: str, token: str) -> list[tuple[int, bytes, str, tuple]]:
    """The fast view's answer and the DRF view's, each with the log row it left."""
    answers = []
    for view in (partner_api_views.partner_score, partner_api_views._partner_score_full):
        request = RequestFactory().get(score_url(token), HTTP_AUTHORIZATION=f"Api-Key {key}")
        response = view(request, token=token)
        if hasattr(response, "render"):
            response.render()
        row = PartnerQuery.objects.order_by("-id").first()
        answers.append(
            (
                response.status_code,
                response.content,
                [response.get(name) for name in ("Content-Type", "Vary", "Allow")],
                (row.outcome, row.status_code, row.fields_disclosed, row.user_id, row.purpose),
            )
        )
    return answers


def _no_scoring_consent(owner, partner):
    grant = ConsentGrant.objects.current().get(user=owner, purpose=ConsentPurpose.SCORING)
    consent_revoke(user=owner, grant_id=grant.pk, client=WEB)
    return authorize(owner, partner, "score")


def _no_score(owner, partner):
    ScoreSnapshot.objects.filter(user=owner).delete()
    return authorize(owner, partner, "score")


def _revoked(owner, partner):
    grant, token = authorize(owner, partner, "score")
    consent_revoke(user=owner, grant_id=grant.pk, client=WEB)
    return grant, token


def _expired(owner, partner):
    grant, token = authorize(owner, partner, "score")
    ConsentGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now())
    return grant, token


def _replaced(owner, partner):
    _grant, token = authorize(owner, partner, "score")
    authorize(owner, partner, "score")
    return _grant, token


def _another_partners(owner, _partner):
    return authorize(owner, make_partner("别家 Other Co"), "score")


def _unknown(owner, partner):
    grant, token = authorize(owner, partner, "score")
    return grant, token[:-1] + ("A" if token[-1] != "A" else "B")


def _newer_score(owner, partner):
    version = ScoreSnapshot.objects.filter(user=owner).first().model_version
    set_score(owner, 700, {"capacity": 80}, model_version=version)
    return authorize(owner, partner, "score_and_subscores")


@pytest.mark.parametrize(
    "situation",
    [
        pytest.param(lambda owner, partner: authorize(owner, partner, "score"), id="score"),
        pytest.param(
            lambda owner, partner: authorize(owner, partner, "score_and_subscores"),
            id="subscores",
        ),
        pytest.param(lambda owner, partner: authorize(owner, partner, "eligibility"), id="scope"),
        pytest.param(
            lambda owner, partner: authorize(
                owner, partner, "score", use_limit=ConsentUseLimit.DECISION
            ),
            id="until-decision",
        ),
        pytest.param(_newer_score, id="newest-score"),
        pytest.param(_no_scoring_consent, id="no-scoring-consent"),
        pytest.param(_no_score, id="no-score"),
        pytest.param(_revoked, id="revoked"),
        pytest.param(_expired, id="expired"),
        pytest.param(_replaced, id="replaced"),
        pytest.param(_another_partners, id="another-partners-token"),
        pytest.param(_unknown, id="unknown-token"),
        pytest.param(lambda owner, partner: (None, "au_nonsense"), id="malformed-token"),
    ],
)
def test_the_fast_path_answers_and_logs_as_the_full_path(
    partner_cache, scored_owner, partner, situation
):
    key = make_api_key(partner)
    _grant, token = situation(scored_owner, partner)

    fast, full = _both(key, token)

    assert fast == full
    assert credential_hash(key) in partner_calls._keys  # the fast path took the call


def test_an_authorisation_limited_in_queries_ends_with_its_last_query(
    partner_cache, scored_owner, partner
):
    """Counted on the locked row by the full service, whichever path the call takes."""
    _grant, token = authorize(
        scored_owner, partner, "score", use_limit=ConsentUseLimit.QUERIES, max_queries=2
    )
    client = partner_client(make_api_key(partner))

    assert client.get(score_url(token)).status_code == 200
    assert client.get(score_url(token)).status_code == 200
    assert_error(client.get(score_url(token)), 403, "authorization_used")


def test_a_key_held_in_the_cache_past_its_time_is_read_again(
    partner_api, api_key, token, monkeypatch
):
    """Should a change ever fail to bump the version, an entry lives a minute at most."""
    _warm(partner_api, token)
    PartnerApiKey.objects.filter(prefix=api_key.split("_")[1]).update(revoked_at=in_days(-1))
    monkeypatch.setattr(partner_calls, "KEY_CACHE_SECONDS", 0.0)

    assert_error(partner_api.get(score_url(token)), 401, "api_key_invalid")


@pytest.mark.parametrize("revoked", [False, True])
def test_the_read_built_once_gives_what_the_orm_gives(scored_owner, partner, revoked):
    from django.forms.models import model_to_dict

    from benefits.selectors import _authorisations_with_score, authorisation_with_score

    grant, token = authorize(scored_owner, partner, "score_and_subscores")
    if revoked:
        consent_revoke(user=scored_owner, grant_id=grant.pk, client=WEB)
    prefix, at = token.split("_")[1], timezone.now()

    for _ in range(2):  # built, then reused
        prepared = authorisation_with_score(prefix=prefix, at=at)
        orm = _authorisations_with_score(prefix=prefix, at=at).first()

        def seen(found):
            revocation = getattr(found.grant, "revocation", None)
            return (
                model_to_dict(found),
                model_to_dict(found.partner),
                model_to_dict(found.grant),
                revocation and model_to_dict(revocation),
                found.scoring_consent,
                found.latest_score_value,
                found.latest_band,
                found.latest_computed_at,
                found.latest_dimensions,
                found.latest_statement,
            )

        assert seen(prepared) == seen(orm)
    assert authorisation_with_score(prefix="000000000000", at=at) is None


def test_saving_a_partner_in_the_admin_applies_its_limits_at_the_next_call(
    partner_api, partner, token, admin_user
):
    from django.contrib.admin.sites import site

    _warm(partner_api, token)
    partner.rate_limit_per_minute = 1
    request = RequestFactory().post("/admin/")
    request.user = admin_user

    site._registry[Partner].save_model(request, partner, form=None, change=True)

    assert_error(partner_api.get(score_url(token)), 429, "rate_limited")
