"""Benefits in a real Chromium at 375 px: the catalogue with what is unlocked and how far
the rest is, filtering, claiming a voucher with its QR code, the notifications inbox, the
court-list notice, and the admin's journey from approving a partner to publishing its
benefit after previewing who would qualify."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Notification, User
from benefits.demo import demo_benefits_load, demo_partners_load
from benefits.models import Benefit, Partner, PartnerStatusChange, Voucher
from benefits.selectors import qualifying_preview
from benefits.services.unlocks import unlocks_apply
from scoring.models import CourtListEntry, ScoreSnapshot
from tests.browser.helpers import (
    DIMENSIONS,
    SCORE,
    assert_no_horizontal_scroll,
    assert_tab_bar_leaves_content_visible,
    log_in,
    ready_user,
    snapshot_store,
    url_pattern,
)
from tests.factories import PASSWORD, make_id_number

VOUCHER_CODE = re.compile(r"^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$")
CATALOGUE = "/benefits/"
VOUCHERS = "/benefits/vouchers/"
NOTIFICATIONS = "/accounts/notifications/"
UNLOCKED = "section[aria-labelledby=unlocked-title]"
LOCKED = "section[aria-labelledby=locked-title]"
CLAIM_BUTTON = "form[action$='/claim/'] button[type=submit]"
HAPPYTRIP = "乐游旅行 HappyTrip"
FLY_NOW = "机票先飞后付"


# Helpers --------------------------------------------------------------------------------------


@pytest.fixture
def recomputes(recompute_calls) -> list[tuple[int, str]]:
    """Recomputes queued by consenting are recorded, not sent to the broker: the
    snapshots these tests write by hand are the scores the pages show."""
    return recompute_calls


@pytest.fixture
def catalogue(transactional_db) -> list[Benefit]:
    """The demo catalogue (fictional partners at the thresholds of the public record)."""
    demo_partners_load()
    return demo_benefits_load()


def _scored_user(
    username: str, score: int = SCORE, *, sequence: int = 101, consent: bool = True
) -> tuple[User, ScoreSnapshot]:
    """A verified user (born 1990) who consents to scoring and has one snapshot."""
    user = ready_user(
        username, id_number=make_id_number(sequence=f"{sequence:03d}"), consent=consent
    )
    snapshot = snapshot_store(user, score, DIMENSIONS)
    return user, snapshot


def _article(page, benefit: Benefit):
    return page.locator(f"#benefit-{benefit.pk}")


def _article_ids(page) -> list[str]:
    return page.eval_on_selector_all("main article.benefit", "nodes => nodes.map(n => n.id)")


# (1) The catalogue, a claim and its voucher ---------------------------------------------------


def test_benefits_journey(page, live_server, screenshot, catalogue, recomputes, browser_log):
    user, _snapshot = _scored_user("benefitee")
    offered = [b for b in catalogue if b.status == Benefit.Status.PUBLISHED]
    unlocked = sorted(
        (b for b in offered if b.min_score <= SCORE), key=lambda b: (b.min_score, b.pk)
    )
    locked = [b for b in offered if b.min_score > SCORE]
    assert {b.min_score for b in unlocked} == {600, 650}
    assert {b.min_score for b in locked} == {700}
    draft = Benefit.objects.get(title_zh=FLY_NOW)
    bikes = Benefit.objects.get(category="bike_rental")
    log_in(page, live_server, "benefitee")

    # The Benefits tab of the tab bar.
    tab = page.locator(f"nav.tabbar a[href='{CATALOGUE}']")
    tab.click()
    expect(page).to_have_url(url_pattern(live_server, CATALOGUE))
    expect(tab).to_have_attribute("aria-current", "page")
    expect(page.locator("main h1")).to_be_visible()

    # Unlocked first, each with its badge and a Claim button; the 700+ ones below.
    expect(page.locator(f"{UNLOCKED} article.benefit")).to_have_count(len(unlocked))
    expect(page.locator(f"{UNLOCKED} article.benefit-unlocked")).to_have_count(len(unlocked))
    expect(page.locator(f"{LOCKED} article.benefit")).to_have_count(len(locked))
    expect(page.locator(f"{LOCKED} article.benefit-unlocked")).to_have_count(0)
    ids = _article_ids(page)
    assert ids[: len(unlocked)] == [f"benefit-{b.pk}" for b in unlocked], ids
    assert sorted(ids[len(unlocked) :]) == sorted(f"benefit-{b.pk}" for b in locked), ids
    expect(_article(page, draft)).to_have_count(0)  # a draft is not on offer
    for benefit in unlocked:
        article = _article(page, benefit)
        expect(article.locator(".badge-ok")).to_be_visible()
        expect(article.locator(CLAIM_BUTTON)).to_have_count(1)
        expect(article.locator("progress")).to_have_count(0)
    for benefit in locked:
        article = _article(page, benefit)
        expect(article.locator(".badge-ok")).to_have_count(0)
        expect(article.locator(CLAIM_BUTTON)).to_have_count(0)
        bar = article.locator(f"progress#progress-{benefit.pk}")
        expect(bar).to_be_visible()
        # (671 - 350) / (700 - 350) of the way there.
        expect(bar).to_have_attribute("value", "91")
        expect(bar).to_have_attribute("max", "100")
        expect(article.locator(f"label[for=progress-{benefit.pk}]")).to_contain_text(
            re.compile(r"(?<!\d)29(?!\d)")
        )
    assert_no_horizontal_scroll(page)
    assert_tab_bar_leaves_content_visible(page)
    screenshot(page, "benefits-catalogue-zh")

    # A second tab holds the catalogue as it is now, Claim button and all.
    stale = page.context.new_page()
    stale.goto(live_server.url + CATALOGUE)
    expect(_article(stale, bikes).locator(CLAIM_BUTTON)).to_be_visible()

    # Filter by a category chip.
    chip = page.locator("nav.chips a[href='?category=bike_rental']")
    chip.click()
    expect(page).to_have_url(url_pattern(live_server, CATALOGUE + "?category=bike_rental"))
    assert page.url.endswith("?category=bike_rental")
    expect(chip).to_have_attribute("aria-current", "page")
    expect(page.locator("main article.benefit")).to_have_count(1)
    expect(_article(page, bikes)).to_have_class(re.compile(r"\bbenefit-unlocked\b"))
    assert_no_horizontal_scroll(page)

    # Claim: the voucher page shows the code and an inline SVG QR code.
    _article(page, bikes).locator(CLAIM_BUTTON).click()
    expect(page).to_have_url(re.compile(re.escape(live_server.url + VOUCHERS) + r"\d+/$"))
    voucher = Voucher.objects.get(user=user, benefit=bikes)
    assert VOUCHER_CODE.match(voucher.code), voucher.code
    expect(page).to_have_url(url_pattern(live_server, f"{VOUCHERS}{voucher.pk}/"))
    assert voucher.code not in page.url  # codes stay out of URLs and access logs
    expect(page.locator("#messages .message-success")).to_be_visible()
    expect(page.locator("main .voucher-code")).to_have_text(voucher.code)
    expect(page.locator("main .voucher-code")).to_have_text(VOUCHER_CODE)
    qr = page.locator("main .qr-box > svg")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box["width"] >= 150, box
    assert box["height"] >= 150, box
    expect(page.locator("main .qr-box img")).to_have_count(0)
    assert_no_horizontal_scroll(page)
    assert_tab_bar_leaves_content_visible(page)
    screenshot(page, "benefits-voucher")

    # Back on the catalogue: "show my voucher" in place of Claim.
    page.goto(live_server.url + CATALOGUE)
    article = _article(page, bikes)
    expect(article.locator(CLAIM_BUTTON)).to_have_count(0)
    expect(article.locator("form")).to_have_count(0)
    show = article.locator(f"a[href='{VOUCHERS}{voucher.pk}/']")
    expect(show).to_be_visible()
    expect(page.locator(f"{UNLOCKED} {CLAIM_BUTTON}")).to_have_count(len(unlocked) - 1)

    # The stale tab's Claim is refused: the message says why and no second voucher exists.
    _article(stale, bikes).locator(CLAIM_BUTTON).click()
    expect(stale).to_have_url(url_pattern(live_server, CATALOGUE))
    expect(stale.locator("#messages .message-error")).to_be_visible()
    expect(_article(stale, bikes).locator(CLAIM_BUTTON)).to_have_count(0)
    stale.close()
    assert Voucher.objects.filter(user=user, benefit=bikes).count() == 1

    # My vouchers, from the catalogue's button.
    page.locator(f"main a[href='{VOUCHERS}']").click()
    expect(page).to_have_url(url_pattern(live_server, VOUCHERS))
    rows = page.locator("main ul.menu li")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(voucher.code)
    expect(rows.first).to_contain_text(bikes.title_zh)
    expect(rows.first.locator("a")).to_have_attribute("href", f"{VOUCHERS}{voucher.pk}/")
    assert_no_horizontal_scroll(page)
    screenshot(page, "benefits-vouchers")

    # In English, through the header's language button.
    page.goto(live_server.url + CATALOGUE)
    page.locator("header .lang-switch button").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(url_pattern(live_server, CATALOGUE))
    for benefit in unlocked:
        expect(_article(page, benefit).locator(".badge-ok")).to_have_text("Unlocked")
    for benefit in locked:
        expect(_article(page, benefit).locator(".progress label")).to_have_text("29 points away")
    expect(_article(page, bikes).locator("h3")).to_have_text(bikes.title_en)
    expect(_article(page, bikes).locator("a.button")).to_have_text("Show my voucher")
    assert_no_horizontal_scroll(page)
    assert_tab_bar_leaves_content_visible(page)
    screenshot(page, "benefits-catalogue-en")
    browser_log.assert_clean()


# (2) Notifications ----------------------------------------------------------------------------


def test_unlock_notifications(page, live_server, screenshot, catalogue, recomputes):
    user, snapshot = _scored_user("notified")
    unlocked, locked = unlocks_apply(scores=[(user.pk, snapshot.score, snapshot.dimensions)])
    assert (unlocked, locked) == (5, 0)
    # One notification listing the five.
    [note] = Notification.objects.filter(user=user)
    titles = [item["title_zh"] for item in note.params["benefits"]]
    assert len(titles) == 5

    log_in(page, live_server, "notified")
    bell = page.locator("header a.bell")
    expect(bell.locator(".bell-count")).to_have_text("1")
    expect(bell).to_have_attribute("aria-label", re.compile(r"(?<!\d)1(?!\d)"))

    bell.click()
    expect(page).to_have_url(url_pattern(live_server, NOTIFICATIONS))
    items = page.locator("main ul.notifications > li")
    expect(items).to_have_count(1)
    expect(page.locator("main ul.notifications > li.unread")).to_have_count(1)
    for title in titles:
        expect(page.locator("main ul.notifications")).to_contain_text(title)
    assert_no_horizontal_scroll(page)
    assert_tab_bar_leaves_content_visible(page)
    screenshot(page, "notifications")
    assert not Notification.objects.filter(user=user, read_at__isnull=True).exists()

    # Seen: the count is gone from the header, and nothing is shown as new any more.
    page.goto(live_server.url + CATALOGUE)
    expect(page.locator("header a.bell")).to_be_visible()
    expect(page.locator("header a.bell .bell-count")).to_have_count(0)
    expect(page.locator("header a.bell")).not_to_have_attribute("aria-label", re.compile(r"\d"))
    page.goto(live_server.url + NOTIFICATIONS)
    expect(page.locator("main ul.notifications > li")).to_have_count(1)
    expect(page.locator("main ul.notifications > li.unread")).to_have_count(0)
    expect(page.locator("header a.bell .bell-count")).to_have_count(0)


# (3) Court list -------------------------------------------------------------------------------


def test_court_listed_user_sees_why_and_cannot_claim(
    page, live_server, screenshot, catalogue, recomputes
):
    user, _snapshot = _scored_user("listed")
    CourtListEntry.objects.create(id_number_hash=user.identity.id_number_hash)
    log_in(page, live_server, "listed")
    page.goto(live_server.url + CATALOGUE)

    notice = page.locator("main .notice-danger")
    expect(notice).to_be_visible()
    expect(notice.locator("h2")).not_to_be_empty()
    expect(page.locator("main article.benefit").first).to_be_visible()
    expect(page.locator(f"main {CLAIM_BUTTON}")).to_have_count(0)
    expect(page.locator("main article.benefit-unlocked")).to_have_count(0)
    # No "points away" either: a higher score would not unlock anything.
    expect(page.locator("main article.benefit progress")).to_have_count(0)
    assert_no_horizontal_scroll(page)
    assert_tab_bar_leaves_content_visible(page)
    screenshot(page, "benefits-court-listed")
    assert not Voucher.objects.filter(user=user).exists()


# (4) The admin: approve a partner, preview, publish ---------------------------------------


def _admin_messages(page):
    return page.locator("ul.messagelist li.success")


def test_admin_approves_previews_and_publishes(
    page, live_server, screenshot, catalogue, recomputes, browser_log
):
    admin_user = User.objects.create_superuser(username="curator", password=PASSWORD)
    # People with a score: four at 650 or more, two at 700 or more; one without consent.
    scores = [610, 655, 690, 705, 760]
    people = {
        score: _scored_user(f"scored{score}", score, sequence=200 + i)[0]
        for i, score in enumerate(scores)
    }
    _scored_user("noconsent", 800, sequence=299, consent=False)
    partner = Partner.objects.get(name=HAPPYTRIP)
    benefit = Benefit.objects.get(title_zh=FLY_NOW)
    assert partner.status == Partner.Status.PENDING
    assert benefit.status == Benefit.Status.DRAFT

    # Log in at the admin's own login page.
    page.goto(live_server.url + "/admin/login/?next=/admin/")
    page.fill("#id_username", "curator")
    page.fill("#id_password", PASSWORD)
    page.click("#login-form input[type=submit]")
    expect(page).to_have_url(url_pattern(live_server, "/admin/"))

    # Approve the pending partner with a reason, through the bulk action.
    page.goto(live_server.url + "/admin/benefits/partner/")
    row = page.locator("#result_list tbody tr", has_text=HAPPYTRIP)
    expect(row).to_have_count(1)
    screenshot(page, "admin-partners")
    row.locator(f"input[name=_selected_action][value='{partner.pk}']").check()
    page.select_option("select[name=action]", "approve")
    page.click("button[name=index]")
    reason = page.locator("textarea[name=reason]")
    expect(reason).to_be_visible()
    expect(page.locator("#content")).to_contain_text(HAPPYTRIP)
    reason.fill("Licence TR-2026-0321 checked against the registry.")
    screenshot(page, "admin-partner-reason")
    page.click("input[name=apply]")
    expect(page).to_have_url(url_pattern(live_server, "/admin/benefits/partner/"))
    expect(_admin_messages(page)).to_have_count(1)
    partner.refresh_from_db()
    assert partner.status == Partner.Status.APPROVED
    assert partner.status_changed_by == admin_user
    change = PartnerStatusChange.objects.get(partner=partner)
    assert (change.status_from, change.status_to) == (
        Partner.Status.PENDING,
        Partner.Status.APPROVED,
    )
    assert change.changed_by == admin_user
    assert change.reason == "Licence TR-2026-0321 checked against the registry."

    # The draft benefit, with its qualifying preview.
    page.goto(live_server.url + "/admin/benefits/benefit/")
    page.locator("#result_list a", has_text=FLY_NOW).click()
    change_url = f"/admin/benefits/benefit/{benefit.pk}/change/"
    expect(page).to_have_url(url_pattern(live_server, change_url))
    preview = page.locator(".field-qualifying_now")

    def expect_preview(min_score: int, qualifying: int) -> None:
        benefit.refresh_from_db()
        assert benefit.min_score == min_score
        expected = qualifying_preview(benefit=benefit)
        assert expected.qualifying == qualifying
        assert expected.scored == len(scores)
        marked = preview.locator("tbody tr", has_text="←")
        expect(marked).to_have_count(1)
        expect(marked.locator("td").first).to_have_text(f"{min_score} ←")
        expect(marked.locator("td").nth(1)).to_have_text(str(expected.qualifying))
        summary = preview.locator("strong")
        expect(summary).to_contain_text(re.compile(rf"(?<!\d){expected.qualifying}(?!\d)"))
        expect(summary).to_contain_text(re.compile(rf"(?<!\d){expected.scored}(?!\d)"))
        expect(summary).to_contain_text(str(min_score))

    expect_preview(650, 4)
    preview.scroll_into_view_if_needed()
    screenshot(page, "admin-benefit-preview")

    # A higher minimum, saved with "save and continue": the preview follows.
    page.fill("#id_min_score", "700")
    page.click("input[name=_continue]")
    expect(page).to_have_url(url_pattern(live_server, change_url))
    expect(_admin_messages(page)).to_have_count(1)
    expect_preview(700, 2)
    benefit.refresh_from_db()
    assert benefit.status == Benefit.Status.DRAFT
    screenshot(page, "admin-benefit-preview-700")

    # Publish.
    page.click("input[name=_publish]")
    expect(page).to_have_url(url_pattern(live_server, change_url))
    expect(_admin_messages(page)).to_have_count(1)
    expect(page.locator("input[name=_publish]")).to_have_count(0)
    expect(page.locator("input[name=_unpublish]")).to_have_count(1)
    benefit.refresh_from_db()
    assert benefit.status == Benefit.Status.PUBLISHED
    assert benefit.published_by == admin_user
    assert benefit.published_at is not None
    assert benefit.min_score == 700
    browser_log.assert_clean()

    # A user at 705 finds it unlocked in the catalogue; one at 690 finds it 10 points away.
    page.context.clear_cookies()
    log_in(page, live_server, people[705].username)
    page.goto(live_server.url + CATALOGUE)
    article = _article(page, benefit)
    expect(article).to_have_class(re.compile(r"\bbenefit-unlocked\b"))
    expect(article.locator("h3")).to_have_text(FLY_NOW)
    expect(article.locator(CLAIM_BUTTON)).to_be_visible()

    page.context.clear_cookies()
    log_in(page, live_server, people[690].username)
    page.goto(live_server.url + CATALOGUE + "?category=other")
    article = _article(page, benefit)
    expect(page.locator("main article.benefit")).to_have_count(1)
    expect(article).not_to_have_class(re.compile(r"\bbenefit-unlocked\b"))
    expect(article.locator(f"label[for=progress-{benefit.pk}]")).to_contain_text(
        re.compile(r"(?<!\d)10(?!\d)")
    )
    expect(article.locator(CLAIM_BUTTON)).to_have_count(0)
