"""Every HTML form a person or an admin can submit, fed hypothesis-made bodies (unicode,
controls, NUL, very long text, numbers as text, missing, repeated and unknown fields) as
the right user in the state where the form is shown. Whatever comes in: never a server
error; a refused submission shows the page again with an error message and every typed
value where it was typed; an accepted one redirects and stores what was typed. Each form
class is also checked on its own: validating and rendering any data never raises."""

from __future__ import annotations

import datetime
import re
from urllib.parse import urlsplit

import pytest
from django import forms
from django.contrib import admin
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.utils import timezone
from django.utils.html import escape
from hypothesis import example, given
from hypothesis import strategies as st

from accounts import services as account_services
from accounts.forms import (
    PROFILE_FORMS,
    IdentityForm,
    NotificationEmailForm,
    PasswordConfirmForm,
    SignupForm,
    WorkEmailCodeForm,
)
from accounts.models import ConsentGrant, ConsentPurpose, ConsentText, Identity, Profile, User
from accounts.selectors import profile_get
from benefits.admin import PartnerApiKeyForm, StatusReasonForm
from benefits.forms import PartnerConsentForm, PartnerLinkForm
from benefits.models import Benefit, Partner, PartnerApiKey, PartnerAuthorization
from scoring.admin import CourtListUploadForm, DisputeAnswerForm
from scoring.forms import DisputeForm, ProofForm, StatementForm, WhatIfForm
from scoring.models import CourtListImport, Dispute, PersonalStatement, ScoreProof, ScoreSnapshot
from scoring.selectors import record_facts
from scoring.services.scores import score_recompute, what_if_levers_for
from tests.dates import days_ago, days_ahead
from tests.factories import (
    PASSWORD,
    add_account,
    add_repayment,
    grant,
    make_benefit,
    make_id_number,
    make_partner,
    solid_file,
)
from tests.security.hostile import (
    FUZZ,
    as_querydict,
    assert_refused_in_place,
    browser,
    extra_fields,
    form_data,
    hostile_text,
    last,
    post,
    rolled_back,
    text_fields,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("recompute_calls")]

BIRTH = datetime.date(1990, 3, 7)
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


def in_days(days: int) -> str:
    return days_ahead(days).isoformat()


# --- State the forms are shown in -----------------------------------------------------------------


@pytest.fixture
def verified(owner):
    """The owner: verified (born BIRTH) and consenting to scoring."""
    account_services.identity_verify(
        user=owner, full_name="张伟", id_number=make_id_number(birth=BIRTH.strftime("%Y%m%d"))
    )
    grant(owner)
    return owner


@pytest.fixture
def scored(verified, request):
    """The verified owner with an ordinary file and a score from the active model."""
    request.getfixturevalue("active_model")
    solid_file(verified)
    score_recompute(user=verified, trigger="test")
    return verified


@pytest.fixture
def approved_partner(db) -> Partner:
    return make_partner()


@pytest.fixture
def late_repayment(verified):
    loan = add_account(verified, opened_on=days_ago(400))
    return add_repayment(loan, due=days_ago(60), days_overdue=12)


# --- The user's forms -----------------------------------------------------------------------------

SIGNUP = {"username": "newcomer", "password1": PASSWORD, "password2": PASSWORD}


@FUZZ
@given(data=form_data(SIGNUP))
@example(data=SIGNUP)
def test_signup_form(db, data):
    """Signing up: refused in place with the username kept, or an account and a redirect."""
    with rolled_back():
        users = User.objects.count()
        response = post(browser(), "/accounts/signup/", data)
        assert response.status_code < 500
        if response.status_code == 302:
            assert SignupForm(as_querydict(data)).is_valid()
            assert User.objects.count() == users + 1
        else:
            assert_refused_in_place(response, data, ["username"])
            assert User.objects.count() == users
        if data == SIGNUP:
            assert response.status_code == 302


LOGIN = {"username": "owner", "password": PASSWORD}


def login_request():
    """A request for the authentication backends (django-axes needs one)."""
    return RequestFactory().post("/accounts/login/")


@FUZZ
@given(data=form_data(LOGIN))
@example(data=LOGIN)
@example(data={"username": "x" * 300, "password": "wrong-password"})
def test_login_form(owner, data):
    """Logging in: refused in place with the username kept, or in and redirected."""
    with rolled_back():
        response = post(browser(), "/accounts/login/", data)
        assert response.status_code < 500
        if response.status_code == 302:
            assert AuthenticationForm(login_request(), as_querydict(data)).is_valid()
        else:
            assert_refused_in_place(response, data, ["username"])
        if data == LOGIN:
            assert response.status_code == 302


NEW_PASSWORD = "another-long-secret-77"
PASSWORD_CHANGE = {
    "old_password": PASSWORD,
    "new_password1": NEW_PASSWORD,
    "new_password2": NEW_PASSWORD,
}


@FUZZ
@given(data=form_data(PASSWORD_CHANGE))
@example(data=PASSWORD_CHANGE)
def test_password_change_form(owner, data):
    """Changing the password: refused with a message (passwords are never echoed), or
    changed and redirected."""
    with rolled_back():
        owner.refresh_from_db()  # an earlier example may have changed it in memory
        valid = PasswordChangeForm(owner, as_querydict(data)).is_valid()
        response = post(browser(owner), "/accounts/password/", data)
        assert response.status_code < 500
        owner.refresh_from_db()
        if response.status_code == 302:
            assert valid
            assert owner.check_password(last(data["new_password1"]))
        else:
            assert_refused_in_place(response, data, [])
            assert owner.check_password(PASSWORD)
        if data == PASSWORD_CHANGE:
            assert response.status_code == 302


IDENTITY = {"full_name": "张伟", "id_number": make_id_number(sequence="881")}


@FUZZ
@given(data=form_data(IDENTITY))
@example(data=IDENTITY)
def test_identity_form(owner, data):
    """Real-name verification: refused in place with name and number kept, or verified."""
    with rolled_back():
        response = post(browser(owner), "/accounts/identity/", data)
        assert response.status_code < 500
        if response.status_code == 302:
            assert IdentityForm(as_querydict(data)).is_valid()
            assert Identity.objects.filter(user=owner).exists()
        else:
            assert_refused_in_place(response, data, ["full_name", "id_number"])
            assert not Identity.objects.filter(user=owner).exists()
        if data == IDENTITY:
            assert response.status_code == 302


def partner_consent(partner: Partner) -> dict:
    return {
        "purpose": "partner_sharing",
        "partner": str(partner.pk),
        "scope": "score",
        "stated_purpose": "押金减免 deposit waiver",
        "expires_on": in_days(30),
    }


@FUZZ
@given(data=st.data())
def test_partner_consent_form(verified, approved_partner, data):
    """Sharing with a partner from the consents page: refused in place (400) with the
    purpose and date kept, or authorised and redirected to the token."""
    valid = partner_consent(approved_partner)
    body = data.draw(
        form_data(
            {k: v for k, v in valid.items() if k != "purpose"},
            expires_on=st.dates().map(datetime.date.isoformat) | hostile_text,
        )
    )
    body = {**body, "purpose": "partner_sharing"}
    _check_partner_consent(verified, body, valid)


def test_partner_consent_form_accepts_the_valid_body(verified, approved_partner):
    """The baseline the fuzzing starts from is accepted: the test can see a success."""
    valid = partner_consent(approved_partner)
    assert _check_partner_consent(verified, valid, valid) == 302


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2026-02-30"])
def test_partner_consent_form_edge_dates(verified, approved_partner, day):
    """Dates at the edges of the calendar are refused in place, not a server error."""
    valid = partner_consent(approved_partner)
    assert _check_partner_consent(verified, {**valid, "expires_on": day}, valid) == 400


def _check_partner_consent(user, body, valid) -> int:
    with rolled_back():
        grants = PartnerAuthorization.objects.filter(grant__user=user)
        response = post(browser(user), "/accounts/consents/grant/", body)
        assert response.status_code < 500
        if response.status_code == 302:
            assert PartnerConsentForm(as_querydict(body)).is_valid()
            saved = grants.get()
            assert saved.stated_purpose == " ".join(last(body["stated_purpose"]).split())
        else:
            assert_refused_in_place(
                response, body, ["stated_purpose", "expires_on"], statuses=(400,)
            )
            assert not grants.exists()
        return response.status_code


PROFILE = {
    "education": {
        "education_level": "bachelor",
        "school": "Tsinghua University",
        "graduation_year": "2012",
    },
    "occupation": {"occupation": "employee", "employer": "Acme Technology Ltd", "work_email": ""},
    "vehicle": {"vehicle_owned": "True", "vehicle_value": "100k_300k"},
    "property": {"property_owned": "True", "property_mortgaged": "False"},
    "provident_fund": {"provident_fund_months": "36"},
    "income": {"income_band": "8k_12k"},
    "address": {"address": "北京市朝阳区建国路 88 号", "address_years": "3"},
    "phone": {"phone": "138 0013 8000"},
}


@pytest.mark.parametrize("section", list(PROFILE))
def test_profile_step_forms(verified, section):
    """Each profile step: refused in place (400) with every typed value kept and nothing
    saved, or saved and on to the next step."""

    @FUZZ
    @given(data=form_data(PROFILE[section]))
    @example(data=PROFILE[section])
    def check(data):
        with rolled_back():
            before = Profile.objects.filter(user=verified).values().first()
            form = PROFILE_FORMS[section](
                as_querydict(data), instance=profile_get(user=verified), birth_date=BIRTH
            )
            response = post(browser(verified), f"/accounts/profile/{section}/", data)
            assert response.status_code < 500
            if response.status_code == 302:
                assert form.is_valid(), form.errors
                saved = Profile.objects.get(user=verified)
                for name in text_fields(form):
                    assert getattr(saved, name) == form.cleaned_data[name]
            else:
                assert_refused_in_place(response, data, text_fields(form), statuses=(400,))
                assert Profile.objects.filter(user=verified).values().first() == before
            if data == PROFILE[section]:
                assert response.status_code == 302

    check()


@pytest.fixture
def work_email_code(verified) -> str:
    account_services.profile_update(
        user=verified,
        sections={
            "occupation": {
                "occupation": "employee",
                "employer": "Acme",
                "work_email": "wei@acme-tech.cn",
            }
        },
    )
    return re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)


@FUZZ
@given(data=st.data())
def test_work_email_code_form(verified, work_email_code, data):
    """The work-email code: refused in place (400) with the typed code kept, or
    verified and redirected."""
    valid = {"code": work_email_code}
    body = data.draw(form_data(valid) | st.just(valid))
    with rolled_back():
        response = post(browser(verified), "/accounts/profile/work-email/code/", body)
        assert response.status_code < 500
        profile = Profile.objects.get(user=verified)
        if response.status_code == 302:
            assert WorkEmailCodeForm(as_querydict(body)).is_valid()
            assert profile.work_email_verified_at is not None
        else:
            assert_refused_in_place(response, body, ["code"], statuses=(400,))
            assert profile.work_email_verified_at is None
        if body == valid:
            assert response.status_code == 302


@FUZZ
@given(data=form_data({"password": PASSWORD}))
@example(data={"password": PASSWORD})
def test_delete_account_form(owner, data):
    """Deleting my account: refused (400) with a message unless the password is mine."""
    with rolled_back():
        response = post(browser(owner), "/accounts/me/data/", data)
        assert response.status_code < 500
        if response.status_code == 302:
            assert PasswordConfirmForm(as_querydict(data)).is_valid()
            assert last(data["password"]) == PASSWORD
            assert not User.objects.filter(pk=owner.pk).exists()
        else:
            assert_refused_in_place(response, data, [], statuses=(400,))
            assert User.objects.filter(pk=owner.pk).exists()
        if data == {"password": PASSWORD}:
            assert response.status_code == 302


NOTIFY = {"by_email": "on", "email": "wei@example.com"}


@FUZZ
@given(data=form_data(NOTIFY))
@example(data=NOTIFY)
def test_notification_email_form(owner, data):
    """Score emails on or off: refused in place with the address kept, or saved."""
    with rolled_back():
        owner.refresh_from_db()  # an earlier example may have changed it in memory
        form = NotificationEmailForm(as_querydict(data), user=owner)
        form.is_valid()
        response = post(browser(owner), "/accounts/notifications/", data)
        assert response.status_code < 500
        if response.status_code == 302:
            assert form.is_valid()
            owner.refresh_from_db()
            assert owner.email == form.cleaned_data.get("email", "")
        else:
            assert_refused_in_place(response, data, ["email"])
        if data == NOTIFY:
            assert response.status_code == 302


# --- Benefits and score forms ---------------------------------------------------------------------


@pytest.fixture
def offered(verified, approved_partner):
    """A published benefit of the approved partner."""
    return make_benefit(approved_partner, 600)


@FUZZ
@given(data=st.data())
def test_partner_link_form(verified, approved_partner, offered, data):
    """Confirming a partner's link: refused (400) with a message and nothing granted,
    the link's terms kept when only the score box is missing, or authorised."""
    valid = {
        "scope": "eligibility",
        "purpose": "免押金骑行",
        "benefit": str(offered.pk),
        "days": "30",
    }
    body = data.draw(form_data({**valid, "show_score": "on"}) | st.just(valid))
    url = f"/benefits/partners/{approved_partner.pk}/authorize/"
    with rolled_back():
        form = PartnerLinkForm(as_querydict(body), partner=approved_partner, confirming=True)
        response = post(browser(verified), url, body)
        assert response.status_code < 500
        grants = PartnerAuthorization.objects.filter(grant__user=verified, partner=approved_partner)
        if response.status_code == 302:
            assert form.is_valid()
            assert grants.get().stated_purpose == " ".join(last(body["purpose"]).split())[:200]
        else:
            kept = ["purpose"] if set(form.errors) == {"show_score"} else []
            assert_refused_in_place(response, body, kept, statuses=(400,))
            assert not grants.exists()
        if body == valid:
            assert response.status_code == 302


WHAT_IF = {"repay_overdue": "on", "provident_fund_months": "24", "income_band": "8k_12k"}


@FUZZ
@given(data=form_data(WHAT_IF))
@example(data=WHAT_IF)
def test_what_if_form(scored, data):
    """What-if: a result for valid changes, else the form again with a message and the
    typed months kept; never a saved change."""
    with rolled_back():
        snapshots = ScoreSnapshot.objects.filter(user=scored).count()
        response = post(browser(scored), "/score/what-if/", data)
        assert response.status_code == 200
        # The page offers only the levers that apply to the person: so does the oracle
        # (an ordinary file has nothing overdue: a posted repay_overdue is no change).
        levers = what_if_levers_for(
            facts=record_facts(user=scored, today=timezone.localdate()),
            profile=profile_get(user=scored),
        )
        form = WhatIfForm(as_querydict(data), levers=levers)
        page = response.content.decode()
        if form.is_valid() and form.changes():
            assert 'class="what-if-score"' in page
            assert "errorlist" not in page
        elif form.is_valid():
            assert "Choose at least one change to try." in page
        else:
            assert_refused_in_place(response, data, ["provident_fund_months"])
        assert ScoreSnapshot.objects.filter(user=scored).count() == snapshots


PROOF = {"shows": "at_least", "threshold": "600", "lifetime": "7d", "show_name": "on"}


@FUZZ
@given(data=form_data(PROOF))
@example(data=PROOF)
def test_proof_form(scored, data):
    """A score proof: refused in place with the threshold kept, or made and shown."""
    with rolled_back():
        response = post(browser(scored), "/score/proofs/", data)
        assert response.status_code < 500
        if response.status_code == 302:
            assert ProofForm(as_querydict(data)).is_valid()
            assert ScoreProof.objects.filter(user=scored).count() == 1
        else:
            assert_refused_in_place(response, data, ["threshold"])
            assert not ScoreProof.objects.filter(user=scored).exists()
        if data == PROOF:
            assert response.status_code == 302


uploads = st.one_of(
    st.none(),
    st.builds(
        lambda head, body, name: SimpleUploadedFile(name or "f", head + body),
        st.sampled_from([b"", PDF, b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"MZ", b"<html>"]),
        st.binary(max_size=200),
        st.text(max_size=60).filter(lambda n: "\x00" not in n and "/" not in n),
    ),
)


@FUZZ
@given(data=st.data())
def test_dispute_form(verified, late_repayment, data):
    """Filing a dispute (multipart, with any file): refused in place (400) with the
    statement kept and nothing filed, or filed and redirected."""
    valid = {"kind": "repayment", "record": str(late_repayment.pk), "statement": "I paid."}
    body = data.draw(form_data({"statement": valid["statement"]}) | st.just({}))
    body = {**body, "kind": "repayment", "record": valid["record"]}
    upload = data.draw(uploads)
    with rolled_back():
        files = {"attachment": upload} if upload is not None else {}
        response = post(
            browser(verified), "/score/disputes/new/", {**body, **files}, multipart=True
        )
        assert response.status_code < 500
        if upload is not None:
            upload.seek(0)
        filed = Dispute.objects.filter(user=verified)
        if response.status_code == 302:
            form = DisputeForm(as_querydict(body), files)
            assert form.is_valid()
            assert filed.get().statement == form.cleaned_data["statement"].strip()
        else:
            assert_refused_in_place(response, body, ["statement"], statuses=(400,))
            assert not filed.exists()


def test_dispute_form_accepts_the_valid_body(verified, late_repayment):
    """The baseline the fuzzing starts from is filed: the test can see a success."""
    body = {"kind": "repayment", "record": str(late_repayment.pk), "statement": "I paid."}
    response = post(browser(verified), "/score/disputes/new/", body, multipart=True)
    assert response.status_code == 302
    assert Dispute.objects.filter(user=verified).count() == 1


@FUZZ
@given(data=form_data({"text": "2026年3月住院, 还款晚了12天。"}))
@example(data={"text": "2026年3月住院, 还款晚了12天。"})
@example(data={"text": "x" * 301})
def test_personal_statement_form(verified, data):
    """The personal statement: refused in place (400) with the text kept, or saved (or
    removed when empty) and redirected."""
    with rolled_back():
        response = post(browser(verified), "/score/statement/", data)
        assert response.status_code < 500
        form = StatementForm(as_querydict(data))
        saved = PersonalStatement.objects.filter(user=verified).first()
        if response.status_code == 302:
            assert form.is_valid()
            text = form.cleaned_data["text"].strip()
            assert (saved.text if saved else "") == text
        else:
            assert_refused_in_place(response, data, ["text"], statuses=(400,))
            assert saved is None
        if data == {"text": "x" * 301}:
            assert response.status_code == 400


# --- Admin forms ----------------------------------------------------------------------------------

MANAGEMENT = re.compile(r'name="([^"]+-(?:TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS)"[^>]*value="(\d*)"')


def management_form(client, url: str) -> dict[str, str]:
    """The inline formsets' management fields, as the admin page renders them."""
    page = client.get(url).content.decode()
    return dict(MANAGEMENT.findall(page))


@pytest.fixture
def admin_browser(admin_user):
    return browser(admin_user)


def _admin_check(admin_user, url, body, *, model, kept, valid_body, multipart=False):
    """An admin form: refused in place (200) with the typed text kept and nothing
    created, or created and redirected."""
    with rolled_back():
        count = model.objects.count()
        response = post(browser(admin_user), url, body, multipart=multipart)
        assert response.status_code < 500
        if response.status_code == 302:
            assert model.objects.count() == count + 1
        else:
            assert_refused_in_place(response, body, kept, statuses=(200,))
            assert model.objects.count() == count
        if body == valid_body:
            assert response.status_code == 302, response.content.decode()[:3000]
        return response


PARTNER_ADD = {
    "name": "悦途酒店 Joyway",
    "category": "hotel",
    "licence_number": "HT-1",
    "rate_limit_per_minute": "120",
    "daily_quota": "20000",
}


@FUZZ
@given(data=st.data())
def test_admin_partner_form(admin_user, admin_browser, data):
    """Adding a partner in the admin, with the inlines' management fields in place."""
    url = "/admin/benefits/partner/add/"
    management = management_form(admin_browser, url)
    valid = {**PARTNER_ADD, **management}
    body = {**data.draw(form_data(PARTNER_ADD) | st.just(PARTNER_ADD)), **management}
    _admin_check(admin_user, url, body, model=Partner, kept=list(PARTNER_ADD), valid_body=valid)


def benefit_add(partner: Partner) -> dict[str, str]:
    return {
        "partner": str(partner.pk),
        "category": "bike_rental",
        "title_zh": "免押金骑行",
        "title_en": "Deposit-free bikes",
        "terms_zh": "凭券免押金。",
        "terms_en": "No deposit.",
        "min_score": "600",
        "min_subscores": '{"capacity": 40}',
        "min_age": "18",
        "regions": '["31", "4403"]',
        "active_from_0": in_days(0),
        "active_from_1": "08:00:00",
        "active_to_0": "",
        "active_to_1": "",
        "quota": "100",
        "voucher_days": "30",
    }


deep_json = st.integers(1, 100_000).map(lambda depth: "[" * depth + "]" * depth)


@FUZZ
@given(data=st.data())
def test_admin_benefit_form(admin_user, admin_browser, approved_partner, data):
    """Adding a benefit in the admin, JSON fields included (even nested past Python's
    recursion limit)."""
    valid = benefit_add(approved_partner)
    json_text = hostile_text | deep_json | st.just('{"capacity": 1e999}')
    body = data.draw(form_data(valid, min_subscores=json_text, regions=json_text) | st.just(valid))
    kept = ["title_zh", "title_en", "terms_zh", "terms_en", "min_score", "min_age", "quota"]
    _admin_check(
        admin_user, "/admin/benefits/benefit/add/", body, model=Benefit, kept=kept, valid_body=valid
    )


@pytest.mark.parametrize(
    "json_text",
    [
        "[" * 10 + "]" * 10,
        "[" * 5_000 + "]" * 5_000,
        "[" * 200_000 + "]" * 200_000,
        '{"capacity": ' + "9" * 5_000 + "}",
    ],
    ids=["nested-10", "nested-5000", "nested-200000", "5000-digit-number"],
)
@pytest.mark.parametrize("field", ["regions", "min_subscores"])
def test_admin_benefit_form_json_the_decoder_chokes_on(
    admin_user, approved_partner, json_text, field
):
    """JSON nested deeper than Python recurses, or with a number longer than Python
    converts, is refused in place with the text kept, not a server error."""
    body = {**benefit_add(approved_partner), field: json_text}
    _admin_check(
        admin_user,
        "/admin/benefits/benefit/add/",
        body,
        model=Benefit,
        kept=["title_zh", field],
        valid_body=None,
    )


REASON = {"reason": "Licence checked against the registry."}


@pytest.fixture
def pending_partner(db) -> Partner:
    return make_partner("待审 Pending", status=Partner.Status.PENDING)


@FUZZ
@given(data=form_data(REASON))
@example(data=REASON)
def test_admin_status_reason_form(admin_user, pending_partner, data):
    """Approving a partner asks for a reason: refused in place with the reason kept, or
    the status changes and the list comes back."""
    body = {**data, "action": "approve", "_selected_action": str(pending_partner.pk), "apply": "1"}
    with rolled_back():
        pending_partner.refresh_from_db()
        response = post(browser(admin_user), "/admin/benefits/partner/", body)
        assert response.status_code < 500
        pending_partner.refresh_from_db()
        if response.status_code == 302:
            assert StatusReasonForm(as_querydict(data)).is_valid()
            assert pending_partner.status == Partner.Status.APPROVED
        else:
            assert_refused_in_place(response, body, ["reason"], statuses=(200,))
            assert pending_partner.status == Partner.Status.PENDING
        if data == REASON:
            assert response.status_code == 302


csv_bodies = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda text: text.encode("utf-8")),
    st.lists(st.tuples(hostile_text, hostile_text).map(lambda row: ",".join(row)), max_size=5).map(
        lambda rows: ("name,id_number\n" + "\n".join(rows)).encode("utf-8", "replace")
    ),
)


@FUZZ
@given(content=csv_bodies, name=st.text(min_size=1, max_size=40).filter(lambda n: "/" not in n))
@example(content=f"name,id_number\n张伟,{make_id_number()}\n".encode(), name="list.csv")
def test_admin_court_list_upload_form(admin_user, content, name):
    """A court-list upload of any bytes: a clear refusal, or an import record."""
    with rolled_back():
        imports = CourtListImport.objects.count()
        upload = SimpleUploadedFile(name.replace("\x00", "") or "f", content)
        client = browser(admin_user)
        response = client.post("/admin/scoring/courtlistimport/add/", {"upload": upload})
        assert response.status_code < 500
        if response.status_code == 302 and response["Location"].endswith("/add/"):
            # Refused by the import itself: back to the form with the reason as a message.
            assert 'class="error"' in client.get(response["Location"]).content.decode()
            assert CourtListImport.objects.count() == imports
        elif response.status_code == 302:
            assert CourtListImport.objects.count() == imports + 1
        else:
            assert_refused_in_place(response, {}, [], statuses=(200,))
            assert CourtListImport.objects.count() == imports


@FUZZ
@given(data=st.data())
def test_admin_api_key_form(admin_user, approved_partner, data):
    """A new API key: refused in place with the label kept, or created (shown once)."""
    valid = {"partner": str(approved_partner.pk), "label": "收银台 till 1"}
    body = data.draw(form_data(valid) | st.just(valid))
    _admin_check(
        admin_user,
        "/admin/benefits/partnerapikey/add/",
        body,
        model=PartnerApiKey,
        kept=["label"],
        valid_body=valid,
    )


@pytest.fixture
def open_dispute(verified, late_repayment) -> Dispute:
    from scoring.services.disputes import dispute_file

    return dispute_file(
        user=verified, kind="repayment", record_id=late_repayment.pk, field="", statement="x"
    )


@FUZZ
@given(data=st.data())
def test_admin_dispute_answer_form(admin_user, admin_browser, open_dispute, data):
    """Answering a dispute: refused in place with the note kept, or the new status."""
    url = f"/admin/scoring/dispute/{open_dispute.pk}/change/"
    management = management_form(admin_browser, url)
    answer = {"status": "under_review", "note": "We asked the bank."}
    body = {**data.draw(form_data(answer) | st.just(answer)), **management}
    with rolled_back():
        form = DisputeAnswerForm(
            as_querydict(body), instance=Dispute.objects.get(pk=open_dispute.pk)
        )
        valid = form.is_valid()
        response = post(browser(admin_user), url, body)
        assert response.status_code < 500
        open_dispute.refresh_from_db()
        if response.status_code == 302:
            assert valid
            assert open_dispute.status == form.cleaned_data["status"]
        else:
            assert_refused_in_place(response, body, ["note"], statuses=(200,))
            assert open_dispute.status == "received"
        if body == {**answer, **management}:
            assert response.status_code == 302


CONSENT_TEXT = {
    "purpose": "scoring",
    "version": "99",
    "title_zh": "评分授权",
    "title_en": "Scoring",
    "body_zh": "正文",
    "body_en": "Body",
    "published_at_0": in_days(0),
    "published_at_1": "08:00:00",
}


@FUZZ
@given(data=form_data(CONSENT_TEXT))
@example(data=CONSENT_TEXT)
def test_admin_consent_text_form(admin_user, data):
    """A new consent wording: refused in place with its texts kept, or added."""
    _admin_check(
        admin_user,
        "/admin/accounts/consenttext/add/",
        data,
        model=ConsentText,
        kept=["version", "title_zh", "title_en", "body_zh", "body_en"],
        valid_body=CONSENT_TEXT,
    )


USER_ADD = {
    "username": "clerk",
    "password1": NEW_PASSWORD,
    "password2": NEW_PASSWORD,
    "usable_password": "true",
}


@FUZZ
@given(data=st.data())
def test_admin_user_add_form(admin_user, admin_browser, data):
    """Adding a user in the admin: refused in place with the username kept, or added."""
    url = "/admin/accounts/user/add/"
    management = management_form(admin_browser, url)
    valid = {**USER_ADD, **management}
    body = {**data.draw(form_data(USER_ADD) | st.just(USER_ADD)), **management}
    _admin_check(admin_user, url, body, model=User, kept=["username"], valid_body=valid)


# --- Forms without fields: buttons ----------------------------------------------------------------


@FUZZ
@given(body=extra_fields)
def test_button_forms_ignore_unknown_fields(verified, late_repayment, body):
    """The one-button forms (recompute, logout, clear a profile step, resend a code,
    revoke a consent): whatever extra fields come with them, never a server error."""
    consent = ConsentGrant.objects.filter(user=verified).first()
    with rolled_back():
        client = browser(verified)
        for url in (
            "/score/recompute/",
            "/accounts/profile/phone/clear/",
            "/accounts/profile/work-email/resend/",
            f"/accounts/consents/{consent.pk}/revoke/",
            "/benefits/999999/claim/",
            "/score/proofs/999999/revoke/",
            "/accounts/logout/",
        ):
            response = post(client, url, body)
            assert response.status_code in (302, 404), (url, response.status_code)


@FUZZ
@given(purpose=st.one_of(hostile_text, st.sampled_from(ConsentPurpose.values)))
def test_consent_buttons_with_any_purpose(verified, purpose):
    """The consent buttons post a purpose: any other value is refused with a message,
    never a server error, and no grant is recorded for it."""
    with rolled_back():
        before = ConsentGrant.objects.filter(user=verified).count()
        client = browser(verified)
        response = post(client, "/accounts/consents/grant/", {"purpose": purpose})
        assert response.status_code in (302, 400)
        if purpose not in ConsentPurpose.values:
            assert response.status_code == 302
            assert "message-error" in client.get(response["Location"]).content.decode()
            assert ConsentGrant.objects.filter(user=verified).count() == before


@FUZZ
@given(data=form_data({"language": "en", "next": "/score/history/"}))
def test_language_switch_form(db, data):
    """The language switch: any language or next address gives a redirect inside the
    portal, never a server error or a jump to another site."""
    response = post(browser(), "/i18n/setlang/", data)
    assert response.status_code in (200, 204, 302), response.status_code
    if response.status_code == 302:
        location = response["Location"]
        target = urlsplit(location)
        assert (target.scheme, target.netloc) == ("", ""), location
        assert not location.replace("\\", "/").startswith("//"), location


# --- Each form class on its own -------------------------------------------------------------------


def _form_classes():
    """(name, factory) for every form class: the factory binds data as its view does."""
    partner = lambda: Partner.objects.first()  # noqa: E731

    def profile(form_class):
        return lambda data, user: form_class(
            data, instance=profile_get(user=user), birth_date=BIRTH
        )

    cases = {
        "SignupForm": lambda data, user: SignupForm(data),
        "IdentityForm": lambda data, user: IdentityForm(data),
        "PartnerConsentForm": lambda data, user: PartnerConsentForm(data),
        "WorkEmailCodeForm": lambda data, user: WorkEmailCodeForm(data),
        "PasswordConfirmForm": lambda data, user: PasswordConfirmForm(data),
        "NotificationEmailForm": lambda data, user: NotificationEmailForm(data, user=user),
        "AuthenticationForm": lambda data, user: AuthenticationForm(login_request(), data),
        "PasswordChangeForm": lambda data, user: PasswordChangeForm(user, data),
        "PartnerLinkForm": lambda data, user: PartnerLinkForm(data, partner=partner()),
        "PartnerLinkForm(confirming)": lambda data, user: PartnerLinkForm(
            data, partner=partner(), confirming=True
        ),
        "WhatIfForm": lambda data, user: WhatIfForm(data),
        "ProofForm": lambda data, user: ProofForm(data),
        "DisputeForm": lambda data, user: DisputeForm(data, {}),
        "StatementForm": lambda data, user: StatementForm(data),
        "StatusReasonForm": lambda data, user: StatusReasonForm(data),
        "CourtListUploadForm": lambda data, user: CourtListUploadForm(data, {}),
        "PartnerApiKeyForm": lambda data, user: PartnerApiKeyForm(data),
        "DisputeAnswerForm": lambda data, user: DisputeAnswerForm(
            data, instance=Dispute(status="received")
        ),
    }
    for form_class in PROFILE_FORMS.values():
        cases[form_class.__name__] = profile(form_class)
    for model in (Partner, Benefit, ConsentText, PartnerApiKey):
        cases[f"{model.__name__}Admin.form"] = admin_form(model)
    return cases


def admin_form(model):
    """The add form the admin builds for the model (widgets, overrides and all)."""

    def make(data, user):
        request = RequestFactory().get("/admin/")
        request.user = User(username="root", is_staff=True, is_superuser=True)
        return admin.site._registry[model].get_form(request)(data)

    return make


FORM_CLASSES = _form_classes()


@pytest.mark.parametrize("form_name", sorted(FORM_CLASSES))
def test_form_classes_never_raise(verified, approved_partner, form_name):
    """Validating and rendering any data never raises; a refusal names its problem and
    the rendered form still holds what was typed."""
    make = FORM_CLASSES[form_name]
    fields = list(make({}, verified).fields)

    @FUZZ
    @given(data=form_data(dict.fromkeys(fields, "")))
    def check(data):
        form = make(as_querydict(data), verified)
        valid = form.is_valid()
        assert isinstance(valid, bool)
        html = form.render()
        if not valid:
            assert form.errors
            assert all(str(message) for errors in form.errors.values() for message in errors)
        for name in text_fields(form):
            # JSON is shown again as parsed when it parses (" 1" as "1").
            if name in data and not isinstance(form.fields[name], forms.JSONField):
                assert escape(last(data[name])) in html, name

    check()
