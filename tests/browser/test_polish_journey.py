"""One product on a phone: every main page, in Chinese and in English, loads without a
console error or CSP refusal and with every control a 44 px target; the proof link is
copied by its button; the page title follows the profile's htmx steps; a tap anywhere on
a benefit card takes its action; /favicon.ico answers."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from accounts.models import User
from accounts.profile_sections import SECTIONS
from benefits.services import voucher_claim
from scoring import selectors
from scoring.models import ScoreProof, ScoreSnapshot
from scoring.services.proofs import proof_create
from scoring.services.scores import score_recompute
from tests.browser.helpers import (
    assert_no_horizontal_scroll,
    log_in,
    new_phone_context,
    ready_user,
    url_pattern,
)
from tests.factories import make_benefit, make_id_number, make_partner, solid_file, store_model

USERNAME = "polished"
TARGET = 44  # px, the smallest finger target (WCAG 2.5.5, Apple's and Android's guides)

# The controls of a page smaller than a finger. Exempt: links inside a sentence (WCAG's
# inline exception), a tick box or radio whose label row is the target, and what is not
# on screen (the skip link waits off-screen until focused).
SMALL_TARGETS = """
(min) => {
  const small = [];
  const controls = 'a[href], button, input:not([type=hidden]), select, textarea, summary';
  for (const el of document.querySelectorAll(controls)) {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (!box.width || !box.height || style.visibility === 'hidden' || box.right <= 0) continue;
    if (el.tagName === 'A' && style.display === 'inline' && !el.closest('svg')) continue;
    let row = box;
    if (el.matches('input[type=checkbox], input[type=radio]')) {
      row = (el.closest('.check, label') || el.parentElement).getBoundingClientRect();
    }
    if (row.height < min - 0.5 || row.width < min - 0.5) {
      const name = (el.innerText || el.getAttribute('aria-label') || el.name || '').trim();
      small.push(`<${el.tagName.toLowerCase()} class="${el.getAttribute('class') || ''}">`
        + ` ${name.slice(0, 30)}: ${Math.round(row.width)}x${Math.round(row.height)}`);
    }
  }
  return small;
}
"""


@pytest.fixture
def polished(transactional_db, trained, consent_texts) -> User:
    """Scored twice (a history to draw), with a live proof, a voucher and a benefit still
    to claim."""
    selectors._cache.clear()
    store_model(trained)
    user = ready_user(USERNAME, id_number=make_id_number(sequence="611"))
    solid_file(user)
    first = score_recompute(user=user, trigger="identity_verified")
    ScoreSnapshot.objects.filter(pk=first.pk).update(
        computed_at=timezone.now() - datetime.timedelta(days=9)
    )
    score_recompute(user=user, trigger="nightly")
    proof_create(user=user, shows="band", threshold=None, lifetime="1d", show_name=False)
    partner = make_partner("瑞幸咖啡")
    voucher_claim(user=user, benefit_id=make_benefit(partner, 350, title_zh="咖啡买一送一").pk)
    make_benefit(make_partner(), 350, title_zh="单车免押金")
    make_benefit(make_partner("Hello Travel"), 940, title_zh="签证免存款证明", title_en="Visa help")
    yield user
    selectors._cache.clear()


def _main_pages(user: User) -> list[str]:
    proof = ScoreProof.objects.get(user=user)
    voucher = user.vouchers.get()
    return [
        "/",
        "/score/history/",
        "/score/what-if/",
        "/score/records/",
        "/score/how-it-works/",
        "/score/proofs/",
        f"/score/proofs/{proof.pk}/",
        "/benefits/",
        "/benefits/vouchers/",
        f"/benefits/vouchers/{voucher.pk}/",
        "/benefits/queries/",
        "/accounts/consents/",
        "/accounts/me/",
        "/accounts/profile/",
        f"/accounts/profile/{SECTIONS[0].key}/",
        "/accounts/identity/",
        "/accounts/notifications/",
        "/accounts/me/data/",
        "/accounts/me/devices/",
        "/accounts/password/",
    ]


def _console_errors(browser_log, since: int) -> list[str]:
    return [line for line in browser_log.console[since:] if line.startswith("[error]")]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_main_page_is_clean_and_every_control_a_finger_wide(
    page, live_server, browser_log, screenshot, polished, language
):
    log_in(page, live_server, USERNAME)
    if language == "en":
        page.locator("header .lang-switch button").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
    problems = []
    for path in _main_pages(polished):
        seen = len(browser_log.console)
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        expect(page.locator("html")).to_have_attribute("lang", language)
        errors = _console_errors(browser_log, seen)
        small = page.evaluate(SMALL_TARGETS, TARGET)
        if "{#" in page.inner_text("body") or "{%" in page.inner_text("body"):
            errors.append("template syntax shown as text")
        if errors or small:
            problems.append(f"{path}: " + "; ".join(errors + small))
        assert_no_horizontal_scroll(page)
        name = path.strip("/").replace("/", "-") or "home"
        screenshot(page, f"polish-{language}-{name}")
    assert not problems, "\n".join(problems)
    browser_log.assert_clean()


def test_the_signed_out_pages_and_the_favicon_are_clean(page, live_server, browser_log):
    for path in ("/accounts/login/", "/accounts/signup/", "/favicon.ico"):
        seen = len(browser_log.console)
        response = page.goto(live_server.url + path)
        assert response.ok, path
        page.wait_for_load_state("networkidle")
        assert not _console_errors(browser_log, seen), path
        if path != "/favicon.ico":
            assert not page.evaluate(SMALL_TARGETS, TARGET), path
    assert page.url.endswith("/static/favicon.svg")


def test_the_copy_button_copies_the_proof_link(page, live_server, polished):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(page, live_server, USERNAME)
    page.goto(live_server.url + f"/score/proofs/{ScoreProof.objects.get(user=polished).pk}/")
    link = page.locator("#proof-link").inner_text().strip()
    copy = page.locator(".share-actions [data-action=copy]")
    expect(copy).to_be_visible()
    expect(copy).to_have_text("复制链接")
    copy.click()
    expect(page.locator(".share-status")).to_have_text("已复制。")
    assert page.evaluate("navigator.clipboard.readText()") == link


def test_without_script_the_link_is_a_selectable_field_and_no_dead_button_shows(
    browser, browser_log, live_server, polished
):
    context = new_phone_context(browser, browser_log, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, live_server, USERNAME)
        page.goto(live_server.url + f"/score/proofs/{ScoreProof.objects.get(user=polished).pk}/")
        expect(page.locator("#proof-link")).to_have_css("user-select", "all")
        expect(page.locator(".share-actions button")).to_have_count(2)
        for button in page.locator(".share-actions button").all():
            expect(button).to_be_hidden()
    finally:
        context.close()


def test_the_title_follows_the_profile_steps(page, live_server, polished):
    log_in(page, live_server, USERNAME)
    with translation.override("zh-hans"):
        first, second = str(SECTIONS[0].title), str(SECTIONS[1].title)
    page.goto(live_server.url + f"/accounts/profile/{SECTIONS[0].key}/")
    expect(page).to_have_title(re.compile("^" + re.escape(first) + " · "))
    page.locator(".step-links a").first.click()  # "Skip for now": an htmx swap
    expect(page).to_have_url(url_pattern(live_server, f"/accounts/profile/{SECTIONS[1].key}/"))
    expect(page.locator("#step-title")).to_have_text(second)
    expect(page).to_have_title(re.compile("^" + re.escape(second) + " · "))


def test_a_tap_anywhere_on_a_benefit_card_takes_its_action(page, live_server, polished):
    log_in(page, live_server, USERNAME)
    page.goto(live_server.url + "/benefits/")
    card = page.locator("main article.benefit", has_text="单车免押金")
    expect(card.locator(".monogram")).to_have_text("绿")
    title = card.locator("h3").bounding_box()
    page.mouse.click(title["x"] + 4, title["y"] + title["height"] / 2)
    expect(page).to_have_url(re.compile(r"/benefits/vouchers/\d+/$"))
    page.goto(live_server.url + "/benefits/vouchers/")
    expect(page.locator("main .voucher-list .badge-ok")).to_have_count(2)
    # A card still to unlock leads, just as wholly, to what would raise the score.
    page.goto(live_server.url + "/benefits/")
    locked = page.locator("main article.benefit", has_text="签证免存款证明")
    expect(locked.locator(".monogram")).to_have_text("HT")
    box = locked.locator(".monogram").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page).to_have_url(url_pattern(live_server, "/score/what-if/"))


def test_each_history_point_is_a_finger_wide(page, live_server, polished):
    log_in(page, live_server, USERNAME)
    page.goto(live_server.url + "/score/history/")
    hits = page.locator("svg.history-chart .history-hit")
    expect(hits).to_have_count(2)
    for hit in hits.all():
        box = hit.bounding_box()
        assert box["width"] >= TARGET, box
        assert box["height"] >= TARGET, box
