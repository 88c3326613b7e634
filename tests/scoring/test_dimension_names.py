"""The home names the five dimensions once: the radar's axes and the bars beside it use
the same words, in either language."""

from __future__ import annotations

import re

import pytest

from tests.factories import grant_scoring, make_user, set_score, verify

DIMENSIONS = {
    "credit_history": 63,
    "behaviour": 55,
    "capacity": 70,
    "identity": 80,
    "connections": 40,
}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_radar_and_bars_use_one_set_of_names(client, model_version, language):
    user = make_user("named")
    verify(user)
    grant_scoring(user)
    set_score(user, 640, DIMENSIONS, model_version=model_version)
    client.force_login(user)

    page = client.get("/", HTTP_ACCEPT_LANGUAGE=language).content.decode()

    # Dimensions with no data are greyed (their own classes), but keep their names.
    radar = re.findall(r'<text class="radar-label[^"]*"[^>]*>([^<]+?)\s*<tspan', page)
    bars = re.findall(r'<ul class="dimensions">.*?</ul>', page, re.S)[0]
    bar_names = re.findall(r'<li(?: class="dimension-no-data")?><span>([^<]+)</span>', bars)
    assert len(radar) == len(DIMENSIONS)
    assert radar == bar_names
