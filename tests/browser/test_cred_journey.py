"""A score that unverified claims cannot talk up, in a real Chromium at 375 px: a person
declares their best answers and the score moves by at most the cap; they send a document
for their housing fund (a wrong file is refused in place), staff approve it in the admin,
and the section shows verified, by what and when, and counts fully."""

from __future__ import annotations

import pytest
from django.conf import settings
from playwright.sync_api import expect

from accounts.models import SectionVerification, User
from scoring.ml.declared import DECLARED_POINTS_CAP
from scoring.services.scores import score_recompute
from tests.browser.helpers import (
    assert_no_horizontal_scroll,
    log_in,
    new_phone_context,
    ready_user,
    url_pattern,
)
from tests.factories import PASSWORD, PDF_BYTES

STEP_SUBMIT = "#profile-step > form.form button[type=submit]"


@pytest.fixture
def recomputes(recompute_calls) -> list[tuple[int, str]]:
    """Recomputes queued by the live server are recorded; the test runs them itself."""
    return recompute_calls


def _step(page, live_server, key: str) -> None:
    page.goto(f"{live_server.url}/accounts/profile/{key}/")
    expect(page.locator("#profile-step > form.form")).to_be_visible()


def _save(page) -> None:
    with page.expect_response(lambda r: r.request.method == "POST"):
        page.click(STEP_SUBMIT)


def test_declared_answers_are_capped_and_a_verified_section_counts_fully(
    page, live_server, screenshot, recomputes, active_model, browser, browser_log, tmp_path
):
    person = ready_user("claimer")
    before = score_recompute(user=person, trigger="test")
    log_in(page, live_server, "claimer")

    # Declare the best answers there are, step by step.
    _step(page, live_server, "education")
    page.select_option("#id_education_level", "doctorate")
    page.fill("#id_school", "北京大学")
    page.fill("#id_graduation_year", "2015")
    expect(page.locator("#profile-step a[href$='/education/verify/']")).to_be_visible()
    _save(page)
    _step(page, live_server, "provident_fund")
    page.fill("#id_provident_fund_months", "240")
    _save(page)
    _step(page, live_server, "income")
    page.check("#profile-step input[name=income_band][value='gt50k']")
    _save(page)
    declared = score_recompute(user=person, trigger="profile")

    assert 0 < declared.score - before.score <= DECLARED_POINTS_CAP

    # The overview says which answers are declared and that they count within the cap.
    page.goto(live_server.url + "/accounts/profile/")
    expect(page.locator("#declared-cap")).to_contain_text(str(DECLARED_POINTS_CAP))
    fund = page.locator(".source", has_text="住房公积金")
    expect(fund).to_contain_text("自主填报")
    expect(fund.locator(".declared-note")).to_be_visible()
    assert_no_horizontal_scroll(page)
    screenshot(page, "cred-overview-declared")

    # Verify the housing fund: a file that is not a PDF, JPEG or PNG is refused in place.
    fund.locator("a[href$='/provident_fund/verify/']").click()
    expect(page).to_have_url(url_pattern(live_server, "/accounts/profile/provident_fund/verify/"))
    not_a_pdf = tmp_path / "statement.pdf"
    not_a_pdf.write_bytes(b"MZ this is a program, not a statement")
    page.set_input_files("#id_document", str(not_a_pdf))
    page.click("main form.form button[type=submit]")
    expect(page.locator(".errorlist")).to_contain_text("PDF")
    assert not SectionVerification.objects.exists()
    assert_no_horizontal_scroll(page)
    screenshot(page, "cred-verify-refused")
    statement = tmp_path / "statement-2026.pdf"
    statement.write_bytes(PDF_BYTES)
    page.set_input_files("#id_document", str(statement))
    page.click("main form.form button[type=submit]")
    expect(page.locator("main")).to_contain_text("等待工作人员审核")
    screenshot(page, "cred-verify-pending")

    # Staff approve it in the admin.
    User.objects.create_superuser(username="checker", password=PASSWORD)
    staff = new_phone_context(browser, browser_log).new_page()
    staff.goto(live_server.url + "/admin/login/?next=/admin/")
    staff.fill("#id_username", "checker")
    staff.fill("#id_password", PASSWORD)
    staff.click("#login-form input[type=submit]")
    verification = SectionVerification.objects.get()
    staff.goto(f"{live_server.url}/admin/accounts/sectionverification/{verification.pk}/change/")
    expect(staff.locator("main, #content").first).to_contain_text("240")
    staff.select_option("#id_decision", "approve")
    staff.click("input[name=_save]")
    expect(staff.locator(".messagelist")).to_be_visible()
    staff.context.close()
    verification.refresh_from_db()
    assert verification.status == "approved"
    assert (person.pk, "profile_verified:provident_fund") in recomputes

    # The section shows verified, by what and when; the fund now counts fully.
    verified = score_recompute(user=person, trigger="profile_verified:provident_fund")
    assert verified.score > declared.score
    page.goto(live_server.url + "/accounts/profile/provident_fund/verify/")
    expect(page.locator("main")).to_contain_text("经工作人员审核证件材料认证")
    expect(page.locator("main")).to_contain_text("已通过")
    screenshot(page, "cred-verify-approved")
    page.goto(live_server.url + "/accounts/profile/")
    fund = page.locator(".source", has_text="住房公积金")
    expect(fund).to_contain_text("已认证")
    expect(fund).to_contain_text("经工作人员审核证件材料认证")
    expect(fund.locator(".declared-note")).to_have_count(0)
    assert_no_horizontal_scroll(page)
    screenshot(page, "cred-overview-verified")

    # The same in English.
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}]
    )
    page.goto(live_server.url + "/accounts/profile/")
    expect(page.locator("#declared-cap")).to_contain_text(f"at most {DECLARED_POINTS_CAP} points")
    fund = page.locator(".source", has_text="Housing provident fund")
    expect(fund).to_contain_text("verified by a document our staff checked")
    assert_no_horizontal_scroll(page)
    screenshot(page, "cred-overview-verified-en")
    page.goto(live_server.url + "/accounts/profile/education/verify/")
    expect(page.locator("#id_code")).to_be_visible()
    assert_no_horizontal_scroll(page)
    screenshot(page, "cred-verify-education-en")
    page.goto(live_server.url + "/score/how-it-works/")
    expect(page.locator("#declared-and-verified")).to_contain_text(
        f"at most {DECLARED_POINTS_CAP} points"
    )
    assert_no_horizontal_scroll(page)
    screenshot(page, "cred-how-it-works-en")
