"""The whole journey of a new person, end to end, in a real Chromium at 375 px against the
live server and a real Celery worker process: sign up, verify the real name (after one
refusal), consent, answer two profile steps, watch the score arrive on the home page
without a reload, claim a benefit it unlocks, read the history, try what-if, and revoke
the consent. Then the admin's side (approve a partner, publish its benefit) and a
recompute that fails for want of a model.

Each journey starts its worker only once the person is looking at the score home: the
recompute that consenting and the profile queued waits on the broker meanwhile, as it
would behind a busy worker, so the computing state is seen for sure before the score
replaces it. Screenshots go to test-artifacts/screenshots/whole-*.png.
"""

from __future__ import annotations

import contextlib
import datetime
import importlib
import re
import time
from collections.abc import Iterator

import pytest
from django.apps import apps
from django.utils import timezone, translation
from playwright.sync_api import expect

from accounts.clients import Client
from accounts.models import ConsentGrant, ConsentPurpose, Identity, Profile, User
from accounts.selectors import identity_birth_date
from accounts.services import consent_grant
from benefits.demo import demo_benefits_load, demo_partners_load
from benefits.models import Benefit, BenefitCategory, Partner, PartnerStatusChange, Voucher
from scoring import selectors
from scoring.explain.breakdown import snapshot_breakdown
from scoring.models import ModelVersion, PendingRecompute, ScoreSnapshot
from tests.browser.helpers import (
    FORM_SUBMIT,
    assert_no_horizontal_scroll,
    assert_stays,
    assert_tab_bar_leaves_content_visible,
    fill_identity,
    fill_sign_up,
    log_in,
    ready_user,
    snapshot_store,
    url_pattern,
)
from tests.factories import PASSWORD, make_id_number, store_model
from tests.privacy import database_values, leaks_of
from tests.worker import Worker, broker_purge, wait_for

LANGUAGES = {"zh": "zh-hans", "en": "en"}
SCORE_APPEARS_MS = 60_000
POLL_SECONDS = 2
VOUCHER_CODE = re.compile(r"^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$")
CJK = re.compile(r"[\u4e00-\u9fff]")
PANEL = "#score-panel"
POLLING_PANEL = "#score-panel[hx-trigger]"
GAUGE = "#score-panel svg.gauge"
STEP_FORM = "#profile-step > form.form"
STEP_SUBMIT = f"{STEP_FORM} button[type=submit]"
CLAIM_BUTTON = "form[action$='/claim/'] button[type=submit]"
UNLOCKED = "section[aria-labelledby=unlocked-title]"
LOW_BENEFIT_TITLE = {"zh": "便利店会员九折", "en": "10% off at the corner shop"}
HAPPYTRIP = "乐游旅行 HappyTrip"
FLY_NOW = "机票先飞后付"


# Fixtures -------------------------------------------------------------------------------------


@pytest.fixture
def worker(live_server, transactional_db, tmp_path) -> Iterator[Worker]:
    """A real worker for this test, started by the test; stopped (SIGTERM, then SIGKILL)
    before the live server and the database are torn down. Messages earlier tests left
    on the queue are dropped first."""
    broker_purge()
    handle = Worker(tmp_path / "worker.log")
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def fresh_model_cache() -> Iterator[None]:
    """The live server's thread loads models into this process's cache: start empty."""
    selectors._cache.clear()
    yield
    selectors._cache.clear()


@pytest.fixture
def nightly_schedule(transactional_db) -> None:
    """The beat schedule of the nightly recompute (a data migration, flushed by earlier
    transactional tests): the home's "next update" comes from it."""
    migration = importlib.import_module("scoring.migrations.0003_recompute_schedule")
    migration.schedule(apps, None)


@pytest.fixture
def catalogue(transactional_db) -> Benefit:
    """The demo catalogue, and an approved partner's published benefit at 400, so that
    whatever a thin file scores, something unlocks. Returns that benefit."""
    demo_partners_load()
    demo_benefits_load()
    partner = Partner.objects.create(
        name="邻里便利 NearbyMart",
        category="retail",
        licence_number="RT-2026-0042",
        status=Partner.Status.APPROVED,
        status_changed_at=timezone.now(),
    )
    return Benefit.objects.create(
        partner=partner,
        title_zh=LOW_BENEFIT_TITLE["zh"],
        title_en=LOW_BENEFIT_TITLE["en"],
        terms_zh="凭券码购买日用品享九折。",
        terms_en="Show the code for 10% off everyday goods.",
        category=BenefitCategory.OTHER,
        min_score=400,
        status=Benefit.Status.PUBLISHED,
        published_at=timezone.now(),
        active_from=timezone.now() - datetime.timedelta(days=1),
    )


# Helpers --------------------------------------------------------------------------------------


def _t(lang: str, msgid: str) -> str:
    """A message as the portal renders it in `lang` (from the compiled catalogue)."""
    with translation.override(LANGUAGES[lang]):
        return translation.gettext(msgid)


@contextlib.contextmanager
def _worker_log_on_failure(worker: Worker) -> Iterator[None]:
    """Any assertion failing inside carries the tail of the worker's log."""
    try:
        yield
    except AssertionError as error:
        raise AssertionError(f"{error}\n\n{worker.log_tail()}") from error


def _panel_requests(browser_log) -> int:
    return sum(1 for url in browser_log.requests if "/score/panel/" in url)


def _assert_language(page, lang: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", LANGUAGES[lang])
    heading = page.locator("main h1").first
    expect(heading).to_be_visible()
    if lang == "zh":
        expect(heading).to_have_text(CJK)
    else:
        expect(heading).not_to_have_text(CJK)


def _page_checks(page, screenshot, name: str, *, tab_bar: bool = True) -> None:
    """What every page of the journey must do at 375 px, then its screenshot."""
    assert_no_horizontal_scroll(page)
    if tab_bar:
        assert_tab_bar_leaves_content_visible(page)
    screenshot(page, name)


def _verified_user(username: str, *, consent: bool = False) -> User:
    return ready_user(
        username, full_name="王芳", id_number=make_id_number(sequence="311"), consent=consent
    )


def _grant_scoring_in_the_page(page, live_server) -> ConsentGrant:
    page.goto(live_server.url + "/accounts/consents/")
    page.locator("form:has(input[name=purpose][value=scoring]) button[type=submit]").click()
    # A first consent to scoring ends the guided path on the score; the row is listed.
    expect(page).to_have_url(url_pattern(live_server, "/"))
    page.goto(live_server.url + "/accounts/consents/")
    grant = ConsentGrant.objects.current().get(purpose=ConsentPurpose.SCORING)
    expect(page.locator(f"#consent-{grant.pk} .badge-ok")).to_be_visible()
    expect(page.locator("form:has(input[name=purpose][value=scoring])")).to_have_count(0)
    return grant


# (1) A new person, from sign-up to revoking the consent ------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_new_user_journey(
    lang,
    page,
    live_server,
    screenshot,
    browser_log,
    worker,
    trained,
    catalogue,
    nightly_schedule,
    fresh_model_cache,
):
    low_benefit = catalogue
    store_model(trained)
    username = f"journey{lang}"

    def shot(name: str, **options) -> None:
        _page_checks(page, screenshot, f"whole-{lang}-{name}", **options)

    # 1. Sign up, in English through the header's language button for [en].
    page.goto(live_server.url + "/accounts/signup/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    if lang == "en":
        page.locator("header .lang-switch button").click()
        expect(page).to_have_url(url_pattern(live_server, "/accounts/signup/"))
    _assert_language(page, lang)
    fill_sign_up(page, username)
    shot("1-signup", tab_bar=False)
    page.click(FORM_SUBMIT)

    # 2. Real-name verification: a wrong check character is refused next to the field,
    # with the name kept; then the right number.
    expect(page).to_have_url(url_pattern(live_server, "/accounts/identity/"))
    _assert_language(page, lang)
    user = User.objects.get(username=username)
    good = make_id_number(region="310104", birth="19900615", sequence="218")
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    fill_identity(page, "李小龙", bad)
    page.click(FORM_SUBMIT)
    expect(page).to_have_url(url_pattern(live_server, "/accounts/identity/"))
    field = page.locator("#id_id_number")
    expect(field).to_have_attribute("aria-invalid", "true")
    error = page.locator("#id_id_number_error")
    expect(error).to_be_visible()
    expect(error).not_to_be_empty()
    expect(field).to_have_attribute("aria-describedby", re.compile(r"\bid_id_number_error\b"))
    field_box, error_box = field.bounding_box(), error.bounding_box()
    assert abs(error_box["y"] - (field_box["y"] + field_box["height"])) < 120
    expect(page.locator("#id_full_name")).to_have_value("李小龙")
    expect(page.locator("#id_full_name")).not_to_have_attribute("aria-invalid", "true")
    assert not Identity.objects.filter(user=user).exists()
    shot("2-identity-refused")
    page.fill("#id_id_number", good)
    page.click(FORM_SUBMIT)

    # 3. Consent to scoring.
    expect(page).to_have_url(url_pattern(live_server, "/accounts/consents/"))
    identity = Identity.objects.get(user=user)
    assert identity_birth_date(identity).isoformat() == "1990-06-15"
    _assert_language(page, lang)
    offer = page.locator("form:has(input[name=purpose][value=scoring]) button[type=submit]")
    expect(offer).to_have_text(_t(lang, "I agree"))
    offer.click()
    # The first consent to scoring ends the guided path on the score; the row is listed.
    expect(page).to_have_url(url_pattern(live_server, "/"))
    expect(page.locator("#messages .message-success")).to_be_visible()
    page.goto(live_server.url + "/accounts/consents/")
    grant = ConsentGrant.objects.current().get(user=user, purpose=ConsentPurpose.SCORING)
    row = page.locator(f"#consent-{grant.pk}")
    expect(row.locator(".badge-ok")).to_be_visible()
    shot("3-consents")
    # Consenting queued a recompute; no worker is running yet, so it waits.
    assert PendingRecompute.objects.filter(user=user, started_at=None).exists()

    # 4. Two profile steps through the step flow: education, then income.
    page.goto(live_server.url + "/accounts/profile/")
    _assert_language(page, lang)
    page.click("main a.button-primary")
    expect(page.locator(STEP_FORM)).to_have_attribute("action", "/accounts/profile/education/")
    page.select_option("#id_education_level", "bachelor")
    page.fill("#id_school", "复旦大学")
    page.fill("#id_graduation_year", "2012")
    shot("4-profile-education")
    page.click(STEP_SUBMIT)
    expect(page.locator(STEP_FORM)).to_have_attribute("action", "/accounts/profile/occupation/")
    expect(page).to_have_url(url_pattern(live_server, "/accounts/profile/occupation/"))
    page.click("#profile-step .step-links a[href='/accounts/profile/']")
    expect(page).to_have_url(url_pattern(live_server, "/accounts/profile/"))
    page.click("ul.menu a[href='/accounts/profile/income/']")
    expect(page.locator(STEP_FORM)).to_have_attribute("action", "/accounts/profile/income/")
    page.check("#profile-step input[name=income_band][value='8k_12k']")
    shot("4-profile-income")
    page.click(STEP_SUBMIT)
    expect(page.locator(STEP_FORM)).to_have_attribute("action", "/accounts/profile/address/")
    profile = Profile.objects.get(user=user)
    assert (profile.education_level, profile.income_band) == ("bachelor", "8k_12k")

    # 5. The score home: computing, then the score swaps in by itself, without a reload.
    page.locator("nav.tabbar a").first.click()
    expect(page).to_have_url(url_pattern(live_server, "/"))
    _assert_language(page, lang)
    busy = page.locator(f"{PANEL} [role=status]")
    expect(busy).to_be_visible()
    expect(busy.locator(".spinner")).to_have_count(1)
    expect(busy).to_contain_text(
        _t(lang, "Computing your score… This takes a few seconds; it will appear here by itself.")
    )
    expect(page.locator(POLLING_PANEL)).to_have_attribute("hx-trigger", f"every {POLL_SECONDS}s")
    expect(page.locator(GAUGE)).to_have_count(0)
    shot("5-home-computing")
    page.evaluate("window.__marker = 1")
    with _worker_log_on_failure(worker):
        worker.start()
        expect(page.locator(GAUGE)).to_be_visible(timeout=SCORE_APPEARS_MS)
        expect(page.locator(POLLING_PANEL)).to_have_count(0)
        assert page.evaluate("window.__marker") == 1, "the score home reloaded the page"
        assert _panel_requests(browser_log) >= 1, "the score arrived without a poll"
        polls_when_done, done_at = _panel_requests(browser_log), time.monotonic()
        snapshot = ScoreSnapshot.objects.get(user=user)
    assert snapshot.trigger == "consent:scoring"
    # One recompute, with both profile answers in it.
    assert snapshot_breakdown(snapshot).values["cp_income_rank"] is not None
    assert snapshot_breakdown(snapshot).values["id_education_rank"] is not None
    assert not PendingRecompute.objects.filter(user=user).exists()
    expect(page.locator(f"{PANEL} [role=status] .spinner")).to_have_count(0)

    # 6. The whole home: gauge, radar, history, reasons, next update.
    expect(page.locator(f"{GAUGE} text.gauge-score")).to_have_text(str(snapshot.score))
    expect(page.locator(f"{PANEL} svg.radar")).to_be_visible()
    expect(page.locator(f"{PANEL} ul.dimensions li")).to_have_count(len(snapshot.dimensions))
    # One score is no history yet: the card says so instead of drawing a lone dot.
    expect(page.locator(f"{PANEL} .history-single")).to_be_visible()
    expect(page.locator(f"{PANEL} svg.history-chart")).to_have_count(0)
    reasons = page.locator(f"{PANEL} ul.reasons li")
    expect(reasons.first).to_be_visible()
    headings = page.locator(f"{PANEL} section[aria-labelledby=reasons-title] h3")
    expect(headings.first).to_have_text(
        re.compile(f"^({re.escape(_t(lang, 'What helped'))}|{re.escape(_t(lang, 'What hurt'))})$")
    )
    before, after = _t(lang, "Next update %(when)s, or as soon as something changes.").split(
        "%(when)s"
    )
    when = page.locator(f"{PANEL} .score-when")
    expect(when).to_contain_text(before.strip())
    expect(when).to_contain_text(after.strip())
    expect(page.locator(f"{PANEL} section[aria-labelledby=benefits-title]")).to_be_visible()
    shot("6-home-score")
    # Two poll intervals later, still no request for the panel: the poll has stopped.
    assert_stays(
        page,
        lambda: _panel_requests(browser_log) == polls_when_done,
        until=done_at + 2 * POLL_SECONDS + 0.5,
        message="the panel is still polled",
    )

    # 7. A benefit is unlocked: claim it and get the voucher with its QR code.
    page.locator("nav.tabbar a[href='/benefits/']").click()
    expect(page).to_have_url(url_pattern(live_server, "/benefits/"))
    _assert_language(page, lang)
    article = page.locator(f"{UNLOCKED} #benefit-{low_benefit.pk}")
    expect(article).to_have_class(re.compile(r"\bbenefit-unlocked\b"))
    expect(article.locator("h3")).to_have_text(LOW_BENEFIT_TITLE[lang])
    expect(article.locator(".badge-ok")).to_be_visible()
    shot("7-benefits")
    article.locator(CLAIM_BUTTON).click()
    voucher = Voucher.objects.get(user=user, benefit=low_benefit)
    expect(page).to_have_url(url_pattern(live_server, f"/benefits/vouchers/{voucher.pk}/"))
    assert VOUCHER_CODE.match(voucher.code), voucher.code
    expect(page.locator("main .voucher-code")).to_have_text(voucher.code)
    qr = page.locator("main .qr-box > svg")
    expect(qr).to_be_visible()
    assert qr.bounding_box()["width"] >= 150
    shot("7-voucher")

    # 8. The history, and what-if (the result swaps in; nothing is saved).
    page.goto(live_server.url + "/score/history/")
    _assert_language(page, lang)
    expect(page.locator("main .history-single")).to_be_visible()
    expect(page.locator("main svg.history-chart")).to_have_count(0)
    rows = page.locator("main ol.history-list > li")
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".history-score")).to_have_text(str(snapshot.score))
    shot("8-history")

    page.goto(live_server.url + "/score/what-if/")
    _assert_language(page, lang)
    page.evaluate("window.__marker = 2")
    page.select_option("#id_income_band", "8k_12k")  # bills count only with their consent
    page.fill("#id_provident_fund_months", "48")
    page.click(FORM_SUBMIT)
    result = page.locator("#what-if-result .big-number")
    expect(result).to_have_text(re.compile(r"^\d{3}$"))
    assert 350 <= int(result.inner_text()) <= 950
    expect(page.locator("#what-if-result .delta")).to_be_visible()
    expect(page.locator("#what-if-result")).to_contain_text(str(snapshot.score))
    assert page.evaluate("window.__marker") == 2, "what-if reloaded the page"
    expect(page).to_have_url(url_pattern(live_server, "/score/what-if/"))
    assert ScoreSnapshot.objects.filter(user=user).count() == 1
    shot("8-what-if")

    # 9. Revoke the scoring consent: the score is hidden, the consent prompt is back.
    page.locator("nav.tabbar a[href='/accounts/consents/']").click()
    expect(page).to_have_url(url_pattern(live_server, "/accounts/consents/"))
    row = page.locator(f"#consent-{grant.pk}")
    row.locator("button[type=submit]").click()
    expect(row.locator(".badge-ok")).to_have_count(0)
    expect(row.locator("form")).to_have_count(0)
    assert not ConsentGrant.objects.current().filter(user=user).exists()
    shot("9-consent-revoked")
    page.locator("nav.tabbar a").first.click()
    expect(page).to_have_url(url_pattern(live_server, "/"))
    expect(page.locator("main h1")).to_be_visible()
    expect(page.locator("main svg.gauge")).to_have_count(0)
    expect(page.locator("main svg.radar")).to_have_count(0)
    expect(page.locator("main svg.history-chart")).to_have_count(0)
    expect(page.locator(POLLING_PANEL)).to_have_count(0)
    expect(page.locator(".score-card a.button-primary")).to_have_attribute(
        "href", "/accounts/consents/"
    )
    expect(page.locator("main")).not_to_contain_text(str(snapshot.score))
    shot("9-home-revoked")
    page.goto(live_server.url + "/score/history/")
    expect(page.locator("main ol.history-list")).to_have_count(0)
    expect(page.locator("main a.button-primary")).to_have_attribute("href", "/accounts/consents/")
    assert worker.running, worker.log_tail()
    browser_log.assert_clean()
    # After the whole journey (worker, claim, history, revocation) no column of any table
    # holds the number, or anything that rebuilds it, refused attempt included.
    values = database_values()
    assert not leaks_of(good, values)
    assert not leaks_of(bad, values)


# (2) A recompute that fails ---------------------------------------------------------------


def test_failed_recompute_stops_the_poll(
    page, live_server, screenshot, browser_log, worker, fresh_model_cache
):
    ModelVersion.objects.update(is_active=False)
    assert not ModelVersion.objects.filter(is_active=True).exists()
    user = _verified_user("nomodel")
    log_in(page, live_server, "nomodel")
    _grant_scoring_in_the_page(page, live_server)

    # The home polls while the recompute waits.
    page.locator("nav.tabbar a").first.click()
    expect(page).to_have_url(url_pattern(live_server, "/"))
    expect(page.locator(POLLING_PANEL)).to_have_count(1)
    expect(page.locator(f"{PANEL} [role=status] .spinner")).to_have_count(1)
    page.evaluate("window.__marker = 1")

    # The worker finds no model: the recompute is marked failed, the poll stops.
    with _worker_log_on_failure(worker):
        worker.start()
        alert = page.locator(f"{PANEL} [role=alert]")
        expect(alert).to_be_visible(timeout=SCORE_APPEARS_MS)
        expect(page.locator(POLLING_PANEL)).to_have_count(0)
        # The task's own outcome, as the worker logged it.
        assert wait_for(lambda: "'no_model'" in worker.log_tail(chars=100_000), timeout=15)
    expect(alert).to_contain_text(
        _t(
            "zh",
            "We could not compute your score just now. Nothing you entered is lost; try "
            "again in a moment.",
        )
    )
    button = alert.locator("form[action='/score/recompute/'] button[type=submit]")
    expect(button).to_have_text(_t("zh", "Compute my score now"))
    expect(page.locator(f"{PANEL} [role=status] .spinner")).to_have_count(0)
    expect(page.locator(GAUGE)).to_have_count(0)
    assert page.evaluate("window.__marker") == 1, "the failure reloaded the page"
    pending = PendingRecompute.objects.get(user=user)
    assert pending.failed_at is not None
    assert not ScoreSnapshot.objects.filter(user=user).exists()
    polls, done_at = _panel_requests(browser_log), time.monotonic()
    _page_checks(page, screenshot, "whole-failed-recompute")
    assert_stays(
        page,
        lambda: _panel_requests(browser_log) == polls,
        until=done_at + 2 * POLL_SECONDS + 0.5,
        message="the panel is still polled after failing",
    )
    browser_log.assert_clean()


# (3) The admin: approve a partner, publish its benefit -----------------------------------


def _scored_user(username: str, score: int) -> User:
    """A verified, consenting user with one stored score (written by hand)."""
    user = _verified_user(username, consent=True)
    dimensions = {"credit_history": 70, "behaviour": 70, "capacity": 70, "identity": 70}
    snapshot_store(user, score, dimensions)
    return user


def test_admin_journey(page, live_server, screenshot, browser_log, recompute_calls):
    demo_partners_load()
    demo_benefits_load()
    curator = User.objects.create_superuser(username="curator", password=PASSWORD)
    person = _scored_user("traveller", 700)
    partner = Partner.objects.get(name=HAPPYTRIP)
    benefit = Benefit.objects.get(title_zh=FLY_NOW)
    assert partner.status == Partner.Status.PENDING
    assert benefit.status == Benefit.Status.DRAFT
    successes = page.locator("ul.messagelist li.success")

    # Before: the person does not see the draft benefit of the pending partner.
    log_in(page, live_server, person.username)
    page.goto(live_server.url + "/benefits/")
    expect(page.locator("main article.benefit").first).to_be_visible()
    expect(page.locator(f"#benefit-{benefit.pk}")).to_have_count(0)
    page.context.clear_cookies()

    # The admin logs in.
    page.goto(live_server.url + "/admin/login/?next=/admin/")
    page.fill("#id_username", "curator")
    page.fill("#id_password", PASSWORD)
    page.click("#login-form input[type=submit]")
    expect(page).to_have_url(url_pattern(live_server, "/admin/"))
    screenshot(page, "whole-admin-1-index")

    # Approve the pending partner, giving the reason on the action's own page.
    page.goto(live_server.url + "/admin/benefits/partner/")
    row = page.locator("#result_list tbody tr", has_text=HAPPYTRIP)
    expect(row).to_have_count(1)
    row.locator(f"input[name=_selected_action][value='{partner.pk}']").check()
    page.select_option("select[name=action]", "approve")
    page.click("button[name=index]")
    reason = page.locator("textarea[name=reason]")
    expect(reason).to_be_visible()
    expect(page.locator("#content")).to_contain_text(HAPPYTRIP)
    reason.fill("Travel agency licence TR-2026-0321 checked against the registry.")
    screenshot(page, "whole-admin-2-approve-reason")
    page.click("input[name=apply]")
    expect(page).to_have_url(url_pattern(live_server, "/admin/benefits/partner/"))
    expect(successes).to_have_count(1)
    screenshot(page, "whole-admin-3-approved")
    partner.refresh_from_db()
    assert partner.status == Partner.Status.APPROVED
    change = PartnerStatusChange.objects.get(partner=partner)
    assert (change.status_from, change.status_to, change.changed_by) == (
        Partner.Status.PENDING,
        Partner.Status.APPROVED,
        curator,
    )
    assert change.reason.startswith("Travel agency licence")

    # Publish the draft benefit with "Save and publish".
    page.goto(live_server.url + "/admin/benefits/benefit/")
    page.locator("#result_list a", has_text=FLY_NOW).click()
    change_url = f"/admin/benefits/benefit/{benefit.pk}/change/"
    expect(page).to_have_url(url_pattern(live_server, change_url))
    publish = page.locator("input[name=_publish]")
    expect(publish).to_be_visible()
    screenshot(page, "whole-admin-4-benefit-draft")
    publish.click()
    expect(page).to_have_url(url_pattern(live_server, change_url))
    expect(successes).to_have_count(1)
    expect(page.locator("input[name=_publish]")).to_have_count(0)
    expect(page.locator("input[name=_unpublish]")).to_have_count(1)
    screenshot(page, "whole-admin-5-benefit-published")
    benefit.refresh_from_db()
    assert benefit.status == Benefit.Status.PUBLISHED
    assert benefit.published_by == curator
    assert benefit.published_at is not None
    browser_log.assert_clean()

    # The person now finds it in the catalogue, unlocked at 700.
    page.context.clear_cookies()
    log_in(page, live_server, person.username)
    page.goto(live_server.url + "/benefits/")
    article = page.locator(f"#benefit-{benefit.pk}")
    expect(article).to_be_visible()
    expect(article).to_have_class(re.compile(r"\bbenefit-unlocked\b"))
    expect(article.locator("h3")).to_have_text(FLY_NOW)
    expect(article.locator(CLAIM_BUTTON)).to_be_visible()
    article.scroll_into_view_if_needed()
    _page_checks(page, screenshot, "whole-admin-6-user-catalogue")


# (4) Chinese text -------------------------------------------------------------------------


def test_chinese_tip_lists_the_missing_sections_the_chinese_way(
    page, live_server, screenshot, recompute_calls
):
    user = _verified_user("tipped")
    consent_grant(user=user, purpose="scoring", client=Client(channel="web"))
    log_in(page, live_server, "tipped")
    tip = page.locator("main ul.tips li p").first
    expect(tip).to_be_visible()
    expect(tip).to_have_text(CJK)
    screenshot(page, "whole-zh-tip-enumeration")
    text = tip.inner_text()
    assert ", " not in text, text
    assert "、" in text, text
