"""Profile completion and My data, in a real Chromium at 375 px: the htmx step flow with its
progress bar, work-email verification by a mailed code, bad input, skipping, the same forms
without JavaScript, and the data download and account deletion."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import Profile, User
from tests.browser.helpers import (
    assert_no_horizontal_scroll,
    assert_tab_bar_leaves_content_visible,
    log_in,
    new_phone_context,
    ready_user,
    url_pattern,
)
from tests.dates import today
from tests.factories import PASSWORD, make_id_number

STEP_FORM = "#profile-step > form.form"
STEP_SUBMIT = f"{STEP_FORM} button[type=submit]"
PROGRESS = "#profile-progress-bar"
SECTION_KEYS = (
    "education",
    "occupation",
    "vehicle",
    "property",
    "provident_fund",
    "income",
    "address",
    "phone",
)
SELF_DECLARED_FIELDS = {
    "education_level",
    "school",
    "graduation_year",
    "occupation",
    "employer",
    "vehicle_owned",
    "property_owned",
    "property_mortgaged",
    "provident_fund_months",
    "income_band",
    "address",
    "address_years",
    "phone",
}


# Helpers --------------------------------------------------------------------------------------


def _step_path(key: str) -> str:
    return f"/accounts/profile/{key}/"


def _progress(page) -> int:
    return int(page.locator(PROGRESS).get_attribute("value"))


def _verified_user(username: str) -> tuple[User, str]:
    """A user with a verified identity and a current scoring consent."""
    id_number = make_id_number()
    user = ready_user(username, id_number=id_number)
    return user, id_number


def _profile_triggers(recomputes) -> list[str]:
    """Recomputes queued by the profile flow (setting up a user queues others)."""
    return [trigger for _user_id, trigger in recomputes if trigger.startswith("profile")]


def _on_step(page, live_server, key: str) -> None:
    """Wait until the step fragment for `key` is in place and the address bar follows it."""
    expect(page.locator(STEP_FORM)).to_have_attribute("action", _step_path(key))
    expect(page).to_have_url(url_pattern(live_server, _step_path(key)))


def _save_step(page, live_server, next_key: str, progress_before: int) -> int:
    """Press "Save and continue"; the next step is swapped in and the bar moved up."""
    page.click(STEP_SUBMIT)
    _on_step(page, live_server, next_key)
    expect(page.locator(PROGRESS)).not_to_have_attribute("value", str(progress_before))
    progress = _progress(page)
    assert progress > progress_before, f"{next_key}: progress {progress_before} → {progress}"
    assert page.evaluate("window.__marker") == 1, "saving a step reloaded the whole page"
    assert_no_horizontal_scroll(page)
    return progress


@pytest.fixture
def recomputes(recompute_calls) -> list[tuple[int, str]]:
    """Score recomputes queued by the live server (recorded, not sent to the broker)."""
    return recompute_calls


# (1) The whole flow -----------------------------------------------------------------------


def test_profile_journey(page, live_server, screenshot, mailoutbox, recomputes, browser_log):
    user, _id_number = _verified_user("profiled")
    log_in(page, live_server, "profiled")

    # The overview at 0 %: every section to do, Continue opens the first step.
    page.goto(live_server.url + "/accounts/profile/")
    expect(page.locator(PROGRESS)).to_have_attribute("value", "0")
    expect(page.locator("ul.menu li .step-done")).to_have_count(0)
    assert_no_horizontal_scroll(page)
    screenshot(page, "profile-overview-0")
    page.click("main a.button-primary")
    _on_step(page, live_server, "education")
    expect(page.locator(PROGRESS)).to_have_attribute("value", "0")
    page.evaluate("window.__marker = 1")
    progress = 0

    # 1. Education.
    page.select_option("#id_education_level", "bachelor")
    page.fill("#id_school", "北京大学")
    page.fill("#id_graduation_year", "2012")
    assert_no_horizontal_scroll(page)
    screenshot(page, "profile-education")
    progress = _save_step(page, live_server, "occupation", progress)

    # 2. Work, with a work email: the step stays open with the code box.
    page.select_option("#id_occupation", "employee")
    page.fill("#id_employer", "北京某某科技有限公司")
    page.fill("#id_work_email", "li@example-corp.cn")
    page.click(STEP_SUBMIT)
    code_box = page.locator("#profile-step .code-box")
    expect(code_box).to_be_visible()
    expect(code_box).to_contain_text("li@example-corp.cn")
    _on_step(page, live_server, "occupation")
    expect(page.locator(PROGRESS)).not_to_have_attribute("value", str(progress))
    assert _progress(page) > progress
    progress = _progress(page)
    assert page.evaluate("window.__marker") == 1, "saving the work step reloaded the page"
    # The work email is held as self-declared until the code is typed.
    marks = page.locator("#profile-step ul.marks")
    expect(marks.locator("li")).to_have_count(3)
    expect(marks.locator(".badge")).to_have_count(3)
    expect(marks.locator(".badge-ok")).to_have_count(0)
    assert_no_horizontal_scroll(page)
    screenshot(page, "profile-work-code")

    assert len(mailoutbox) == 1
    message = mailoutbox[-1]
    assert message.to == ["li@example-corp.cn"]
    code = re.search(r"(?<!\d)(\d{6})(?!\d)", message.body).group(1)
    page.fill("#id_code", code)
    code_box.locator("button.button-primary").click()

    # Verified: the flow goes on to the vehicle step and says so.
    _on_step(page, live_server, "vehicle")
    expect(page.locator("#messages .message-success")).to_be_visible()
    expect(page.locator(PROGRESS)).to_have_attribute("value", str(progress))
    assert page.evaluate("window.__marker") == 1, "verifying the code reloaded the page"
    profile = Profile.objects.get(user=user)
    assert profile.work_email_verified_at is not None
    assert profile.field_marks["work_email"]["mark"] == "verified"

    # 3. Vehicle: no.
    page.check("#profile-step input[name=vehicle_owned][value=False]")
    progress = _save_step(page, live_server, "property", progress)

    # 4. Property: yes, no mortgage.
    page.check("#profile-step input[name=property_owned][value=True]")
    page.check("#profile-step input[name=property_mortgaged][value=False]")
    screenshot(page, "profile-property")
    progress = _save_step(page, live_server, "provident_fund", progress)

    # 5. Housing provident fund.
    page.fill("#id_provident_fund_months", "36")
    progress = _save_step(page, live_server, "income", progress)

    # 6. Income band.
    page.check("#profile-step input[name=income_band][value='8k_12k']")
    progress = _save_step(page, live_server, "address", progress)

    # 7. Address.
    page.fill("#id_address", "北京市朝阳区建国路 88 号 3 单元 502")
    page.fill("#id_address_years", "3")
    progress = _save_step(page, live_server, "phone", progress)

    # 8. Phone: the last step lands on the score (HX-Redirect), then the overview.
    assert page.evaluate("window.__marker") == 1, "the flow reloaded the page before the end"
    page.fill("#id_phone", "138 0013 8000")
    page.click(STEP_SUBMIT)
    expect(page).to_have_url(url_pattern(live_server, "/"))
    expect(page.locator("#messages .message-success")).to_be_visible()
    page.goto(live_server.url + "/accounts/profile/")
    expect(page.locator(PROGRESS)).to_have_attribute("value", "100")
    expect(page.locator("main .badge-ok")).to_be_visible()
    expect(page.locator("main a.button-primary")).to_have_count(0)
    expect(page.locator("ul.menu li .step-done")).to_have_count(len(SECTION_KEYS))
    expect(page.locator("ul.menu li .muted")).to_have_count(0)
    assert_no_horizontal_scroll(page)
    screenshot(page, "profile-overview-100")

    # Everything is held, each field marked; the work email alone is verified.
    profile = Profile.objects.get(user=user)
    assert profile.education_level == "bachelor"
    assert profile.school == "北京大学"
    assert profile.graduation_year == 2012
    assert profile.occupation == "employee"
    assert profile.employer == "北京某某科技有限公司"
    assert profile.work_email == "li@example-corp.cn"
    assert profile.work_email_verified_at is not None
    assert profile.vehicle_owned is False
    assert profile.vehicle_value == ""
    assert profile.property_owned is True
    assert profile.property_mortgaged is False
    assert profile.provident_fund_months == 36
    assert profile.income_band == "8k_12k"
    assert profile.address == "北京市朝阳区建国路 88 号 3 单元 502"
    assert profile.address_years == 3
    assert profile.phone == "13800138000"
    assert set(profile.field_marks) == SELF_DECLARED_FIELDS | {"work_email"}
    assert profile.field_marks["work_email"]["mark"] == "verified"
    for field in SELF_DECLARED_FIELDS:
        assert profile.field_marks[field]["mark"] == "self_declared", field

    # Each scored step queued a recompute (the phone is not used by the score).
    triggers = [trigger for user_id, trigger in recomputes if user_id == user.pk]
    for key in SECTION_KEYS[:-1]:
        assert f"profile:{key}" in triggers, triggers
    assert "profile:work_email_verified" in triggers
    assert "profile:phone" not in triggers

    # Back on the work step, the work email carries the verified badge.
    page.click(f"ul.menu a[href='{_step_path('occupation')}']")
    _on_step(page, live_server, "occupation")
    marks = page.locator("#profile-step ul.marks li")
    expect(marks).to_have_count(3)
    expect(page.locator("#profile-step ul.marks .badge-ok")).to_have_count(1)
    expect(page.locator("#profile-step ul.marks li:last-child .badge-ok")).to_be_visible()
    expect(page.locator("#profile-step .code-box")).to_have_count(0)
    assert_no_horizontal_scroll(page)
    screenshot(page, "profile-work-verified")
    browser_log.assert_clean()


# (2) Bad input --------------------------------------------------------------------------------


def test_bad_profile_input_is_refused_in_place(page, live_server, screenshot, recomputes):
    user, _id_number = _verified_user("careless")
    log_in(page, live_server, "careless")
    page.goto(live_server.url + _step_path("education"))
    page.evaluate("window.__marker = 1")
    expect(page.locator(PROGRESS)).to_have_attribute("value", "0")

    # A graduation year in the future.
    future = today().year + 1
    page.select_option("#id_education_level", "master")
    page.fill("#id_school", "清华大学")
    page.fill("#id_graduation_year", str(future))
    page.click(STEP_SUBMIT)
    year = page.locator("#id_graduation_year")
    expect(year).to_have_attribute("aria-invalid", "true")
    error = page.locator("#id_graduation_year_error")
    expect(error).to_be_visible()
    expect(error).not_to_be_empty()
    expect(year).to_have_attribute("aria-describedby", re.compile(r"\bid_graduation_year_error\b"))
    year_box, error_box = year.bounding_box(), error.bounding_box()
    assert abs(error_box["y"] + error_box["height"] - year_box["y"]) < 120
    expect(page.locator("#id_school")).not_to_have_attribute("aria-invalid", "true")
    # What was typed stays in the form; the step, the bar and the database did not move.
    expect(page.locator("#id_school")).to_have_value("清华大学")
    _on_step(page, live_server, "education")
    expect(page.locator(PROGRESS)).to_have_attribute("value", "0")
    assert page.evaluate("window.__marker") == 1
    assert not Profile.objects.filter(user=user).exists()
    assert_no_horizontal_scroll(page)
    screenshot(page, "profile-education-error")

    # A personal mailbox as the work email.
    page.goto(live_server.url + _step_path("occupation"))
    page.select_option("#id_occupation", "employee")
    page.fill("#id_employer", "某某贸易公司")
    page.fill("#id_work_email", "li@qq.com")
    page.click(STEP_SUBMIT)
    email = page.locator("#id_work_email")
    expect(email).to_have_attribute("aria-invalid", "true")
    email_error = page.locator("#id_work_email_error")
    expect(email_error).to_be_visible()
    expect(email_error).to_contain_text("qq.com")
    expect(page.locator("#profile-step .code-box")).to_have_count(0)
    _on_step(page, live_server, "occupation")
    expect(page.locator(PROGRESS)).to_have_attribute("value", "0")
    assert not Profile.objects.filter(user=user).exists()
    assert _profile_triggers(recomputes) == []
    assert_no_horizontal_scroll(page)
    screenshot(page, "profile-work-email-refused")


# (3) Skip -------------------------------------------------------------------------------------


def test_skip_moves_on_without_saving(page, live_server, recomputes):
    user, _id_number = _verified_user("skipper")
    log_in(page, live_server, "skipper")
    page.goto(live_server.url + "/accounts/profile/")
    page.click("main a.button-primary")
    _on_step(page, live_server, "education")
    page.evaluate("window.__marker = 1")

    # Typed but not saved: skipping drops it.
    page.select_option("#id_education_level", "doctorate")
    page.fill("#id_school", "复旦大学")
    page.fill("#id_graduation_year", "2015")
    page.locator("#profile-step .step-links a").first.click()
    _on_step(page, live_server, "occupation")
    expect(page.locator(PROGRESS)).to_have_attribute("value", "0")
    assert page.evaluate("window.__marker") == 1, "skipping reloaded the whole page"
    assert not Profile.objects.filter(user=user).exists()
    assert _profile_triggers(recomputes) == []

    # The overview still has education to do, and Continue goes back to it.
    page.goto(live_server.url + "/accounts/profile/")
    education = page.locator(f"ul.menu a[href='{_step_path('education')}']")
    expect(education.locator(".step-done")).to_have_count(0)
    expect(education.locator(".muted")).to_be_visible()
    expect(page.locator("ul.menu li .step-done")).to_have_count(0)
    expect(page.locator("main a.button-primary")).to_have_attribute("href", _step_path("education"))


# (4) Without JavaScript ---------------------------------------------------------------------


def test_education_step_without_javascript(
    browser, browser_log, live_server, transactional_db, consent_texts, recomputes
):
    user, _id_number = _verified_user("nojs")
    context = new_phone_context(browser, browser_log, java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page, live_server, "nojs")
        page.goto(live_server.url + "/accounts/profile/")
        page.click("main a.button-primary")
        expect(page).to_have_url(url_pattern(live_server, _step_path("education")))
        expect(page.locator(PROGRESS)).to_have_attribute("value", "0")

        page.select_option("#id_education_level", "associate")
        page.fill("#id_school", "深圳职业技术学院")
        page.fill("#id_graduation_year", "2011")
        with page.expect_navigation():
            page.click(STEP_SUBMIT)
        expect(page).to_have_url(url_pattern(live_server, _step_path("occupation")))
        expect(page.locator(STEP_FORM)).to_have_attribute("action", _step_path("occupation"))
        assert _progress(page) > 0
        expect(page.locator(PROGRESS)).to_have_attribute("value", "12")
        assert_no_horizontal_scroll(page)
    finally:
        context.close()
    profile = Profile.objects.get(user=user)
    assert (profile.education_level, profile.school, profile.graduation_year) == (
        "associate",
        "深圳职业技术学院",
        2011,
    )
    assert _profile_triggers(recomputes) == ["profile:education"]
    browser_log.assert_clean()


# (5) My data ---------------------------------------------------------------------------------


def test_my_data_download_and_delete(page, live_server, screenshot, tmp_path: Path):
    user, id_number = _verified_user("leaving")
    masked = user.identity.id_number_masked
    assert masked != id_number
    log_in(page, live_server, "leaving")
    page.goto(live_server.url + "/accounts/me/data/")
    assert_no_horizontal_scroll(page)
    screenshot(page, "my-data")

    # Download: the masked number only.
    with page.expect_download() as download_info:
        page.locator("main a[download]").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".json")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    text = saved.read_text(encoding="utf-8")
    data = json.loads(text)
    assert data["account"]["username"] == "leaving"
    assert data["identity"]["masked_id_number"] == masked
    assert id_number not in text
    assert id_number[6:] not in text  # not even the part after the region code

    # Delete with the wrong password: refused next to the field, still here.
    delete = page.locator("main button.button-danger")
    page.fill("#id_password", "not-my-password-1")
    delete.click()
    expect(page).to_have_url(url_pattern(live_server, "/accounts/me/data/"))
    field = page.locator("#id_password")
    expect(field).to_have_attribute("aria-invalid", "true")
    error = page.locator("#id_password_error")
    expect(error).to_be_visible()
    expect(error).not_to_be_empty()
    assert User.objects.filter(pk=user.pk).exists()
    assert_no_horizontal_scroll(page)
    screenshot(page, "my-data-wrong-password")

    # The right password: logged out on the login page, the account gone.
    page.fill("#id_password", PASSWORD)
    page.locator("main button.button-danger").click()
    expect(page).to_have_url(url_pattern(live_server, "/accounts/login/"))
    expect(page.locator("#id_username")).to_be_visible()
    expect(page.locator("#messages .message-success")).to_be_visible()
    expect(page.locator("nav.tabbar")).to_have_count(0)
    assert not User.objects.filter(pk=user.pk).exists()
    assert not User.objects.filter(username="leaving").exists()
    # Logged out for real: my data now asks to log in.
    page.goto(live_server.url + "/accounts/me/data/")
    expect(page).to_have_url(re.compile(re.escape(live_server.url + "/accounts/login/")))


# (6) No horizontal scroll ---------------------------------------------------------------------


def _work_step_with_code_box(page, live_server, user, work_email: str) -> None:
    from accounts.services import profile_update

    profile_update(
        user=user,
        sections={
            "occupation": {
                "occupation": "employee",
                "employer": "北京某某科技有限公司",
                "work_email": work_email,
            }
        },
    )
    page.goto(live_server.url + _step_path("occupation"))
    expect(page.locator("#profile-step .code-box")).to_be_visible()


def test_profile_pages_fit_375px(page, live_server, recomputes):
    user, _id_number = _verified_user("narrowprofile")
    log_in(page, live_server, "narrowprofile")
    paths = ["/accounts/profile/", *map(_step_path, SECTION_KEYS), "/accounts/me/data/"]
    for path in paths:
        page.goto(live_server.url + path)
        expect(page.locator("main h1")).to_be_visible()
        assert_no_horizontal_scroll(page)
        assert_tab_bar_leaves_content_visible(page)
    # The work step with its code box open.
    _work_step_with_code_box(page, live_server, user, "li@example-corp.cn")
    assert_no_horizontal_scroll(page)


def test_work_step_with_a_long_work_email_fits_375px(page, live_server, recomputes):
    user, _id_number = _verified_user("longmail")
    log_in(page, live_server, "longmail")
    _work_step_with_code_box(
        page, live_server, user, "zhang.xiaolong.finance.department@subsidiary.example-corp.cn"
    )
    assert_no_horizontal_scroll(page)


def test_number_inputs_match_the_other_fields(page, live_server):
    _verified_user("numbers")
    log_in(page, live_server, "numbers")
    for key, field in (
        ("education", "#id_graduation_year"),
        ("provident_fund", "#id_provident_fund_months"),
        ("address", "#id_address_years"),
    ):
        page.goto(live_server.url + _step_path(key))
        box = page.locator(field).bounding_box()
        form_width = page.locator(STEP_FORM).bounding_box()["width"]
        assert box["height"] >= 44, f"{field} is {box['height']:.0f} px tall"
        assert box["width"] >= form_width * 0.9, f"{field} is {box['width']:.0f} px wide"
