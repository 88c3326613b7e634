"""The person's personal statement reaches a partner with the score, and only with it: in
the fast path's single read and in the locked path alike, never another person's, never
under the eligibility scope, and logged as disclosed."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from benefits.models import ConsentUseLimit, PartnerQuery
from scoring.services.disputes import statement_set
from tests.factories import authorize, grant_scoring, make_user, set_score, verify
from tests.partner_api import assert_error, eligibility_url, score_url

pytestmark = pytest.mark.django_db

STATEMENT = "Late once in March 2026, in hospital; repaid in full since."


@pytest.mark.parametrize("scope", ["score", "score_and_subscores"])
@pytest.mark.parametrize("limited", [False, True], ids=["fast", "locked"])
def test_the_statement_comes_with_the_score(partner_api, scored_owner, partner, scope, limited):
    statement_set(user=scored_owner, text=STATEMENT)
    terms = {"use_limit": ConsentUseLimit.QUERIES, "max_queries": 5} if limited else {}
    _grant, token = authorize(scored_owner, partner, scope, **terms)

    answer = partner_api.get(score_url(token)).json()

    assert answer["score"] == 650
    assert answer["personal_statement"] == STATEMENT
    logged = PartnerQuery.objects.latest("id")
    assert "personal_statement" in logged.fields_disclosed


def test_no_statement_no_field(partner_api, scored_owner, partner):
    _grant, token = authorize(scored_owner, partner, "score")
    answer = partner_api.get(score_url(token)).json()
    assert "personal_statement" not in answer
    assert answer["score"] == 650


def test_the_statement_is_read_in_the_fast_paths_one_read(partner_api, scored_owner, partner):
    statement_set(user=scored_owner, text=STATEMENT)
    _grant, token = authorize(scored_owner, partner, "score")
    assert partner_api.get(score_url(token)).status_code == 200  # the key now cached

    with CaptureQueriesContext(connection) as queries:
        answer = partner_api.get(score_url(token)).json()

    assert answer["personal_statement"] == STATEMENT
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert len(reads) == 1


def test_the_eligibility_scope_never_gets_the_statement(
    partner_api, scored_owner, partner, benefit
):
    statement_set(user=scored_owner, text=STATEMENT)
    _grant, token = authorize(scored_owner, partner, "eligibility", benefit=benefit)

    assert_error(partner_api.get(score_url(token)), 403, "out_of_scope")
    eligibility = partner_api.get(eligibility_url(token, benefit.pk))
    assert eligibility.status_code == 200
    assert "personal_statement" not in eligibility.json()
    assert STATEMENT not in eligibility.content.decode()


def test_another_persons_statement_never_comes_with_a_score(
    partner_api, scored_owner, partner, model_version
):
    other = make_user("other-person")
    verify(other, full_name="王大明")
    grant_scoring(other)
    set_score(other, 600, model_version=model_version)
    statement_set(user=other, text="The other person's statement.")
    _grant, token = authorize(scored_owner, partner, "score")

    answer = partner_api.get(score_url(token)).json()

    assert "personal_statement" not in answer
    statement_set(user=scored_owner, text=STATEMENT)
    assert partner_api.get(score_url(token)).json()["personal_statement"] == STATEMENT
