"""Explanations people can act on: a dimension with nothing of the person's behind it is
"no data yet" (one selector decides, the API lists them), what-if offers only the levers
that apply and says the band and each change's points, and every tip lands on a lever
that exists."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Profile
from scoring.selectors import record_facts
from scoring.services.scores import score_recompute, score_what_if, what_if_levers_for
from tests.dates import days_ago
from tests.factories import (
    add_account,
    add_repayment,
    grant,
    make_id_number,
    make_user,
    set_profile,
    solid_file,
    verify_identity,
)

pytestmark = pytest.mark.django_db


def _person(name: str, *, file: bool = True):
    user = make_user(name)
    verify_identity(user, make_id_number(sequence=str(400 + len(name))))
    grant(user)
    if file:
        solid_file(user)
    return user


def _client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_a_new_person_has_no_data_but_identity():
    user = _person("newcomer", file=False)
    facts = record_facts(user=user, today=timezone.localdate())
    assert facts.dimensions_without_data == {
        "credit_history",
        "behaviour",
        "capacity",
        "connections",
    }


def test_an_ordinary_file_lacks_only_connections():
    user = _person("ordinary")
    facts = record_facts(user=user, today=timezone.localdate())
    assert facts.dimensions_without_data == {"connections"}
    assert facts.open_cards
    assert not facts.overdue_unpaid


def test_record_facts_is_one_query(django_assert_num_queries):
    user = _person("counted")
    with django_assert_num_queries(1):
        record_facts(user=user, today=timezone.localdate())


def test_the_home_greys_a_dimension_without_data_instead_of_its_number(active_model):
    user = _person("thin", file=False)
    snapshot = score_recompute(user=user, trigger="test")
    page = _client(user).get("/").content.decode()

    credit = snapshot.dimensions["credit_history"]
    rows = re.findall(r'<li class="dimension-no-data">.*?</li>', page, re.S)
    assert len(rows) == 4
    assert all("No data yet" in row and "<meter" not in row for row in rows)
    assert f"<span>{credit}</span>" not in page  # the bar's number is gone
    assert page.count("<meter") == 1  # identity only
    assert page.count("radar-dot-none") == 4
    zh = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    zh.force_login(user)
    assert "暂无数据" in zh.get("/").content.decode()


def test_the_score_api_lists_the_dimensions_without_data(active_model):
    user = _person("apied")
    snapshot = score_recompute(user=user, trigger="test")
    api = APIClient()
    api.force_authenticate(user)
    body = api.get("/api/v1/me/score/").json()
    assert body["dimensions"] == snapshot.dimensions  # the numbers stay
    assert body["dimensions_without_data"] == ["connections"]


def test_levers_apply_only_when_they_can_move_the_score():
    user = _person("levered")
    today = timezone.localdate()
    profile = Profile.objects.get(user=user)
    levers = what_if_levers_for(facts=record_facts(user=user, today=today), profile=profile)
    assert "repay_overdue" not in levers  # nothing overdue
    assert "bills_paid_on_time" not in levers  # no bills, no consent
    assert "card_utilisation" in levers  # an open credit card
    assert {"income_band", "provident_fund_months"} <= set(levers)

    loan = user.credit_accounts.get(kind="consumer_loan")
    add_repayment(loan, due=days_ago(15), days_overdue=15, paid=False)
    set_profile(user, occupation="student")
    profile.refresh_from_db()
    levers = what_if_levers_for(facts=record_facts(user=user, today=today), profile=profile)
    assert "repay_overdue" in levers
    assert "work_email_verified" not in levers  # a student has no employer to verify


def test_what_if_says_the_band_and_each_changes_points(active_model):
    user = _person("tried")
    loan = user.credit_accounts.get(kind="consumer_loan")
    add_repayment(loan, due=days_ago(15), days_overdue=15, paid=False)
    score_recompute(user=user, trigger="test")
    changes = {"repay_overdue": True, "card_utilisation": 0.1}

    result = score_what_if(user=user, changes=changes)

    assert result["band"] in {"poor", "fair", "good", "very_good", "excellent"}
    assert [row["lever"] for row in result["levers"]] == list(changes)
    assert result["levers"][0]["points"] > 0
    # Points are additive: alone they come to the whole change, give or take rounding.
    assert abs(sum(row["points"] for row in result["levers"]) - result["delta"]) <= 2

    page = _client(user).post(
        "/score/what-if/",
        {"repay_overdue": "on", "card_utilisation": "10"},
        headers={"HX-Request": "true"},
    )
    html = page.content.decode()
    assert f'class="band band-{result["band"]}"' in html
    assert "Repay what is overdue" in html
    assert "Credit card use" in html
    assert re.search(r"\+\d+ points?", html)


def test_the_what_if_page_offers_only_the_levers_that_apply(active_model):
    user = _person("offered")
    html = _client(user).get("/score/what-if/").content.decode()
    assert 'id="id_repay_overdue"' not in html
    assert 'id="id_bills_paid_on_time"' not in html
    assert 'id="id_card_utilisation"' in html
    assert 'id="id_income_band"' in html


def test_every_tip_lands_on_a_lever_or_page_that_exists(active_model):
    user = _person("tipped")
    card = user.credit_accounts.get(kind="credit_card")
    card.balance = card.credit_limit  # cards at their limit: the card-use tip
    card.save()
    loan = add_account(user, opened_on=days_ago(300))
    add_repayment(loan, due=days_ago(12), days_overdue=12, paid=False)
    score_recompute(user=user, trigger="test")
    client = _client(user)

    home = client.get("/").content.decode()
    tips = re.findall(r'<ul class="tips">(.*?)</ul>', home, re.S)[0]
    links = re.findall(r'<a href="([^"]+)">', tips)
    assert any("#id_repay_overdue" in link for link in links)
    assert any("#id_card_utilisation" in link for link in links)
    for link in links:
        path, _, anchor = link.partition("#")
        page = client.get(path)
        assert page.status_code == 200, link
        if anchor:
            assert f'id="{anchor}"' in page.content.decode(), link
