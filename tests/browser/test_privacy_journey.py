"""The privacy features in a real Chromium at 375 px, in Chinese and in English, as a person
meets them:

1. Devices and sessions: signing in on a second device leaves a "new sign-in"
   notification; the devices page lists both, marks this one, and signing the other out
   sends it to the login page at its next request; changing the password keeps this
   session and ends every other.
2. A partner's consent screen with identity checks and a limit in use: the partner's
   purpose in its own words, the identity check unticked until the person ticks it, "one
   query" chosen; the consents page shows those terms; after the partner's one call the
   grant is "Used up"; authorising the partner again replaces the older grant.
3. An identity appeal: a second person's ID number is refused as already verified, the
   page offers the appeal, the appeal (with a PNG) is filed and shown pending, and the
   first person is told that an appeal was filed.
4. Dispute evidence: a dispute filed with a PNG, opened by staff with the evidence
   permission in the admin, and shown on the person's dispute page as opened by staff.

Screenshots go to test-artifacts/screenshots/privacy-<lang>-<step>.png.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable, Iterator
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Permission
from django.test import Client as HttpClient
from django.utils import timezone, translation
from playwright.sync_api import expect

from accounts.clients import device_label
from accounts.models import (
    ConsentGrant,
    IdentityAppeal,
    Notification,
    Profile,
    SignIn,
    User,
)
from accounts.services import identity_verify
from benefits.demo import demo_benefits_load, demo_partners_load
from benefits.models import Benefit, ConsentScope, Partner
from benefits.services.partner_access import api_key_create
from scoring.models import Dispute, DisputeAttachment, DisputeEvidenceAccess
from tests.browser.helpers import (
    DIMENSIONS,
    FORM_SUBMIT,
    SCORE,
    assert_no_horizontal_scroll,
    assert_tab_bar_leaves_content_visible,
    log_in,
    new_phone_context,
    ready_user,
    snapshot_store,
    url_pattern,
)
from tests.factories import PASSWORD, make_id_number

LANGUAGES = {"zh": "zh-hans", "en": "en"}
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# Latin words a Chinese page may show: the portal's own abbreviations and file types.
LATIN_IN_ZH = {"ID", "API", "PNG", "PDF", "JPEG", "MB", "KB"}

PHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
DESKTOP_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
TABLET_UA = (
    "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/25.0 Chrome/121.0.0.0 Safari/537.36"
)
PHONE, DESKTOP, TABLET = device_label(PHONE_UA), device_label(DESKTOP_UA), device_label(TABLET_UA)
NEW_PASSWORD = "another-horse-battery-77"

GREENLANE = "绿道单车 GreenLane Bikes"
BIKES = "公共自行车免押金"
PURPOSE = "开通免押金骑行 (deposit-free bike rental)"

HOLDER_NAME = "王芳"
APPELLANT_NAME = "李小龙"
CONTESTED = make_id_number(region="310104", birth="19900615", sequence="612")
APPEAL_STATEMENT = {
    "zh": "身份证三月份丢失\uff0c被人冒用注册\u3002",
    "en": "I lost the card in March.",
}
SCHOOL = "复旦大学"
# The disputed answer as the dispute pages name it: its label, capitalised, and a colon
# of the page's language.
SCHOOL_RECORD = {"zh": f"毕业院校\uff1a{SCHOOL}", "en": f"School: {SCHOOL}"}
MIN_TOUCH = 44  # px, the smallest target a finger hits reliably

LOGIN = "/accounts/login/"
DEVICES = "/accounts/me/devices/"
NOTIFICATIONS = "/accounts/notifications/"
CONSENTS = "/accounts/consents/"
IDENTITY = "/accounts/identity/"
RECORDS = "/score/records/"
AUTHORISE = "main form.form button[type=submit]"


def _png(width: int = 4, height: int = 4) -> bytes:
    """A small, real PNG (grey pixels), as a phone's photo would be, only tiny."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80\x80\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG = _png()


# Fixtures and helpers -------------------------------------------------------------------------


@pytest.fixture
def recomputes(recompute_calls) -> list[tuple[int, str]]:
    """Recomputes that consenting queues are recorded, not sent to the broker."""
    return recompute_calls


@pytest.fixture
def catalogue(transactional_db) -> list[Benefit]:
    demo_partners_load()
    return demo_benefits_load()


@pytest.fixture
def contexts(browser, browser_log) -> Iterator[Callable[..., object]]:
    """More 375 px browsers (other devices, staff), closed after the test; their requests
    go into the same log, so they too may ask only the live server."""
    opened = []

    def open_page(**options):
        context = new_phone_context(browser, browser_log, **options)
        opened.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: browser_log.page_errors.append(str(error)))
        return page

    yield open_page
    for context in opened:
        context.close()


def _t(lang: str, msgid: str, **params) -> str:
    """A message as the portal renders it in `lang` (from the compiled catalogue)."""
    with translation.override(LANGUAGES[lang]):
        text = translation.gettext(msgid)
    return text % params if params else text


def _speak(page, live_server, lang: str) -> None:
    """The language a person chose with the header's button, kept in its cookie."""
    page.context.add_cookies(
        [{"name": "django_language", "value": LANGUAGES[lang], "url": live_server.url}]
    )


def _person(username: str, *, sequence: str) -> User:
    """A verified user (born 1990) who consents to scoring and has one snapshot."""
    user = ready_user(username, full_name=HOLDER_NAME, id_number=make_id_number(sequence=sequence))
    snapshot_store(user, SCORE, DIMENSIONS)
    return user


def _assert_language(page, lang: str, *, allowed: tuple[str, ...] = ()) -> None:
    """The page is in `lang`: its <html lang>, and its main text, once names and the
    partner's own words (`allowed`) are taken out, has no Chinese in English and no
    English words in Chinese."""
    expect(page.locator("html")).to_have_attribute("lang", LANGUAGES[lang])
    text = page.locator("main").inner_text()
    for name in allowed:
        text = text.replace(name, " ")
    if lang == "zh":
        english = sorted(set(LATIN_WORD.findall(text)) - LATIN_IN_ZH)
        assert not english, f"{page.url}: English on the Chinese page: {english}"
        # The portal addresses people as 您 (Django's own catalogue says 你).
        assert "你" not in text, f"{page.url}: 你 instead of 您: {text}"
    else:
        chinese = sorted(set(CJK.findall(text)))
        assert not chinese, f"{page.url}: Chinese on the English page: {chinese}"


def _step(page, screenshot, lang: str, name: str, *, allowed: tuple[str, ...] = ()) -> None:
    """What every page of these journeys must do at 375 px, then its screenshot."""
    _assert_language(page, lang, allowed=allowed)
    assert_no_horizontal_scroll(page)
    if page.locator("nav.tabbar").count():
        assert_tab_bar_leaves_content_visible(page)
    screenshot(page, f"privacy-{lang}-{name}")


def _assert_file_input_styled(page, selector: str) -> None:
    """A file field is a button a finger can hit, drawn like the portal's buttons."""
    field = page.locator(selector)
    assert field.bounding_box()["height"] >= MIN_TOUCH, field.bounding_box()
    radius = field.evaluate(
        "element => getComputedStyle(element, '::file-selector-button').borderRadius"
    )
    assert radius == "999px", radius


def _log_in_from(page, live_server, username: str, password: str = PASSWORD) -> None:
    page.goto(live_server.url + LOGIN)
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click(FORM_SUBMIT)
    expect(page).to_have_url(url_pattern(live_server, "/"))


# (1) Devices and sessions, and a password change ------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_devices_and_sessions(
    lang, page, contexts, live_server, screenshot, browser_log, recomputes
):
    username = f"devices{lang}"
    user = _person(username, sequence="601" if lang == "zh" else "602")
    devices = (PHONE, DESKTOP, TABLET)

    # The phone signs in first: the account's first device is announced to nobody.
    page.context.set_extra_http_headers({"User-Agent": PHONE_UA})
    _speak(page, live_server, lang)
    log_in(page, live_server, username)
    assert not Notification.objects.filter(user=user).exists()

    # Then a desktop browser: a new device.
    desktop = contexts(user_agent=DESKTOP_UA)
    _speak(desktop, live_server, lang)
    _log_in_from(desktop, live_server, username)
    assert list(
        SignIn.objects.filter(user=user).order_by("created_at").values_list("device", flat=True)
    ) == [
        PHONE,
        DESKTOP,
    ]

    # The phone hears of it in its inbox.
    page.goto(live_server.url + "/")
    page.locator("header a.bell").click()
    expect(page).to_have_url(url_pattern(live_server, NOTIFICATIONS))
    notice = page.locator("main ul.notifications > li").first
    announced = Notification.objects.get(user=user, kind=Notification.Kind.NEW_SIGN_IN)
    said = _t(
        lang,
        "New sign-in on %(device)s at %(time)s. If it was not you, change your password: "
        "that signs out every device.",
        device=DESKTOP,
        time=timezone.localtime(announced.created_at).strftime("%Y-%m-%d %H:%M"),
    )
    expect(notice).to_contain_text(said)
    expect(notice.locator(f"a[href='{DEVICES}']")).to_have_text(_t(lang, "Devices and sessions"))
    # The email box sits before its label, as every tick box of the portal.
    expect(page.locator("main form .check > input#id_by_email + label")).to_have_count(1)
    _step(page, screenshot, lang, "1-notifications", allowed=devices)

    # The devices page, from the notification: both, with when each signed in and was
    # last used; this one marked.
    notice.locator(f"a[href='{DEVICES}']").click()
    expect(page).to_have_url(url_pattern(live_server, DEVICES))
    items = page.locator("main ul.consent-list > li")
    expect(items).to_have_count(2)
    this = items.filter(has_text=PHONE)
    other = items.filter(has_text=DESKTOP)
    expect(this.locator(".badge-ok")).to_have_text(_t(lang, "This device"))
    expect(other.locator(".badge-ok")).to_have_count(0)
    for item in (this, other):
        expect(item.locator("dl.facts")).to_contain_text(_t(lang, "Signed in"))
        expect(item.locator("dl.facts")).to_contain_text(_t(lang, "Last used"))
        expect(item.locator("time")).to_have_count(2)
        expect(item.locator("time").first).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    expect(other.locator("button[type=submit]")).to_have_text(_t(lang, "Sign out of this device"))
    expect(this.locator("button[type=submit]")).to_have_text(_t(lang, "Log out"))
    _step(page, screenshot, lang, "1-devices", allowed=devices)

    # Sign the desktop out: gone from the list, and at its next request it is logged out.
    other.locator("button[type=submit]").click()
    expect(page).to_have_url(url_pattern(live_server, DEVICES))
    expect(page.locator("#messages .message-success")).to_have_text(
        _t(lang, "Signed out of that device.")
    )
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text(PHONE)
    _step(page, screenshot, lang, "1-device-signed-out", allowed=devices)
    desktop.goto(live_server.url + "/accounts/me/")
    expect(desktop).to_have_url(url_pattern(live_server, LOGIN))
    expect(desktop.locator("#id_username")).to_be_visible()
    _step(desktop, screenshot, lang, "1-desktop-at-login")

    # A tablet signs in; then the phone changes the password on the web page.
    tablet = contexts(user_agent=TABLET_UA)
    _speak(tablet, live_server, lang)
    _log_in_from(tablet, live_server, username)
    page.goto(live_server.url + "/accounts/me/")
    page.locator("main ul.menu a[href='/accounts/password/']").click()
    expect(page).to_have_url(url_pattern(live_server, "/accounts/password/"))
    expect(page.locator("main h1")).to_have_text(_t(lang, "Change password"))
    # The rule for a new password is said as on the sign-up page.
    expect(page.locator("#id_new_password1_helptext")).to_have_text(
        _t(lang, "At least 10 characters, not only digits, not a common password.")
    )
    # A wrong old password is refused next to the field, in the page's language.
    page.fill("#id_old_password", "not-the-password-1")
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    page.click(FORM_SUBMIT)
    expect(page.locator("#id_old_password")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("main .errorlist").first).to_have_text(
        _t(lang, "Your old password was entered incorrectly. Please enter it again.")
    )
    _step(page, screenshot, lang, "1-password-refused")
    page.fill("#id_old_password", PASSWORD)
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    _step(page, screenshot, lang, "1-password")
    page.click(FORM_SUBMIT)
    expect(page).to_have_url(url_pattern(live_server, "/accounts/password/done/"))
    _step(page, screenshot, lang, "1-password-changed")

    # This session stays; the tablet's ended.
    page.goto(live_server.url + DEVICES)
    expect(page).to_have_url(url_pattern(live_server, DEVICES))
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text(PHONE)
    expect(items.first.locator(".badge-ok")).to_have_text(_t(lang, "This device"))
    tablet.goto(live_server.url + DEVICES)
    expect(tablet).to_have_url(url_pattern(live_server, LOGIN))
    _step(tablet, screenshot, lang, "1-tablet-at-login")
    assert list(
        SignIn.objects.filter(user=user).order_by("created_at").values_list("device", flat=True)
    ) == [PHONE]
    # And the old password opens nothing any more.
    tablet.fill("#id_username", username)
    tablet.fill("#id_password", PASSWORD)
    tablet.click(FORM_SUBMIT)
    expect(tablet).to_have_url(url_pattern(live_server, LOGIN))
    expect(tablet.locator("main .errorlist, main .message-error").first).to_be_visible()
    browser_log.assert_clean()


# (2) A partner's consent screen with identity checks and a limit in use -----------------------


def _partner_link(partner: Partner, benefit: Benefit) -> str:
    terms = {
        "scope": ConsentScope.ELIGIBILITY,
        "purpose": PURPOSE,
        "benefit": benefit.pk,
        "days": 30,
    }
    return f"/benefits/partners/{partner.pk}/authorize/?{urlencode(terms)}"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_consent_screen_with_identity_checks_and_one_query(
    lang, page, live_server, screenshot, browser_log, catalogue, recomputes
):
    username = f"consenting{lang}"
    user = _person(username, sequence="611" if lang == "zh" else "613")
    partner = Partner.objects.get(name=GREENLANE)
    benefit = Benefit.objects.get(title_zh=BIKES)
    _key, api_key = api_key_create(partner=partner, label="browser test")
    link = _partner_link(partner, benefit)
    # Names and the partner's words, shown as they are in both languages (the consents
    # page offers every approved partner by name).
    names = tuple(Partner.objects.values_list("name", flat=True))
    named = (*names, PURPOSE, BIKES, benefit.title_en, partner.licence_number)

    _speak(page, live_server, lang)
    log_in(page, live_server, username)
    page.goto(live_server.url + link)
    card = page.locator("main section[aria-labelledby=authorize-title]")
    expect(card.locator("h1")).to_contain_text(GREENLANE)

    # The purpose is the partner's, said as such.
    purpose = card.locator("dl.facts dd").filter(has_text=PURPOSE)
    expect(purpose).to_contain_text(_t(lang, "In the partner's words:"))
    expect(purpose.locator("bdi")).to_have_text(PURPOSE)

    # Identity checks: off until the person ticks the box; a limit may be chosen.
    identity_box = page.locator("#id_identity_check")
    expect(identity_box).not_to_be_checked()
    expect(page.locator("label[for=id_identity_check]")).to_contain_text(GREENLANE)
    one_query = page.locator("input[name=use_limit][value=one_query]")
    expect(page.locator(f"label[for='{one_query.get_attribute('id')}']")).to_have_text(
        _t(lang, "One query")
    )
    expect(one_query).not_to_be_checked()
    _step(page, screenshot, lang, "2-consent-screen", allowed=named)
    identity_box.check()
    one_query.check()
    expect(identity_box).to_be_checked()
    # The box keeps its size beside a label of several lines (20 px, 1.25rem).
    assert identity_box.bounding_box()["width"] >= 19, identity_box.bounding_box()
    _step(page, screenshot, lang, "2-consent-chosen", allowed=named)
    page.locator(AUTHORISE).click()

    # The token page repeats the terms chosen.
    expect(page.locator("main section[aria-labelledby=authorized-title]")).to_be_visible()
    token = page.locator("main p.token-box").inner_text().strip()
    facts = page.locator("main dl.facts")
    expect(facts).to_contain_text(
        _t(lang, "Allowed: only yes or no on a name and ID number it holds")
    )
    expect(facts).to_contain_text(_t(lang, "One query"))
    grant = ConsentGrant.objects.get(user=user, authorization__partner=partner)
    assert grant.authorization.identity_check is True
    assert (grant.authorization.use_limit, grant.authorization.max_queries) == ("queries", 1)
    _step(page, screenshot, lang, "2-authorised", allowed=(*named, token))

    # The consents page shows the terms.
    page.goto(live_server.url + CONSENTS)
    row = page.locator(f"#consent-{grant.pk}")
    expect(row.locator(".badge-ok")).to_have_text(_t(lang, "Active"))
    expect(row.locator("bdi")).to_have_text(PURPOSE)
    expect(row).to_contain_text(
        _t(lang, "Allowed: only yes or no on a name and ID number it holds")
    )
    expect(row).to_contain_text(_t(lang, "One query"))
    used = _t(lang, "Queries used: %(used)s of %(max)s", used=0, max=1)
    expect(row).to_contain_text(used)
    row.scroll_into_view_if_needed()
    _step(page, screenshot, lang, "2-consents-terms", allowed=named)

    # The partner's one call, as its server makes it: answered, and the grant is used up.
    partner_api = HttpClient(HTTP_AUTHORIZATION=f"Api-Key {api_key}")
    path = f"/api/v1/partner/authorizations/{token}/benefits/{benefit.pk}/eligibility/"
    response = partner_api.get(path)
    assert response.status_code == 200, response.content
    assert response.json()["eligible"] is True
    response = partner_api.get(path)
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "authorization_used"
    page.reload()
    expect(row.locator(".badge")).to_have_text(_t(lang, "Used up"))
    expect(row.locator(".badge-ok")).to_have_count(0)
    expect(row).to_contain_text(_t(lang, "Used up at"))
    expect(row).to_contain_text(_t(lang, "Queries used: %(used)s of %(max)s", used=1, max=1))
    expect(row.locator("form")).to_have_count(0)
    _step(page, screenshot, lang, "2-used-up", allowed=named)

    # Authorised again (with the partner's usual terms): a new, active grant; the used-up
    # one stays used up. Authorising once more replaces that second one.
    for _again in range(2):
        page.goto(live_server.url + link)
        expect(page.locator("#id_identity_check")).not_to_be_checked()
        page.locator(AUTHORISE).click()
        expect(page.locator("main p.token-box")).to_be_visible()
    sharing = ConsentGrant.objects.filter(user=user, authorization__partner=partner)
    first, second, third = sharing.order_by("pk")
    assert first.pk == grant.pk
    assert second.authorization.identity_check is False
    page.goto(live_server.url + CONSENTS)
    expect(page.locator(f"#consent-{third.pk} .badge-ok")).to_have_text(_t(lang, "Active"))
    replaced = page.locator(f"#consent-{second.pk}")
    expect(replaced.locator(".badge")).to_have_text(_t(lang, "Replaced"))
    expect(replaced).to_contain_text(_t(lang, "by your newer authorisation of this partner"))
    expect(replaced.locator("form")).to_have_count(0)
    expect(page.locator(f"#consent-{first.pk} .badge")).to_have_text(_t(lang, "Used up"))
    replaced.scroll_into_view_if_needed()
    _step(page, screenshot, lang, "2-replaced", allowed=named)
    browser_log.assert_clean()


# (3) An identity appeal -----------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_identity_appeal(lang, page, contexts, live_server, screenshot, browser_log, recomputes):
    holder = User.objects.create_user(username=f"holder{lang}", password=PASSWORD)
    identity_verify(user=holder, full_name=HOLDER_NAME, id_number=CONTESTED)
    appellant = User.objects.create_user(username=f"appellant{lang}", password=PASSWORD)

    # The rightful owner enters the number someone else verified.
    _speak(page, live_server, lang)
    log_in(page, live_server, appellant.username)
    page.goto(live_server.url + IDENTITY)
    page.fill("#id_full_name", APPELLANT_NAME)
    page.fill("#id_id_number", CONTESTED)
    page.click(FORM_SUBMIT)
    expect(page).to_have_url(url_pattern(live_server, IDENTITY))
    expect(page.locator("#id_id_number_error")).to_contain_text(
        _t(lang, "This ID number is already verified on another account.")
    )
    offer = page.locator("main .notice[role=status]")
    expect(offer).to_contain_text(
        _t(
            lang,
            "Is this ID number yours? If someone else verified it, you can appeal with a "
            "photo of your ID card.",
        )
    )
    appeal_link = offer.locator("a.button")
    expect(appeal_link).to_have_text(_t(lang, "Appeal: this ID number is mine"))
    _step(page, screenshot, lang, "3-duplicate", allowed=(APPELLANT_NAME,))

    # The appeal form, with a photo of the card.
    appeal_link.click()
    expect(page).to_have_url(re.compile(r"/accounts/identity/appeal/[^/]+/$"))
    expect(page.locator("main h1")).to_have_text(_t(lang, "Appeal: this ID number is mine"))
    page.fill("#id_full_name", APPELLANT_NAME)
    page.fill("#id_id_number", CONTESTED)
    page.fill("#id_statement", APPEAL_STATEMENT[lang])
    page.set_input_files(
        "#id_evidence", files=[{"name": "card.png", "mimeType": "image/png", "buffer": PNG}]
    )
    _assert_file_input_styled(page, "#id_evidence")
    _step(
        page,
        screenshot,
        lang,
        "3-appeal-form",
        allowed=(APPELLANT_NAME, APPEAL_STATEMENT[lang]),
    )
    page.click(FORM_SUBMIT)

    # Filed: back on the identity page, the appeal pending.
    expect(page).to_have_url(url_pattern(live_server, IDENTITY))
    expect(page.locator("#messages .message-success")).to_have_text(
        _t(lang, "Your appeal is filed. We will tell you the outcome here.")
    )
    appeals = page.locator("main section[aria-labelledby=appeals-title]")
    expect(appeals.locator("h2")).to_have_text(_t(lang, "My identity appeals"))
    expect(appeals.locator("li")).to_have_count(1)
    expect(appeals.locator("li")).to_contain_text(_t(lang, "Pending"))
    appeal = IdentityAppeal.objects.get(appellant=appellant)
    assert appeal.status == IdentityAppeal.Status.PENDING
    _step(page, screenshot, lang, "3-appeal-pending")

    # The holder is told that an appeal was filed, never by whom.
    other = contexts()
    _speak(other, live_server, lang)
    _log_in_from(other, live_server, holder.username)
    other.locator("header a.bell").click()
    expect(other).to_have_url(url_pattern(live_server, NOTIFICATIONS))
    filed = other.locator("main ul.notifications > li").first
    expect(filed).to_contain_text(
        _t(
            lang,
            "Someone appealed against the real-name verification on your account, saying "
            "the ID number is theirs. Our staff will review it and tell you the outcome.",
        )
    )
    expect(other.locator("main")).not_to_contain_text(appellant.username)
    # Its link says where it leads: the verification page, not a score change.
    expect(filed.locator(f"a[href='{IDENTITY}']")).to_have_text(_t(lang, "Real-name verification"))
    _step(other, screenshot, lang, "3-holder-notified")
    browser_log.assert_clean()


# (4) Dispute evidence opened by staff ---------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_dispute_evidence_opened_by_staff(
    lang, page, contexts, live_server, screenshot, browser_log, recomputes
):
    username = f"disputing{lang}"
    user = _person(username, sequence="621" if lang == "zh" else "622")
    Profile.objects.update_or_create(
        user=user, defaults={"education_level": "bachelor", "school": SCHOOL}
    )
    staff = User.objects.create_user(username=f"reviewer{lang}", password=PASSWORD, is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="scoring",
            codename__in=["view_dispute", "view_dispute_evidence"],
        )
    )
    statement = "我从未就读于复旦大学。" if lang == "zh" else "I never studied at Fudan."

    # The person disputes the school answer, with a photo of the diploma.
    _speak(page, live_server, lang)
    log_in(page, live_server, username)
    page.goto(live_server.url + RECORDS)
    page.click("main a[href*='field=school']")
    expect(page.locator("main h1")).to_have_text(_t(lang, "Dispute a record"))
    page.fill("#id_statement", statement)
    page.set_input_files(
        "#id_attachment", files=[{"name": "diploma.png", "mimeType": "image/png", "buffer": PNG}]
    )
    expect(page.locator("main p.consent-text")).to_have_text(SCHOOL_RECORD[lang])
    _assert_file_input_styled(page, "#id_attachment")
    _step(page, screenshot, lang, "4-dispute-form", allowed=(SCHOOL, statement))
    page.click(FORM_SUBMIT)
    expect(page).to_have_url(re.compile(r"/score/disputes/\d+/$"))
    dispute = Dispute.objects.get(user=user)
    facts = page.locator("main dl.facts")
    expect(facts).to_contain_text(_t(lang, "Evidence"))
    expect(facts.locator(f"a[href='/score/disputes/{dispute.pk}/attachment/']")).to_be_visible()
    expect(page.locator("main")).to_contain_text(_t(lang, "Nobody has opened it yet."))
    # Kept and shown under a neutral file name, never the one uploaded.
    kept = DisputeAttachment.objects.get(dispute=dispute).name
    expect(facts.locator("a")).to_have_text(kept)
    expect(page.locator("main")).not_to_contain_text("diploma")
    _step(page, screenshot, lang, "4-dispute-filed", allowed=(SCHOOL, statement, kept))

    # Staff with the evidence permission open it from the admin: a download, logged.
    admin = contexts(accept_downloads=True)
    admin.goto(live_server.url + "/admin/login/?next=/admin/")
    admin.fill("#id_username", staff.username)
    admin.fill("#id_password", PASSWORD)
    admin.click("#login-form input[type=submit]")
    expect(admin).to_have_url(url_pattern(live_server, "/admin/"))
    admin.goto(f"{live_server.url}/admin/scoring/dispute/{dispute.pk}/change/")
    with admin.expect_download() as download:
        admin.locator(f"a[href='/score/disputes/{dispute.pk}/attachment/']").click()
    with open(download.value.path(), "rb") as opened:
        assert opened.read() == PNG
    access = DisputeEvidenceAccess.objects.get(dispute=dispute)
    assert access.role == DisputeEvidenceAccess.Role.STAFF

    # The person sees that staff opened it, and when.
    page.reload()
    openings = page.locator("main ul.query-list > li")
    expect(openings).to_have_count(1)
    expect(page.locator("main #evidence-openings-title")).to_have_text(
        _t(lang, "Who opened my evidence")
    )
    at = timezone.localtime(access.at).strftime("%Y-%m-%d %H:%M")
    expect(openings.first).to_have_text(
        _t(lang, "Your evidence was opened by staff on %(at)s.", at=at)
    )
    expect(page.locator("main")).not_to_contain_text(staff.username)
    _step(page, screenshot, lang, "4-evidence-opened", allowed=(SCHOOL, statement, kept))
    browser_log.assert_clean()
