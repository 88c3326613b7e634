"""The guided first path: what `/` says logged out, the step indicator, the attempts left
before the verification lockout, the one consent asked first, and the getting-started
checklist on the home while a step remains."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import IdentityAttempt
from tests.factories import grant_scoring, make_id_number, make_user, verify

HOME = "/"
STEPS = 'class="onboarding-steps"'


@pytest.fixture
def newcomer(db):
    return make_user("newcomer")


@pytest.fixture
def newcomer_client(client, newcomer):
    client.force_login(newcomer)
    return client


def test_logged_out_home_says_what_the_portal_is(client, db):
    response = client.get(HOME, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Your credit score, explained" in page
    assert f'href="{reverse("scoring:how_it_works")}"' in page
    assert f'href="{reverse("accounts:signup")}"' in page
    assert f'href="{reverse("accounts:login")}"' in page


def test_sign_up_page_shows_the_first_step(client, db):
    page = client.get(reverse("accounts:signup")).content.decode()

    assert STEPS in page
    assert page.count('aria-current="step"') == 1


def test_checklist_tops_the_home_while_steps_remain(newcomer_client, newcomer):
    page = newcomer_client.get(HOME, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'id="steps-title"' in page
    assert page.index('id="steps-title"') < page.index('id="score-title"')
    assert f'<a href="{reverse("accounts:identity")}">Verify your real name</a>' in page
    assert STEPS in page


def test_checklist_follows_the_steps_done(newcomer_client, newcomer):
    verify(newcomer)
    grant_scoring(newcomer)

    page = newcomer_client.get(HOME, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'id="steps-title"' in page  # the profile is still open
    assert page.index('id="steps-title"') < page.index('id="score-title"')
    assert '<span class="onboarding-number">4</span>' in page
    assert page.count('aria-current="step"') == 1  # the score, the path's last step
    assert f'<a href="{reverse("accounts:profile")}">Complete your profile</a>' in page


def test_checklist_is_gone_once_every_step_is_done(newcomer_client, newcomer, monkeypatch):
    verify(newcomer)
    grant_scoring(newcomer)
    monkeypatch.setattr("scoring.views.home.completion_percent", lambda profile: 100)

    page = newcomer_client.get(HOME).content.decode()

    assert 'id="steps-title"' not in page
    assert STEPS not in page


def test_identity_page_says_the_attempts_left_before_the_lockout(newcomer_client, newcomer):
    limit = settings.IDENTITY_ATTEMPTS_PER_HOUR
    page = newcomer_client.get(reverse("accounts:identity"), HTTP_ACCEPT_LANGUAGE="en")
    assert "attempts left" not in page.content.decode()  # nothing to warn about yet
    assert STEPS in page.content.decode()

    wrong = make_id_number()[:-1] + ("0" if make_id_number()[-1] != "0" else "1")
    response = newcomer_client.post(
        reverse("accounts:identity"),
        {"full_name": "张伟", "id_number": wrong},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert IdentityAttempt.objects.filter(user=newcomer).count() == 1
    assert f"{limit - 1} attempts left this hour" in response.content.decode()


def test_identity_page_says_when_no_attempt_is_left(newcomer_client, newcomer):
    now = timezone.now()
    for _ in range(settings.IDENTITY_ATTEMPTS_PER_HOUR):
        IdentityAttempt.objects.create(user=newcomer, created_at=now, outcome="invalid")

    page = newcomer_client.get(reverse("accounts:identity"), HTTP_ACCEPT_LANGUAGE="en")

    assert "No attempts left this hour" in page.content.decode()


def test_first_path_asks_only_the_consent_scoring_needs(newcomer_client, newcomer):
    verify(newcomer)

    response = newcomer_client.get(reverse("accounts:consents"))

    purposes = [text.purpose for text in response.context["offers"]]
    assert purposes == ["scoring"]
    assert response.context["partner_text"] is None
    assert STEPS in response.content.decode()
    assert 'href="?all=1"' in response.content.decode()


def test_every_consent_on_ask_and_after_the_first_path(newcomer_client, newcomer):
    verify(newcomer)

    asked = newcomer_client.get(reverse("accounts:consents"), {"all": "1"})
    assert len(asked.context["offers"]) > 1
    assert asked.context["partner_text"] is not None

    grant_scoring(newcomer)
    after = newcomer_client.get(reverse("accounts:consents"))

    assert after.context["offers"]  # the data categories
    assert "scoring" not in [text.purpose for text in after.context["offers"]]
    assert after.context["partner_text"] is not None
    assert STEPS not in after.content.decode()


def test_first_consent_lands_on_the_score(newcomer_client, newcomer):
    verify(newcomer)

    response = newcomer_client.post(reverse("accounts:consent_grant"), {"purpose": "scoring"})

    assert response.status_code == 302
    assert response["Location"] == HOME
