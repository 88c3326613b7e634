"""Stored XSS, in a real Chromium at 375 px: no text a person, a partner or an admin typed
runs as script anywhere the portal or its admin shows it again.

Every field that is stored and rendered back gets a hostile value: markup that would run
(`<script>`, an `<img onerror>` that breaks out of an attribute, `<svg onload>`, a
`</title>` that would close the title), a `javascript:` URL, and template syntax that must
stay literal. Fields that refuse markup get what they accept: quotes that would break out
of an attribute, `javascript:` and template syntax; that they refuse the rest is checked
too. Values are typed into the real forms where that is practical (the profile steps, a
dispute with its evidence file, the personal statement, the notification email, the
partner's link, the admin's partner, approval reason, benefit texts and dispute answer);
the rest is stored through the services or the ORM, as an import or an admin would.

Each page that shows a value is then opened, and must pass on three counts:
  * its HTML as the server sent it holds no raw payload markup, and each value it shows
    appears escaped (the escaping is what protects, not only the CSP);
  * in the page, `window.__xss` is unset, no dialog opened, no element carries an event
    handler or `javascript:` link naming the marker, no script mentions it;
  * each value it shows is visible, literally, in its text.
Person pages are read in Chinese in a context that ignores the Content Security Policy
(so a payload that was not escaped would run there), and again in English with the policy
enforced (where any refusal it logs fails the test).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from urllib.parse import urlencode, urlsplit

import pytest
from django.utils.html import escape
from playwright.sync_api import expect

from accounts.crypto import encrypt_text
from accounts.models import ConsentGrant, ConsentPurpose, ConsentText, Identity, Profile, User
from benefits.models import Benefit, Partner, PartnerStatusChange, Voucher
from benefits.services.partner_access import api_key_create
from benefits.services.partner_calls import partner_eligibility, partner_voucher_verify
from benefits.services.unlocks import unlocks_apply
from scoring.models import CourtListImport, Dispute, DisputeAttachment
from scoring.services.court_list import court_list_import
from scoring.services.proofs import proof_create, proof_token
from tests.browser.helpers import (
    DIMENSIONS,
    FORM_SUBMIT,
    SCORE,
    fill_identity,
    fill_sign_up,
    log_in,
    new_phone_context,
    ready_user,
    script_evidence,
    snapshot_store,
    url_pattern,
    watch_for_script,
)
from tests.factories import PASSWORD, make_id_number

# The payloads -------------------------------------------------------------------------------

MARKER = "__xss"
SCRIPT = "<script>window.__xss=1</script>"
IMG = '"><img src=x onerror="window.__xss=1">'
SVG = "<svg onload=window.__xss=1>"
SVG_SLASH = "<svg/onload=window.__xss=1>"  # no space: fits a quoted email local part
JS_URL = "javascript:window.__xss=1"
TEMPLATE_VAR = "{{7*7}}"
TEMPLATE_TAG = '{% now "Y" %}'
TITLE = "</title><script>window.__xss=1</script>"
# For fields that refuse < and >: what is left is breaking out of an attribute.
ATTRIBUTE = '" autofocus onfocus="window.__xss=1'
ATTRIBUTE_SINGLE = "' onmouseover='window.__xss=1"

# Raw markup that may reach a page only escaped: each holds a < or a quote that escaping
# turns into an entity, so none of them can appear in a page that escaped its values.
RAW = (
    "<script>window.__xss",
    "<img src=x onerror",
    "<svg onload=",
    "<svg/onload=",
    "</title><script>",
    '"window.__xss=1"',
    '" autofocus onfocus="',
    "' onmouseover='",
)
# What a page's <title> never holds: nobody's text belongs in a tab or the history.
NOT_IN_TITLE = (MARKER, "{{", "{%", "javascript:")

PDF = b"%PDF-1.4\n%evidence\n%%EOF\n"
STEP_FORM = "#profile-step > form.form"
STEP_SUBMIT = f"{STEP_FORM} button[type=submit]"
ADMIN_SAVE = "input[name=_save]"


# Watching pages -----------------------------------------------------------------------------


class Watch:
    """One page under watch: every visit is checked for stored script."""

    def __init__(self, page, live_server, browser_log, *, log_console: bool) -> None:
        self.page = page
        self.base = live_server.url
        self.dialogs = watch_for_script(page)
        if log_console:  # the `page` fixture logs its own page already
            page.on(
                "console",
                lambda message: browser_log.console.append(f"[{message.type}] {message.text}"),
            )
            page.on("pageerror", lambda error: browser_log.page_errors.append(str(error)))

    def visit(
        self,
        path: str,
        *,
        escaped: Iterable[str] = (),
        shown: Iterable[str] = (),
        portal: bool = True,
    ) -> None:
        response = self.page.goto(self.base + path)
        assert response is not None, path
        assert response.status == 200, f"{path} answered {response.status}"
        self.check_html(path, response.text(), escaped)
        self.scan(path, shown, portal=portal)

    def submit(
        self, selector: str, path: str, *, method: str = "POST", escaped: Iterable[str] = ()
    ) -> None:
        """Click `selector` and check the HTML of the response to `method path` (the form
        sent back with its errors, an htmx fragment, or the page a redirect leads to)."""

        def wanted(response) -> bool:
            return response.request.method == method and urlsplit(response.url).path == path

        with self.page.expect_response(wanted) as info:
            self.page.click(selector)
        self.check_html(f"{method} {path}", info.value.text(), escaped)

    def check_html(self, where: str, html: str, escaped: Iterable[str]) -> None:
        raw = [fragment for fragment in RAW if fragment in html]
        assert not raw, f"{where}: unescaped markup in the HTML: {raw}"
        missing = [value for value in escaped if escape(value) not in html]
        assert not missing, f"{where}: not in the HTML, escaped: {missing}"

    def scan(self, where: str, shown: Iterable[str] = (), *, portal: bool = True) -> None:
        evidence = script_evidence(self.page, MARKER)
        assert evidence["ran"] is None, f"{where}: a stored script ran (window.{MARKER})"
        assert not self.dialogs, f"{where}: dialogs opened: {self.dialogs}"
        assert not evidence["dialogs"], f"{where}: dialogs called: {evidence['dialogs']}"
        assert not evidence["found"], f"{where}: script in the page: {evidence['found']}"
        hidden = [text for text in shown if text not in evidence["text"]]
        assert not hidden, f"{where}: not shown literally: {hidden}"
        if portal:
            leaked = [word for word in NOT_IN_TITLE if word in evidence["title"]]
            assert not leaked, f"{where}: stored text in the title: {evidence['title']!r}"


@contextmanager
def _csp_off(browser, browser_log, live_server, storage_state=None) -> Iterator[Watch]:
    """A second phone whose pages ignore the Content Security Policy: a payload that
    reached a page unescaped would run here, so only escaping keeps these checks green."""
    context = new_phone_context(browser, browser_log, bypass_csp=True, storage_state=storage_state)
    try:
        yield Watch(context.new_page(), live_server, browser_log, log_console=True)
    finally:
        context.close()


def _language(page, live_server, code: str) -> None:
    page.context.add_cookies([{"name": "django_language", "value": code, "url": live_server.url}])


def _admin_log_in(page, live_server, username: str) -> None:
    page.goto(live_server.url + "/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form input[type=submit]")
    expect(page).to_have_url(url_pattern(live_server, "/admin/"))


def _visit_all(watch: Watch, pages: Sequence[tuple], *, portal: bool = True) -> None:
    for path, escaped, shown in pages:
        watch.visit(path, escaped=escaped, shown=shown, portal=portal)


def _scored_user(username: str, *, sequence: int, user_agent: str = "") -> User:
    """A verified user (born 1990) who consents to scoring and has one snapshot."""
    user = ready_user(
        username,
        full_name="张伟",
        id_number=make_id_number(sequence=f"{sequence}"),
        user_agent=user_agent,
    )
    snapshot_store(user, SCORE, DIMENSIONS)
    return user


@pytest.fixture
def recomputes(recompute_calls) -> list[tuple[int, str]]:
    """Recomputes queued by the live server are recorded, not sent to the broker."""
    return recompute_calls


# (1) What a person types ----------------------------------------------------------------------

# The username and the real name refuse markup at the door (a pass, checked below); these
# are stored by the ORM to prove the pages would still escape them, as after an import.
USERNAME = SCRIPT + IMG
FULL_NAME = TITLE
# The profile's free text refuses < and >: it gets quotes, javascript: and template syntax.
SCHOOL = f"{TEMPLATE_VAR} {TEMPLATE_TAG} 大学"
EMPLOYER = f"{ATTRIBUTE} 科技"
ADDRESS = f"{JS_URL} {ATTRIBUTE_SINGLE}"
# Email addresses may quote their local part, markup and all, and Django accepts it.
WORK_EMAIL = f'"{SCRIPT}"@example-corp.cn'
NOTIFY_EMAIL = f'"{SVG_SLASH}"@example.com'
STATEMENT_PARTS = (SCRIPT, IMG, SVG, JS_URL, TEMPLATE_VAR, TEMPLATE_TAG, TITLE)
STATEMENT = "\n".join(STATEMENT_PARTS)
ATTACHMENT = f"{SVG}.pdf"
PERSONAL = " ".join((SCRIPT, IMG, SVG, TITLE, TEMPLATE_VAR, TEMPLATE_TAG, JS_URL))
NOTE_PARTS = (IMG, SCRIPT, TEMPLATE_TAG, TITLE)
NOTE = "\n".join(NOTE_PARTS)


def test_what_people_type_is_shown_never_run(
    page, browser, browser_log, live_server, screenshot, recomputes
):
    watch = Watch(page, live_server, browser_log, log_console=False)

    # Refused at the door, and the form that says so escapes what was typed.
    page.goto(live_server.url + "/accounts/signup/")
    page.fill("#id_username", USERNAME)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    watch.submit(FORM_SUBMIT, "/accounts/signup/", escaped=[USERNAME])
    expect(page.locator("#id_username")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_username")).to_have_value(USERNAME)
    watch.scan("signup refused")
    assert not User.objects.filter(username=USERNAME).exists()
    fill_sign_up(page, "newcomer")
    page.click(FORM_SUBMIT)
    expect(page).to_have_url(url_pattern(live_server, "/accounts/identity/"))
    fill_identity(page, FULL_NAME, make_id_number(sequence="702"))
    watch.submit(FORM_SUBMIT, "/accounts/identity/", escaped=[FULL_NAME])
    expect(page.locator("#id_full_name")).to_have_attribute("aria-invalid", "true")
    watch.scan("identity refused")
    assert not Identity.objects.filter(user__username="newcomer").exists()
    page.context.clear_cookies()

    # Stored behind the forms' back: the username and the real name.
    user = _scored_user(USERNAME, sequence=701)
    Identity.objects.filter(user=user).update(full_name_encrypted=encrypt_text(FULL_NAME))
    proof = proof_create(user=user, shows="at_least", threshold=600, lifetime="1d", show_name=True)
    admin = User.objects.create_superuser(username="xss-admin", password=PASSWORD)
    log_in(page, live_server, USERNAME)

    # The profile steps, through htmx: markup refused in place, the rest saved.
    page.goto(live_server.url + "/accounts/profile/education/")
    page.select_option("#id_education_level", "bachelor")
    page.fill("#id_school", SCRIPT)
    page.fill("#id_graduation_year", "2012")
    watch.submit(STEP_SUBMIT, "/accounts/profile/education/", escaped=[SCRIPT])
    expect(page.locator("#id_school")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_school")).to_have_value(SCRIPT)
    watch.scan("school refused")
    assert not Profile.objects.filter(user=user).exists()
    page.fill("#id_school", SCHOOL)
    page.click(STEP_SUBMIT)
    expect(page.locator(STEP_FORM)).to_have_attribute("action", "/accounts/profile/occupation/")
    page.select_option("#id_occupation", "employee")
    page.fill("#id_employer", EMPLOYER)
    page.fill("#id_work_email", WORK_EMAIL)
    watch.submit(STEP_SUBMIT, "/accounts/profile/occupation/", escaped=[EMPLOYER, WORK_EMAIL])
    expect(page.locator("#profile-step .code-box")).to_contain_text(WORK_EMAIL)
    watch.scan("work email code box", [WORK_EMAIL])
    page.goto(live_server.url + "/accounts/profile/address/")
    page.fill("#id_address", ADDRESS)
    page.fill("#id_address_years", "3")
    page.click(STEP_SUBMIT)
    expect(page.locator(STEP_FORM)).to_have_attribute("action", "/accounts/profile/phone/")
    profile = Profile.objects.get(user=user)
    assert (profile.school, profile.employer, profile.address, profile.work_email) == (
        SCHOOL,
        EMPLOYER,
        ADDRESS,
        WORK_EMAIL,
    )

    # A dispute of the school answer, with an evidence file named like markup.
    page.goto(live_server.url + "/score/records/")
    page.click("main a[href*='field=school']")
    page.fill("#id_statement", STATEMENT)
    page.set_input_files(
        "#id_attachment", files=[{"name": ATTACHMENT, "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.click(FORM_SUBMIT)
    expect(page).to_have_url(re.compile(r"/score/disputes/\d+/$"))
    dispute = Dispute.objects.get(user=user)
    assert dispute.statement.replace("\r\n", "\n") == STATEMENT
    # The uploaded name is not kept at all (it may carry an ID number).
    assert DisputeAttachment.objects.get(dispute=dispute).name == "evidence.pdf"

    # The personal statement (本人声明) and the address for notification emails.
    page.goto(live_server.url + "/score/records/")
    page.fill("#id_text", PERSONAL)
    page.click("form[action='/score/statement/'] button[type=submit]")
    expect(page.locator("#messages .message-success")).to_be_visible()
    page.goto(live_server.url + "/accounts/notifications/")
    page.check("#id_by_email")
    page.fill("#id_email", NOTIFY_EMAIL)
    page.click("main form.form button[type=submit]")
    expect(page.locator("#messages .message-success")).to_be_visible()
    user.refresh_from_db()
    assert user.email == NOTIFY_EMAIL
    assert user.personal_statement.text == PERSONAL

    school_summary = dispute.record_summary
    assert SCHOOL in school_summary
    with _csp_off(browser, browser_log, live_server) as staff:
        # An admin rejects the dispute in the admin, with a reason full of markup.
        _admin_log_in(staff.page, live_server, admin.username)
        staff.page.goto(f"{live_server.url}/admin/scoring/dispute/{dispute.pk}/change/")
        staff.page.select_option("#id_status", "rejected")
        staff.page.fill("#id_note", NOTE)
        staff.submit(ADMIN_SAVE, "/admin/scoring/dispute/", method="GET")
        dispute.refresh_from_db()
        assert dispute.status == Dispute.Status.REJECTED
        assert dispute.resolution.replace("\r\n", "\n") == NOTE

        # Where admins read it all.
        _visit_all(
            staff,
            [
                ("/admin/", [], []),
                ("/admin/accounts/user/", [USERNAME], [USERNAME]),
                (f"/admin/accounts/user/{user.pk}/change/", [USERNAME, NOTIFY_EMAIL], []),
                ("/admin/accounts/identity/", [USERNAME], [USERNAME]),
                ("/admin/accounts/consentgrant/", [USERNAME], [USERNAME]),
                ("/admin/scoring/dispute/", [USERNAME, school_summary], [school_summary]),
                (
                    f"/admin/scoring/dispute/{dispute.pk}/change/",
                    [school_summary, *STATEMENT_PARTS, *NOTE_PARTS],
                    [school_summary, *STATEMENT_PARTS, *NOTE_PARTS],
                ),
            ],
            portal=False,
        )

    def person_pages() -> list[tuple[str, list[str], list[str]]]:
        answers = [SCHOOL, EMPLOYER, ADDRESS, WORK_EMAIL]
        return [
            ("/accounts/me/", [USERNAME], [USERNAME]),
            ("/accounts/identity/", [FULL_NAME], [FULL_NAME]),
            ("/accounts/profile/", answers, answers),
            ("/accounts/profile/education/", [SCHOOL], []),
            ("/accounts/profile/occupation/", [EMPLOYER, WORK_EMAIL], [WORK_EMAIL]),
            ("/accounts/profile/address/", [ADDRESS], []),
            ("/score/records/", [*answers, school_summary, PERSONAL], answers),
            ("/score/disputes/new/?kind=profile&field=employer", [EMPLOYER], [EMPLOYER]),
            ("/accounts/me/data/", [PERSONAL], [PERSONAL]),
            ("/accounts/notifications/", [NOTIFY_EMAIL], [NOTIFY_EMAIL]),
            (
                f"/score/disputes/{dispute.pk}/",
                [school_summary, *STATEMENT_PARTS, *NOTE_PARTS],
                [school_summary, *STATEMENT_PARTS, *NOTE_PARTS],
            ),
        ]

    # The person's pages in Chinese, where only escaping stands between them and a script.
    with _csp_off(browser, browser_log, live_server, page.context.storage_state()) as person:
        _visit_all(person, person_pages())
        screenshot(person.page, "xss-dispute-escaped")  # the last page: the dispute
        # The evidence is a download whatever its name, typed by what it holds.
        response = person.page.request.get(
            f"{live_server.url}/score/disputes/{dispute.pk}/attachment/"
        )
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["content-disposition"] == (
            f'attachment; filename="dispute-{dispute.pk}"'
        )
        assert response.headers["x-content-type-options"] == "nosniff"
        # The export is a JSON download, never a page: the values come back as typed.
        response = person.page.request.get(live_server.url + "/accounts/me/data/export/")
        assert response.status == 200
        assert response.headers["content-type"].startswith("application/json")
        assert response.headers["content-disposition"].startswith("attachment;")
        assert response.headers["x-content-type-options"] == "nosniff"
        data = response.json()
        assert data["account"]["username"] == USERNAME
        assert data["account"]["email"] == NOTIFY_EMAIL
        assert data["identity"]["full_name"] == FULL_NAME
        assert data["profile"]["school"] == SCHOOL
        assert data["profile"]["work_email"] == WORK_EMAIL
        assert data["personal_statement"] == PERSONAL
        assert data["disputes"][0]["statement"].replace("\r\n", "\n") == STATEMENT

    # The merchant's view of a proof that shows the (masked) name, logged out.
    with _csp_off(browser, browser_log, live_server) as merchant:
        masked = FULL_NAME[0] + "*" + FULL_NAME[-1]
        merchant.visit(f"/proof/{proof_token(proof)}/", escaped=[masked], shown=[masked])

    # And in English, with the Content Security Policy on: any refusal fails the test.
    _language(page, live_server, "en")
    _visit_all(watch, person_pages())
    browser_log.assert_clean()


# (2) What partners and admins type ------------------------------------------------------------

PARTNER_NAME = f"{IMG} {TEMPLATE_VAR}"
PARTNER_CATEGORY = SVG
LICENCE = TITLE
REASON = f"{SCRIPT} {TEMPLATE_TAG} {JS_URL}"
TITLE_ZH = f"{SCRIPT}{TEMPLATE_VAR}"
TITLE_EN = TITLE
TERMS_ZH_PARTS = (IMG, SVG, JS_URL, TEMPLATE_TAG)
TERMS_EN_PARTS = (SVG, IMG, TEMPLATE_VAR)
NEXT_TITLE = f"{IMG}{TEMPLATE_TAG}"
PURPOSE = f"{SVG} {JS_URL} {TEMPLATE_VAR}"
CONSENT_TITLE_ZH = TITLE
CONSENT_TITLE_EN = SCRIPT
CONSENT_BODY_PARTS = (IMG, SVG, TEMPLATE_VAR)
KEY_LABEL = IMG
COURT_FILE = f"{SCRIPT}.csv"
USER_AGENT = SVG


def test_what_partners_and_admins_type_is_shown_never_run(
    page, browser, browser_log, live_server, screenshot, recomputes
):
    watch = Watch(page, live_server, browser_log, log_console=False)
    user = _scored_user("xss-partnered", sequence=711, user_agent=USER_AGENT)
    admin = User.objects.create_superuser(username="xss-curator", password=PASSWORD)
    # Stored by services, as the admin's other pages and the import would.
    consent_text = ConsentText.objects.create(
        purpose=ConsentPurpose.PARTNER_SHARING,
        version=2,
        title_zh=CONSENT_TITLE_ZH,
        title_en=CONSENT_TITLE_EN,
        body_zh="\n\n".join(CONSENT_BODY_PARTS),
        body_en="\n\n".join(CONSENT_BODY_PARTS),
    )
    # A list is a full snapshot, so it must name someone (nobody of these journeys).
    listed = make_id_number(region="310101", sequence="991")
    court = court_list_import(
        text=f"name,id_number\n赵六,{listed}\n", file_name=COURT_FILE, by=admin
    )
    assert CourtListImport.objects.get().file_name == COURT_FILE

    # The admin adds the partner, approves it with a reason, and writes the benefit.
    _admin_log_in(page, live_server, admin.username)
    page.goto(live_server.url + "/admin/benefits/partner/add/")
    page.fill("#id_name", PARTNER_NAME)
    page.fill("#id_category", PARTNER_CATEGORY)
    page.fill("#id_licence_number", LICENCE)
    watch.submit(ADMIN_SAVE, "/admin/benefits/partner/", method="GET", escaped=[PARTNER_NAME])
    partner = Partner.objects.get(name=PARTNER_NAME)
    row = page.locator("#result_list tbody tr", has_text=PARTNER_NAME)
    row.locator("input[name=_selected_action]").check()
    page.select_option("select[name=action]", "approve")
    watch.submit("button[name=index]", "/admin/benefits/partner/", escaped=[PARTNER_NAME])
    watch.scan("approve: the reason page", [PARTNER_NAME], portal=False)
    page.fill("textarea[name=reason]", REASON)
    watch.submit("input[name=apply]", "/admin/benefits/partner/", method="GET")
    partner.refresh_from_db()
    assert partner.status == Partner.Status.APPROVED
    assert PartnerStatusChange.objects.get(partner=partner).reason == REASON
    benefit = Benefit.objects.create(
        partner=partner, title_zh="草稿", title_en="Draft", category="bike_rental", min_score=600
    )
    # A second benefit, out of reach: the home page names it as the next one.
    Benefit.objects.create(
        partner=partner,
        title_zh=NEXT_TITLE,
        title_en=NEXT_TITLE,
        category="power_bank",
        min_score=700,
        status=Benefit.Status.PUBLISHED,
    )
    change = f"/admin/benefits/benefit/{benefit.pk}/change/"
    page.goto(live_server.url + change)
    page.fill("#id_title_zh", TITLE_ZH)
    page.fill("#id_title_en", TITLE_EN)
    page.fill("#id_terms_zh", "\n".join(TERMS_ZH_PARTS))
    page.fill("#id_terms_en", "\n".join(TERMS_EN_PARTS))
    watch.submit("input[name=_publish]", change, method="GET", escaped=[TITLE_ZH, TITLE_EN])
    expect(page.locator("#id_title_zh")).to_have_value(TITLE_ZH)
    benefit.refresh_from_db()
    assert benefit.status == Benefit.Status.PUBLISHED
    assert (benefit.title_zh, benefit.title_en) == (TITLE_ZH, TITLE_EN)
    key, _value = api_key_create(partner=partner, label=KEY_LABEL, by=admin)
    admin_state = page.context.storage_state()
    unlocks_apply(scores=[(user.pk, SCORE, DIMENSIONS)])  # the unlock notification

    # The person follows the partner's link, authorises it and claims the benefit.
    page.context.clear_cookies()
    log_in(page, live_server, user.username)
    terms = {"scope": "eligibility", "purpose": PURPOSE, "benefit": benefit.pk, "days": 30}
    link = f"/benefits/partners/{partner.pk}/authorize/?{urlencode(terms)}"
    watch.visit(
        link,
        escaped=[PARTNER_NAME, LICENCE, PURPOSE, TITLE_ZH],
        shown=[PARTNER_NAME, LICENCE, PURPOSE, TITLE_ZH],
    )
    page.click("main form.form button[type=submit]")
    expect(page.locator("main p.token-box")).to_be_visible()
    token = page.locator("main p.token-box").inner_text().strip()
    grant = ConsentGrant.objects.get(user=user, authorization__partner=partner)
    assert grant.authorization.stated_purpose == PURPOSE
    page.goto(live_server.url + "/benefits/")
    page.locator(f"#benefit-{benefit.pk} form[action$='/claim/'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/benefits/vouchers/\d+/$"))
    voucher = Voucher.objects.get(user=user)
    # The partner checks eligibility and the voucher: both are listed to the person.
    partner_eligibility(partner=partner, api_key=key, token=token, benefit_id=benefit.pk)
    partner_voucher_verify(partner=partner, api_key=key, code=voucher.code)
    scoring_grant = ConsentGrant.objects.get(user=user, purpose=ConsentPurpose.SCORING)
    assert scoring_grant.user_agent == USER_AGENT

    def person_pages(english: bool) -> list[tuple[str, list[str], list[str]]]:
        title = TITLE_EN if english else TITLE_ZH
        terms = TERMS_EN_PARTS if english else TERMS_ZH_PARTS
        consent_title = CONSENT_TITLE_EN if english else CONSENT_TITLE_ZH
        return [
            ("/", [NEXT_TITLE], [NEXT_TITLE]),
            (link, [PARTNER_NAME, LICENCE, PURPOSE, title], [PARTNER_NAME, LICENCE, PURPOSE]),
            (f"/benefits/authorized/{grant.pk}/", [PARTNER_NAME, PURPOSE, title], [PURPOSE]),
            (
                "/accounts/consents/",
                [PARTNER_NAME, PURPOSE, consent_title, *CONSENT_BODY_PARTS],
                [PARTNER_NAME, PURPOSE, consent_title, *CONSENT_BODY_PARTS],
            ),
            ("/benefits/queries/", [PARTNER_NAME, PURPOSE, TITLE_ZH], [PURPOSE, TITLE_ZH]),
            ("/benefits/vouchers/", [title], [title]),
            (
                f"/benefits/vouchers/{voucher.pk}/",
                [title, PARTNER_NAME, *terms],
                [title, PARTNER_NAME, *terms],
            ),
            ("/accounts/notifications/", [title], [title]),
            ("/benefits/", [PARTNER_NAME, title, *terms, NEXT_TITLE], [title, *terms]),
        ]

    with _csp_off(browser, browser_log, live_server, page.context.storage_state()) as person:
        _visit_all(person, person_pages(english=False))
        screenshot(person.page, "xss-benefits-escaped")  # the last page: the catalogue
        data = person.page.request.get(live_server.url + "/accounts/me/data/export/").json()
        assert data["benefit_unlocks"][0]["benefit__title_zh"] == TITLE_ZH
        assert {row["purpose"] for row in data["partner_queries"]} == {PURPOSE, TITLE_ZH}

    with _csp_off(browser, browser_log, live_server, admin_state) as staff:
        _visit_all(
            staff,
            [
                ("/admin/", [PARTNER_NAME], [PARTNER_NAME]),
                (
                    "/admin/benefits/partner/",
                    [PARTNER_NAME, PARTNER_CATEGORY, LICENCE],
                    [PARTNER_NAME, PARTNER_CATEGORY, LICENCE],
                ),
                (
                    f"/admin/benefits/partner/{partner.pk}/change/",
                    [PARTNER_NAME, PARTNER_CATEGORY, LICENCE, TITLE_ZH, NEXT_TITLE, KEY_LABEL],
                    [REASON, KEY_LABEL],
                ),
                (f"/admin/benefits/partner/{partner.pk}/history/", [REASON], [REASON]),
                ("/admin/benefits/benefit/", [TITLE_ZH, PARTNER_NAME], [TITLE_ZH, PARTNER_NAME]),
                (change, [TITLE_ZH, TITLE_EN, *TERMS_ZH_PARTS, *TERMS_EN_PARTS, PARTNER_NAME], []),
                ("/admin/benefits/voucher/", [TITLE_ZH, PARTNER_NAME], [TITLE_ZH]),
                ("/admin/benefits/benefitunlock/", [TITLE_ZH], [TITLE_ZH]),
                ("/admin/benefits/partnerquery/", [PURPOSE, TITLE_ZH], [PURPOSE, TITLE_ZH]),
                ("/admin/benefits/partnerapikey/", [KEY_LABEL, PARTNER_NAME], [KEY_LABEL]),
                ("/admin/accounts/consentgrant/", [PARTNER_NAME], [PARTNER_NAME]),
                (f"/admin/accounts/consentgrant/{grant.pk}/change/", [PURPOSE], [PURPOSE]),
                (
                    f"/admin/accounts/consentgrant/{scoring_grant.pk}/change/",
                    [USER_AGENT],
                    [USER_AGENT],
                ),
                ("/admin/accounts/consenttext/", [CONSENT_TITLE_ZH], [CONSENT_TITLE_ZH]),
                (
                    f"/admin/accounts/consenttext/{consent_text.pk}/change/",
                    [CONSENT_TITLE_ZH, CONSENT_TITLE_EN, *CONSENT_BODY_PARTS],
                    [CONSENT_TITLE_ZH, CONSENT_TITLE_EN, *CONSENT_BODY_PARTS],
                ),
                ("/admin/scoring/courtlistimport/", [COURT_FILE], [COURT_FILE]),
                (
                    f"/admin/scoring/courtlistimport/{court.pk}/change/",
                    [COURT_FILE],
                    [COURT_FILE],
                ),
            ],
            portal=False,
        )
        # The partner picker fills itself from JSON: the names are drawn as text.
        staff.page.goto(live_server.url + change)
        staff.page.click(".field-partner .select2-selection")
        expect(staff.page.locator(".select2-results__option").first).to_have_text(PARTNER_NAME)
        staff.scan("partner picker", [PARTNER_NAME], portal=False)

    _language(page, live_server, "en")
    _visit_all(watch, person_pages(english=True))
    browser_log.assert_clean()
