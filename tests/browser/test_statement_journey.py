"""The printed statement in a real Chromium at 375 px, in Chinese and in English: choose
what it carries, download the PDF, and (as the embassy would) open its QR code's link."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from scoring import selectors
from scoring.services.disputes import statement_set
from scoring.services.scores import score_recompute
from tests.browser.helpers import assert_no_horizontal_scroll, log_in, new_phone_context, ready_user
from tests.factories import make_id_number, solid_file, store_model
from tests.pdf_text import pdf_text, squeezed

STATEMENT = "2026年3月住院\uff0c还款晚了12天\uff0c此后按时还款。"


@pytest.fixture
def printing(transactional_db, trained, consent_texts):
    """A verified, consenting, scored user who wrote a personal statement."""
    selectors._cache.clear()
    store_model(trained)
    user = ready_user("printing", id_number=make_id_number(sequence="601"))
    solid_file(user)
    score_recompute(user=user, trigger="identity_verified")
    statement_set(user=user, text=STATEMENT)
    yield user
    selectors._cache.clear()


def _download(page, tmp_path, name: str) -> str:
    with page.expect_download() as download:
        page.click("main form.form button[type=submit]")
    assert re.fullmatch(r"sesame-statement-\d{8}-\d+\.pdf", download.value.suggested_filename)
    path = tmp_path / name
    download.value.save_as(path)
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    return squeezed(pdf_text(data))


def test_choose_and_download_a_statement_in_chinese_and_english(
    page, browser, browser_log, live_server, screenshot, printing, tmp_path
):
    # Chinese: the band, the masked name and the personal statement.
    log_in(page, live_server, "printing")
    page.goto(live_server.url + "/score/proofs/")
    page.get_by_role("link", name="需要纸质版\uff1f打印中英文对照的信用证明").click()
    expect(page).to_have_url(re.compile(r"/score/proofs/statement/$"))
    expect(page.locator("h1")).to_have_text("打印版信用证明")
    expect(page.locator("main")).to_contain_text(STATEMENT)
    page.check("input[name=shows][value=band]")
    page.check("#id_show_name")
    page.check("#id_show_statement")
    assert_no_horizontal_scroll(page)
    screenshot(page, "statement-zh-choose")
    text = _download(page, tmp_path, "zh.pdf")
    for part in ("信用证明", "Creditstatement", "李*龙", squeezed(STATEMENT)):
        assert part in text
    link = re.search(r"http://[^/]+/proof/[^/]+/", text).group()

    # The reader of the paper opens its link in their own browser.
    reader_context = new_phone_context(browser, browser_log)
    reader = reader_context.new_page()
    try:
        reader.goto(link)
        expect(reader.locator("h1")).to_have_text("芝麻门户出具的真实证明")
        expect(reader.locator("main")).to_contain_text("李*龙")
        expect(reader.locator("main")).to_contain_text(STATEMENT)
        assert_no_horizontal_scroll(reader)
        screenshot(reader, "statement-zh-verified")
    finally:
        reader_context.close()

    # English: yes or no to a number, nothing else.
    english_context = new_phone_context(browser, browser_log, locale="en-US")
    english = english_context.new_page()
    try:
        log_in(english, live_server, "printing")
        english.goto(live_server.url + "/score/proofs/")
        english.get_by_role(
            "link", name="Need it on paper? Print a statement in Chinese and English"
        ).click()
        expect(english.locator("h1")).to_have_text("Printed statement")
        english.check("input[name=shows][value=at_least]")
        english.fill("#id_threshold", "400")
        assert_no_horizontal_scroll(english)
        screenshot(english, "statement-en-choose")
        text = _download(english, tmp_path, "en.pdf")
        assert squeezed("Score at least 400: Yes") in text
        assert "李" not in text
        assert squeezed(STATEMENT) not in text
        english.goto(live_server.url + "/score/proofs/")
        expect(english.locator("main")).to_contain_text("Printed")
        screenshot(english, "statement-en-proofs")
    finally:
        english_context.close()
