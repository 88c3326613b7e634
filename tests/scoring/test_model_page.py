"""The public page on how scores work: dimensions, what is never used, how often scores
change, and the current model's figures with its gaps by gender and age band."""

from __future__ import annotations

import pytest
from django.test import Client

from scoring.models import ModelVersion

pytestmark = pytest.mark.django_db
PAGE = "/score/how-it-works/"


def test_anyone_can_read_how_scores_work(active_model):
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(PAGE)
    page = response.content.decode()

    assert response.status_code == 200
    for dimension in ("Credit history", "Behaviour", "Capacity to fulfil", "Identity traits"):
        assert dimension in page
    assert "Instalments repaid on time" in page
    assert "Your gender, ethnicity, age or the region in your ID number." in page
    assert "for everyone every night" in page
    assert active_model.version in page
    card = active_model.card
    assert f"{card['metrics']['auc']:.3f}" in page
    assert "Gap (men minus women)" in page
    assert "Aged 16-24" in page


def test_the_page_in_chinese(active_model):
    page = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get(PAGE).content.decode()
    assert "信用历史" in page
    assert "履约能力" in page


def test_without_a_model_the_page_says_so(db):
    ModelVersion.objects.update(is_active=False)
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(PAGE).content.decode()
    assert "No model is in use yet." in page
