"""Profile completion: the section rules, completion, work-email verification, the score
recompute a saved step queues, the API at /api/v1/me/profile/ and the step pages under
/accounts/profile/.

Messages are checked in English (Accept-Language: en); the default language is zh-hans.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.core import mail
from django.forms.models import model_to_dict
from django.utils import timezone, translation
from django.utils.html import escape

from accounts import services
from accounts.clients import Client
from accounts.models import ConsentGrant, FieldMark, Profile, WorkEmailChallenge
from accounts.profile_sections import SECTION_KEYS, SECTIONS, completion_percent
from accounts.selectors import profile_get
from scoring.models import PendingRecompute
from sesame_portal.errors import FieldsInvalid, ServiceError
from tests.dates import today
from tests.factories import make_id_number

pytestmark = pytest.mark.django_db

PROFILE_API = "/api/v1/me/profile/"
CODE_API = "/api/v1/me/profile/work-email/code/"
RESEND_API = "/api/v1/me/profile/work-email/resend/"
OVERVIEW_PAGE = "/accounts/profile/"
SCORE_HOME = "/"
CODE_PAGE = "/accounts/profile/work-email/code/"
RESEND_PAGE = "/accounts/profile/work-email/resend/"
LOGIN_PAGE = "/accounts/login/"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
HTMX = {"HTTP_HX_REQUEST": "true"}

BIRTH = datetime.date(2000, 1, 1)
WORK_EMAIL = "zhang.san@acme-tech.cn"

# One valid set of values per section, as JSON would carry them. Valid also for a person
# born on BIRTH.
VALID: dict[str, dict[str, object]] = {
    "education": {
        "education_level": "bachelor",
        "school": "Tsinghua University",
        "graduation_year": 2022,
    },
    "occupation": {"occupation": "employee", "employer": "Acme Technology Ltd", "work_email": ""},
    "vehicle": {"vehicle_owned": True, "vehicle_value": "100k_300k"},
    "property": {"property_owned": True, "property_mortgaged": False},
    "provident_fund": {"provident_fund_months": 36},
    "income": {"income_band": "8k_12k"},
    "address": {"address": "北京市朝阳区建国路 88 号", "address_years": 3},
    "phone": {"phone": "13800138000"},
}
SCORED_SECTIONS = [s.key for s in SECTIONS if s.used_by_score]


def step_url(section: str) -> str:
    return f"/accounts/profile/{section}/"


def form_data(values: dict[str, object]) -> dict[str, str]:
    """What a browser posts for these values."""
    return {key: "" if value is None else str(value) for key, value in values.items()}


def age_today() -> int:
    day = today()
    return day.year - BIRTH.year - ((day.month, day.day) < (BIRTH.month, BIRTH.day))


def saved_profile(user) -> dict[str, object]:
    profile = Profile.objects.filter(user=user).first()
    return model_to_dict(profile) if profile else {}


def save(user, section: str, **changes) -> None:
    services.profile_update(user=user, sections={section: {**VALID[section], **changes}})


def mailed_code(index: int = -1) -> str:
    return re.search(r"\b(\d{6})\b", mail.outbox[index].body).group(1)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def start_work_email(user, email: str = WORK_EMAIL) -> str:
    save(user, "occupation", work_email=email)
    return mailed_code()


def verify_refused(user, code: str) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        services.work_email_verify(user=user, code=code)
    return caught.value


@pytest.fixture
def verified_owner(owner):
    """The owner with a verified identity, born on BIRTH."""
    services.identity_verify(
        user=owner, full_name="张三", id_number=make_id_number(birth=BIRTH.strftime("%Y%m%d"))
    )
    return owner


@pytest.fixture
def scoring_consent(owner):
    grant = services.consent_grant(user=owner, purpose="scoring", client=Client(channel="web"))
    # Granting queued a first recompute; consider it done, so each test sees its own.
    PendingRecompute.objects.filter(user=owner).delete()
    return grant


@pytest.fixture
def en_client(owner_client):
    owner_client.defaults.update(EN)
    return owner_client


@pytest.fixture
def en_api(owner_api):
    owner_api.credentials(**EN)
    return owner_api


@pytest.fixture(params=["page", "api", "service"])
def submit(request, owner, en_client, en_api):
    """Send one section's values through the step page, the API or straight to the
    profile service (which checks them itself before it saves); return the status and
    the messages per field (empty when accepted)."""

    def send(section: str, values: dict[str, object]) -> tuple[int, dict[str, list[str]]]:
        if request.param == "service":
            refused = None
            with translation.override("en"):
                try:
                    services.profile_update(user=owner, sections={section: values})
                except FieldsInvalid as error:
                    refused = error
            if refused is None:
                return 200, {}
            assert refused.code == "invalid"
            assert refused.message == next(iter(refused.fields.values()))[0]
            return 400, refused.fields
        if request.param == "page":
            response = en_client.post(step_url(section), form_data(values))
            if response.status_code != 400:
                return response.status_code, {}
            form = response.context["form"]
            content = response.content.decode()
            errors = {}
            for field, messages in form.errors.items():
                # What the person sees is what the page shows.
                errors[field] = [m for m in messages if escape(m) in content]
            return 400, errors
        response = en_api.patch(PROFILE_API, values, format="json")
        if response.status_code != 400:
            return response.status_code, {}
        body = response.json()
        assert body["code"] == "invalid"
        assert body["message"]
        return 400, body["fields"]

    send.channel = request.param
    return send


# --- Saving valid values ---------------------------------------------------------------------


@pytest.mark.parametrize("section", SECTION_KEYS)
def test_valid_section_saves_values_marked_self_declared_with_time(submit, owner, section):
    before = timezone.now()

    status, errors = submit(section, VALID[section])

    assert errors == {}
    assert status in (200, 302)
    profile = Profile.objects.get(user=owner)
    for field, value in VALID[section].items():
        assert getattr(profile, field) == value
        if value in ("", None):
            assert field not in profile.field_marks
            continue
        mark = profile.field_marks[field]
        assert mark["mark"] == FieldMark.SELF_DECLARED
        at = datetime.datetime.fromisoformat(mark["at"])
        assert before <= at <= timezone.now()


def test_student_employer_and_work_email_are_ignored_and_cleared(submit, owner):
    save(owner, "occupation")

    status, errors = submit(
        "occupation", {"occupation": "student", "employer": "Acme", "work_email": WORK_EMAIL}
    )

    assert errors == {}
    assert status in (200, 302)
    profile = Profile.objects.get(user=owner)
    assert (profile.occupation, profile.employer, profile.work_email) == ("student", "", "")
    assert "employer" not in profile.field_marks
    assert mail.outbox == []


def test_vehicle_value_is_cleared_when_no_vehicle_is_owned(submit, owner):
    save(owner, "vehicle")

    status, errors = submit("vehicle", {"vehicle_owned": False, "vehicle_value": "gt300k"})

    assert errors == {}
    assert status in (200, 302)
    profile = Profile.objects.get(user=owner)
    assert profile.vehicle_owned is False
    assert profile.vehicle_value == ""
    assert "vehicle_value" not in profile.field_marks


def test_mortgage_answer_is_cleared_when_no_property_is_owned(submit, owner):
    save(owner, "property", property_mortgaged=True)

    status, errors = submit("property", {"property_owned": False, "property_mortgaged": True})

    assert errors == {}
    assert status in (200, 302)
    profile = Profile.objects.get(user=owner)
    assert profile.property_owned is False
    assert profile.property_mortgaged is None


@pytest.mark.parametrize(
    "typed",
    [
        "+86 138 0013 8000",
        "138-0013-8000",
        "+86-138-0013-8000",
        "0086 13800138000",
        " 13800138000 ",
        "(138) 0013 8000",
    ],
)
def test_phone_is_normalised_to_eleven_digits(submit, owner, typed):
    status, errors = submit("phone", {"phone": typed})

    assert errors == {}
    assert status in (200, 302)
    assert Profile.objects.get(user=owner).phone == "13800138000"


def test_work_email_is_saved_in_lower_case(submit, owner):
    status, errors = submit("occupation", {**VALID["occupation"], "work_email": "Zhang@ACME.cn"})

    assert errors == {}
    assert status in (200, 302)
    assert Profile.objects.get(user=owner).work_email == "zhang@acme.cn"


# --- Refusals --------------------------------------------------------------------------------

NEXT_YEAR = today().year + 1
PLAIN_TEXT = "Use plain text: the characters < and > are not allowed."
CONTROL = "Remove the invisible control characters."
WEBMAIL = "is a personal mailbox. Enter the email address your employer gave you."
MOBILE = "Enter an 11-digit mainland mobile number starting with 1."

RULES = [
    ("education", {"graduation_year": NEXT_YEAR}, "graduation_year", "cannot be in the future"),
    ("education", {"graduation_year": 1949}, "graduation_year", "Enter a year from 1950 on."),
    ("education", {"graduation_year": 10**12}, "graduation_year", "cannot be in the future"),
    ("education", {"education_level": ""}, "education_level", "This field is required."),
    ("education", {"school": "<b>Tsinghua</b>"}, "school", PLAIN_TEXT),
    ("education", {"school": "Tsinghua > Peking"}, "school", PLAIN_TEXT),
    ("education", {"school": "Tsing\x07hua"}, "school", CONTROL),
    ("education", {"school": "Tsing\u200bhua"}, "school", CONTROL),
    ("education", {"school": "x" * 10_000}, "school", "at most 100 characters"),
    ("occupation", {"employer": ""}, "employer", "Enter your employer's name."),
    ("occupation", {"occupation": ""}, "occupation", "This field is required."),
    ("occupation", {"employer": "Acme <Ltd>"}, "employer", PLAIN_TEXT),
    ("occupation", {"employer": "Acme\u202eLtd"}, "employer", CONTROL),
    ("occupation", {"employer": "x" * 10_000}, "employer", "at most 100 characters"),
    ("occupation", {"work_email": "zhang@qq.com"}, "work_email", "qq.com " + WEBMAIL),
    ("occupation", {"work_email": "zhang@163.com"}, "work_email", "163.com " + WEBMAIL),
    ("occupation", {"work_email": "zhang@gmail.com"}, "work_email", "gmail.com " + WEBMAIL),
    ("occupation", {"work_email": "Zhang@GMail.COM"}, "work_email", "gmail.com " + WEBMAIL),
    ("occupation", {"work_email": "zhang@QQ.com"}, "work_email", "qq.com " + WEBMAIL),
    ("occupation", {"work_email": "x" * 10_000 + "@acme.cn"}, "work_email", "at most 254"),
    ("vehicle", {"vehicle_value": ""}, "vehicle_value", "Choose the vehicle's approximate value."),
    ("vehicle", {"vehicle_owned": None}, "vehicle_owned", "This field is required."),
    ("property", {"property_mortgaged": None}, "property_mortgaged", "Say whether there is a"),
    ("provident_fund", {"provident_fund_months": -1}, "provident_fund_months", "negative"),
    ("provident_fund", {"provident_fund_months": 601}, "provident_fund_months", "at most 600"),
    ("provident_fund", {"provident_fund_months": 10**12}, "provident_fund_months", "at most 600"),
    ("provident_fund", {"provident_fund_months": None}, "provident_fund_months", "required"),
    ("income", {"income_band": ""}, "income_band", "This field is required."),
    ("address", {"address_years": -1}, "address_years", "cannot be negative"),
    ("address", {"address_years": 101}, "address_years", "Enter at most 100 years."),
    ("address", {"address": "<script>alert(1)</script>"}, "address", PLAIN_TEXT),
    ("address", {"address": "Jianguo Road\x1b88"}, "address", CONTROL),
    ("address", {"address": "x" * 10_000}, "address", "at most 200 characters"),
    ("phone", {"phone": "010-12345678"}, "phone", MOBILE),
    ("phone", {"phone": "12345678901"}, "phone", MOBILE),
    ("phone", {"phone": "1380013800"}, "phone", MOBILE),
    ("phone", {"phone": "+1 415 555 0100"}, "phone", MOBILE),
    ("phone", {"phone": "138001380001"}, "phone", MOBILE),
    ("phone", {"phone": "9" * 10_000}, "phone", MOBILE),
]


def _rule_id(rule) -> str:
    section, changes, field, _message = rule
    value = next(iter(changes.values()))
    shown = repr(value)[:20] if not isinstance(value, str) or len(value) < 30 else "huge"
    return f"{section}-{field}-{shown}"


@pytest.mark.parametrize(
    ("section", "changes", "field", "message"), RULES, ids=[_rule_id(r) for r in RULES]
)
def test_invalid_value_is_refused_with_message_and_nothing_saved(
    submit, owner, section, changes, field, message
):
    save(owner, section)
    before = saved_profile(owner)

    status, errors = submit(section, {**VALID[section], **changes})

    assert status == 400
    assert field in errors
    assert any(message in text for text in errors[field]), errors
    assert saved_profile(owner) == before


BIRTH_RULES = [
    ("education", {"graduation_year": 2009}, "graduation_year", "too close to your birth year"),
    ("education", {"graduation_year": 1990}, "graduation_year", "(2000)"),
    (
        "provident_fund",
        {"provident_fund_months": 240},
        "provident_fund_months",
        "more months than you have been of working age",
    ),
    (
        "address",
        {"address_years": age_today() + 1},
        "address_years",
        "That is longer than you have been alive.",
    ),
]


@pytest.mark.parametrize(
    ("section", "changes", "field", "message"), BIRTH_RULES, ids=[_rule_id(r) for r in BIRTH_RULES]
)
def test_value_impossible_for_verified_birth_date_is_refused(
    submit, verified_owner, section, changes, field, message
):
    save(verified_owner, section)
    before = saved_profile(verified_owner)

    status, errors = submit(section, {**VALID[section], **changes})

    assert status == 400
    assert any(message in text for text in errors.get(field, [])), errors
    assert saved_profile(verified_owner) == before


@pytest.mark.parametrize(
    ("section", "changes"),
    [
        ("education", {"graduation_year": 2010}),
        ("provident_fund", {"provident_fund_months": 120}),
        ("address", {"address_years": age_today()}),
    ],
)
def test_value_possible_for_verified_birth_date_is_accepted(
    submit, verified_owner, section, changes
):
    status, errors = submit(section, {**VALID[section], **changes})

    assert errors == {}
    assert status in (200, 302)
    profile = Profile.objects.get(user=verified_owner)
    for field, value in changes.items():
        assert getattr(profile, field) == value


@pytest.mark.parametrize(
    ("section", "changes"),
    [
        ("education", {"graduation_year": 2009}),
        ("provident_fund", {"provident_fund_months": 240}),
        ("address", {"address_years": age_today() + 1}),
    ],
)
def test_birth_date_rules_do_not_apply_without_verified_identity(submit, owner, section, changes):
    status, errors = submit(section, {**VALID[section], **changes})

    assert errors == {}
    assert status in (200, 302)
    profile = Profile.objects.get(user=owner)
    for field, value in changes.items():
        assert getattr(profile, field) == value


def test_service_checks_a_section_whole_with_the_saved_answers(owner):
    """The service fills what a call leaves out from the saved answers and checks the
    section whole, as the API does."""
    with pytest.raises(FieldsInvalid) as refused:
        services.profile_update(user=owner, sections={"education": {"school": "PKU"}})

    assert set(refused.value.fields) == {"education_level", "graduation_year"}
    assert not Profile.objects.filter(user=owner).exists()

    save(owner, "education")
    services.profile_update(user=owner, sections={"education": {"school": "PKU"}})

    profile = Profile.objects.get(user=owner)
    assert (profile.school, profile.graduation_year) == ("PKU", 2022)


def test_service_saves_every_section_or_none(owner, django_capture_on_commit_callbacks):
    save(owner, "income", income_band="lt3k")
    before = saved_profile(owner)

    with pytest.raises(FieldsInvalid) as refused:
        services.profile_update(
            user=owner,
            sections={
                "income": {"income_band": "gt50k"},
                "provident_fund": {"provident_fund_months": 601},
                "phone": {"phone": "13900139000"},
            },
        )

    assert refused.value.status_code == 400
    assert list(refused.value.fields) == ["provident_fund_months"]
    assert saved_profile(owner) == before


def test_huge_numeral_on_the_page_is_refused_with_message(en_client, owner):
    response = en_client.post(
        step_url("education"), form_data({**VALID["education"], "graduation_year": "9" * 10_000})
    )

    assert response.status_code == 400
    assert "graduation_year" in response.context["form"].errors
    assert not Profile.objects.filter(user=owner).exists()


def test_huge_numeral_in_the_api_is_refused_with_code(en_api, owner):
    body = '{"provident_fund_months": ' + "9" * 10_000 + "}"

    response = en_api.generic("PATCH", PROFILE_API, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"]
    assert not Profile.objects.filter(user=owner).exists()


# --- Completion ------------------------------------------------------------------------------


def test_new_user_profile_is_zero_percent_complete(owner, owner_api):
    assert completion_percent(profile_get(user=owner)) == 0
    assert owner_api.get(PROFILE_API).json()["completion"] == 0


def test_all_eight_sections_complete_make_one_hundred_percent_with_student(owner, owner_api):
    for section in SECTION_KEYS:
        save(owner, section)
    save(owner, "occupation", occupation="student", employer="")

    body = owner_api.get(PROFILE_API).json()

    assert body["completion"] == 100
    assert all(section["complete"] for section in body["sections"])
    assert completion_percent(profile_get(user=owner)) == 100


def test_completion_counts_complete_sections_out_of_eight(owner, owner_api):
    save(owner, "education")
    save(owner, "income")
    assert owner_api.get(PROFILE_API).json()["completion"] == 25

    save(owner, "phone")
    save(owner, "address")
    assert owner_api.get(PROFILE_API).json()["completion"] == 50


def test_section_without_its_dependent_answer_is_not_complete(owner):
    Profile.objects.create(
        user=owner, vehicle_owned=True, property_owned=True, occupation="employee"
    )

    assert completion_percent(profile_get(user=owner)) == 0


def test_overview_page_shows_completion(owner_client, owner):
    save(owner, "education")
    save(owner, "income")

    response = owner_client.get(OVERVIEW_PAGE)

    assert response.status_code == 200
    assert 'value="25"' in response.content.decode()


# --- Work email verification -----------------------------------------------------------------


def test_saving_a_work_email_mails_a_six_digit_code_to_it(owner):
    code = start_work_email(owner)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [WORK_EMAIL]
    assert re.fullmatch(r"\d{6}", code)
    assert Profile.objects.get(user=owner).work_email_verified_at is None


def test_right_code_marks_work_email_verified_with_time(owner):
    code = start_work_email(owner)
    before = timezone.now()

    services.work_email_verify(user=owner, code=code)

    profile = Profile.objects.get(user=owner)
    assert before <= profile.work_email_verified_at <= timezone.now()
    mark = profile.field_marks["work_email"]
    assert mark["mark"] == FieldMark.VERIFIED
    assert datetime.datetime.fromisoformat(mark["at"]) == profile.work_email_verified_at


def test_wrong_code_is_refused_and_counts_an_attempt(owner):
    code = start_work_email(owner)

    error = verify_refused(owner, wrong(code))

    assert error.code == "code_invalid"
    assert error.message
    assert WorkEmailChallenge.objects.get(user=owner).attempts == 1
    assert Profile.objects.get(user=owner).work_email_verified_at is None


def test_five_wrong_codes_end_the_challenge_even_for_the_right_code(owner):
    code = start_work_email(owner)
    for _attempt in range(WorkEmailChallenge.MAX_ATTEMPTS):
        assert verify_refused(owner, wrong(code)).code == "code_invalid"

    error = verify_refused(owner, code)

    assert error.code == "too_many_attempts"
    assert error.status_code == 429
    assert Profile.objects.get(user=owner).work_email_verified_at is None


def test_expired_code_is_refused(owner):
    code = start_work_email(owner)
    WorkEmailChallenge.objects.filter(user=owner).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )

    assert verify_refused(owner, code).code == "code_expired"
    assert Profile.objects.get(user=owner).work_email_verified_at is None


def test_new_code_supersedes_the_old_one(owner):
    old = start_work_email(owner)
    services.work_email_challenge_start(user=owner)
    new = mailed_code()

    assert verify_refused(owner, old).code == "code_invalid"
    services.work_email_verify(user=owner, code=new)

    assert Profile.objects.get(user=owner).work_email_verified_at is not None
    assert WorkEmailChallenge.objects.filter(user=owner, superseded=True).count() == 1


def test_changing_the_work_email_drops_its_verification_and_mails_the_new_one(owner):
    services.work_email_verify(user=owner, code=start_work_email(owner))

    save(owner, "occupation", work_email="li.si@acme-tech.cn")

    profile = Profile.objects.get(user=owner)
    assert profile.work_email_verified_at is None
    assert profile.field_marks["work_email"]["mark"] == FieldMark.SELF_DECLARED
    assert mail.outbox[-1].to == ["li.si@acme-tech.cn"]


def test_code_of_the_previous_work_email_does_not_verify_the_new_one(owner):
    old_code = start_work_email(owner)
    save(owner, "occupation", work_email="li.si@acme-tech.cn")

    assert verify_refused(owner, old_code).code == "code_invalid"
    assert Profile.objects.get(user=owner).work_email_verified_at is None


def test_work_email_codes_are_stored_only_hashed(owner):
    code = start_work_email(owner)

    row = WorkEmailChallenge.objects.get(user=owner)
    assert re.fullmatch(r"[0-9a-f]{64}", row.code_hash)
    for value in model_to_dict(row).values():
        assert code not in str(value)


def test_at_most_five_codes_an_hour(owner):
    start_work_email(owner)
    for _resend in range(4):
        services.work_email_challenge_start(user=owner)

    with pytest.raises(ServiceError) as caught:
        services.work_email_challenge_start(user=owner)

    assert caught.value.code == "rate_limited"
    assert caught.value.status_code == 429
    assert len(mail.outbox) == 5


def test_codes_older_than_an_hour_do_not_count_towards_the_limit(owner):
    start_work_email(owner)
    for _resend in range(4):
        services.work_email_challenge_start(user=owner)
    WorkEmailChallenge.objects.filter(user=owner).update(
        created_at=timezone.now() - datetime.timedelta(hours=1, minutes=1)
    )

    services.work_email_challenge_start(user=owner)

    assert len(mail.outbox) == 6


def test_resend_refused_without_a_work_email(owner):
    save(owner, "occupation")

    with pytest.raises(ServiceError) as caught:
        services.work_email_challenge_start(user=owner)

    assert caught.value.code == "no_work_email"
    assert mail.outbox == []


# --- Score recompute queue -------------------------------------------------------------------


@pytest.mark.parametrize("section", SCORED_SECTIONS)
def test_saved_step_of_scored_section_queues_one_recompute(
    owner_client,
    owner,
    scoring_consent,
    recompute_calls,
    django_capture_on_commit_callbacks,
    section,
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(step_url(section), form_data(VALID[section]))

    assert response.status_code == 302
    assert len(recompute_calls) == 1
    user_id, trigger = recompute_calls[0]
    assert user_id == owner.pk
    assert section in trigger


def test_recompute_is_queued_only_after_commit(
    owner, scoring_consent, recompute_calls, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        save(owner, "income")
        assert recompute_calls == []

    assert len(callbacks) == 1
    callbacks[0]()
    assert recompute_calls == [(owner.pk, "profile:income")]


def test_unchanged_values_queue_no_recompute(
    owner_client, owner, scoring_consent, recompute_calls, django_capture_on_commit_callbacks
):
    save(owner, "education")

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(step_url("education"), form_data(VALID["education"]))

    assert response.status_code == 302
    assert recompute_calls == []


def test_phone_section_queues_no_recompute(
    owner_client, owner, scoring_consent, recompute_calls, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(step_url("phone"), form_data(VALID["phone"]))

    assert response.status_code == 302
    assert Profile.objects.get(user=owner).phone == VALID["phone"]["phone"]
    assert recompute_calls == []


def test_no_recompute_without_scoring_consent(
    owner_client, owner, recompute_calls, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(step_url("income"), form_data(VALID["income"]))

    assert Profile.objects.get(user=owner).income_band == VALID["income"]["income_band"]
    assert recompute_calls == []


def test_no_recompute_after_scoring_consent_is_revoked(
    owner, scoring_consent, recompute_calls, django_capture_on_commit_callbacks
):
    services.consent_revoke(
        user=owner, grant_id=scoring_consent.pk, client=Client(channel=ConsentGrant.Channel.WEB)
    )

    with django_capture_on_commit_callbacks(execute=True):
        save(owner, "income")

    assert recompute_calls == []


def test_invalid_step_queues_no_recompute(
    owner_client, owner, scoring_consent, recompute_calls, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            step_url("provident_fund"), form_data({"provident_fund_months": -1})
        )

    assert response.status_code == 400
    assert recompute_calls == []


def test_patch_touching_several_sections_queues_one_recompute(
    owner_api, owner, scoring_consent, recompute_calls, django_capture_on_commit_callbacks
):
    changes = {**VALID["income"], **VALID["provident_fund"], **VALID["phone"]}

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_api.patch(PROFILE_API, changes, format="json")

    assert response.status_code == 200
    assert len(recompute_calls) == 1
    user_id, trigger = recompute_calls[0]
    assert user_id == owner.pk
    assert "income" in trigger
    assert "provident_fund" in trigger
    assert "phone" not in trigger


def test_verified_work_email_queues_one_recompute(
    owner, scoring_consent, recompute_calls, django_capture_on_commit_callbacks
):
    code = start_work_email(owner)
    recompute_calls.clear()
    PendingRecompute.objects.filter(user=owner).delete()  # that save's recompute ran

    with django_capture_on_commit_callbacks(execute=True):
        services.work_email_verify(user=owner, code=code)

    assert len(recompute_calls) == 1
    assert recompute_calls[0][0] == owner.pk
    assert "work_email" in recompute_calls[0][1]


def test_wrong_work_email_code_queues_no_recompute(
    owner, scoring_consent, recompute_calls, django_capture_on_commit_callbacks
):
    code = start_work_email(owner)
    recompute_calls.clear()

    with django_capture_on_commit_callbacks(execute=True):
        verify_refused(owner, wrong(code))

    assert recompute_calls == []


# --- API -------------------------------------------------------------------------------------

PROFILE_FIELDS = [field for section in SECTIONS for field in section.fields]


def test_api_get_returns_fields_completion_sections_and_marks(owner_api, owner):
    save(owner, "education")

    response = owner_api.get(PROFILE_API)

    assert response.status_code == 200
    body = response.json()
    for field in PROFILE_FIELDS:
        assert field in body
    assert body["school"] == VALID["education"]["school"]
    assert body["work_email_verified_at"] is None
    assert body["completion"] in (12, 13)  # one of eight sections
    assert [s["key"] for s in body["sections"]] == list(SECTION_KEYS)
    assert {s["key"]: s["complete"] for s in body["sections"]}["education"] is True
    assert {s["key"]: s["used_by_score"] for s in body["sections"]}["phone"] is False
    assert body["field_marks"]["school"]["mark"] == "self_declared"
    assert body["field_marks"]["school"]["at"]


def test_api_get_of_new_user_is_empty_not_an_error(owner_api, owner):
    body = owner_api.get(PROFILE_API).json()

    assert body["completion"] == 0
    assert body["field_marks"] == {}
    assert body["school"] == ""


def test_api_patch_changes_only_the_given_fields(owner_api, owner):
    save(owner, "education")

    response = owner_api.patch(PROFILE_API, {"school": "Peking University"}, format="json")

    assert response.status_code == 200
    assert response.json()["school"] == "Peking University"
    profile = Profile.objects.get(user=owner)
    assert profile.school == "Peking University"
    assert profile.graduation_year == VALID["education"]["graduation_year"]


def test_api_patch_validates_the_touched_section_whole(owner_api, owner):
    response = owner_api.patch(PROFILE_API, {"school": "Peking University"}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "education_level" in body["fields"]
    assert "graduation_year" in body["fields"]
    assert not Profile.objects.filter(user=owner).exists()


def test_api_patch_with_one_invalid_section_saves_nothing(en_api, owner):
    save(owner, "income", income_band="lt3k")
    before = saved_profile(owner)

    response = en_api.patch(
        PROFILE_API,
        {"income_band": "gt50k", "provident_fund_months": 601, "phone": "13900139000"},
        format="json",
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["message"]
    assert list(body["fields"]) == ["provident_fund_months"]
    assert saved_profile(owner) == before


def test_api_patch_with_unknown_field_is_refused(owner_api, owner):
    response = owner_api.patch(
        PROFILE_API, {"income_band": "gt50k", "is_staff": True}, format="json"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "is_staff" in body["fields"]
    assert not Profile.objects.filter(user=owner).exists()


@pytest.mark.parametrize("body", ["[1, 2]", '"income_band"', "42", "null"])
def test_api_patch_with_non_object_body_is_refused(owner_api, owner, body):
    response = owner_api.generic("PATCH", PROFILE_API, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"]
    assert not Profile.objects.filter(user=owner).exists()


def test_api_patch_with_malformed_json_is_refused(owner_api, owner):
    response = owner_api.generic(
        "PATCH", PROFILE_API, '{"income_band": ', content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"]


@pytest.mark.parametrize(
    "changes",
    [
        {**VALID["education"], "school": {"name": "Tsinghua"}},
        {**VALID["education"], "school": ["Tsinghua"]},
        {**VALID["education"], "graduation_year": True},
        {**VALID["education"], "graduation_year": "2022.5"},
        {**VALID["property"], "property_owned": 2},
        {**VALID["income"], "income_band": ["8k_12k"]},
    ],
    ids=["dict_school", "list_school", "bool_year", "fraction_year", "int_bool", "list_choice"],
)
def test_api_patch_with_wrong_json_type_is_refused(owner_api, owner, changes):
    response = owner_api.patch(PROFILE_API, changes, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert not Profile.objects.filter(user=owner).exists()


@pytest.mark.parametrize("value", ["yes", "True", "1", 1], ids=["yes", "True", "str_1", "int_1"])
def test_api_patch_with_string_or_number_for_boolean_is_refused(owner_api, owner, value):
    response = owner_api.patch(
        PROFILE_API, {"vehicle_owned": value, "vehicle_value": "lt100k"}, format="json"
    )

    assert response.status_code == 400
    assert not Profile.objects.filter(user=owner).exists()


def test_api_patch_of_student_clears_employer(owner_api, owner):
    save(owner, "occupation")

    response = owner_api.patch(PROFILE_API, {"occupation": "student"}, format="json")

    assert response.status_code == 200
    assert response.json()["employer"] == ""
    assert Profile.objects.get(user=owner).employer == ""


def test_api_patch_with_new_work_email_mails_a_code(owner_api, owner):
    save(owner, "occupation")

    response = owner_api.patch(PROFILE_API, {"work_email": WORK_EMAIL}, format="json")

    assert response.status_code == 200
    assert response.json()["work_email_verified_at"] is None
    assert mail.outbox[-1].to == [WORK_EMAIL]


def test_api_patch_of_work_email_when_codes_are_rate_limited_answers_what_was_saved(
    owner_api, owner
):
    start_work_email(owner)
    for _resend in range(4):
        services.work_email_challenge_start(user=owner)

    response = owner_api.patch(PROFILE_API, {"work_email": "li.si@acme-tech.cn"}, format="json")

    saved = Profile.objects.get(user=owner).work_email == "li.si@acme-tech.cn"
    assert (response.status_code == 200) == saved, (response.status_code, saved)


def test_api_unauthenticated_is_refused_with_code(api_client, owner):
    for response in (
        api_client.get(PROFILE_API),
        api_client.patch(PROFILE_API, VALID["income"], format="json"),
        api_client.post(CODE_API, {"code": "123456"}, format="json"),
        api_client.post(RESEND_API),
    ):
        assert response.status_code in (401, 403)
        assert response.json()["code"] == "not_authenticated"
    assert not Profile.objects.exists()


def test_other_user_never_sees_or_changes_owners_profile(owner, other_api, other_user):
    save(owner, "education")
    before = saved_profile(owner)

    seen = other_api.get(PROFILE_API).json()
    changed = other_api.patch(PROFILE_API, {**VALID["education"], "school": "PKU"}, format="json")

    assert seen["school"] == ""
    assert seen["completion"] == 0
    assert changed.status_code == 200
    assert saved_profile(owner) == before
    assert Profile.objects.get(user=other_user).school == "PKU"


def test_api_work_email_code_verifies(owner_api, owner):
    code = start_work_email(owner)

    response = owner_api.post(CODE_API, {"code": code}, format="json")

    assert response.status_code == 200
    assert response.json()["work_email_verified_at"]
    assert response.json()["field_marks"]["work_email"]["mark"] == "verified"


def test_api_wrong_codes_then_too_many_attempts(owner_api, owner):
    code = start_work_email(owner)
    for _attempt in range(WorkEmailChallenge.MAX_ATTEMPTS):
        response = owner_api.post(CODE_API, {"code": wrong(code)}, format="json")
        assert response.status_code == 400
        assert response.json()["code"] == "code_invalid"

    response = owner_api.post(CODE_API, {"code": code}, format="json")

    assert response.status_code == 429
    assert response.json()["code"] == "too_many_attempts"


def test_api_expired_code_is_refused(owner_api, owner):
    code = start_work_email(owner)
    WorkEmailChallenge.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))

    response = owner_api.post(CODE_API, {"code": code}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "code_expired"


@pytest.mark.parametrize("code", ["12345", "abcdef", "1234567", ""])
def test_api_malformed_code_is_refused(owner_api, owner, code):
    start_work_email(owner)

    response = owner_api.post(CODE_API, {"code": code}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert WorkEmailChallenge.objects.get(user=owner).attempts == 0


def test_api_resend_mails_a_new_code_then_rate_limits(owner_api, owner):
    start_work_email(owner)
    for _resend in range(4):
        assert owner_api.post(RESEND_API).status_code == 202

    response = owner_api.post(RESEND_API)

    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert response["Retry-After"]
    assert len(mail.outbox) == 5


def test_api_resend_after_verification_is_a_conflict(owner_api, owner):
    services.work_email_verify(user=owner, code=start_work_email(owner))

    response = owner_api.post(RESEND_API)

    assert response.status_code == 409
    assert response.json()["code"] == "already_verified"


# --- Pages -----------------------------------------------------------------------------------


@pytest.mark.parametrize("section", SECTION_KEYS)
def test_step_page_renders(owner_client, section):
    response = owner_client.get(step_url(section))

    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="profile-step"' in content
    assert f'action="{step_url(section)}"' in content
    assert 'id="profile-progress"' in content


@pytest.mark.parametrize("url", [OVERVIEW_PAGE, step_url("education")])
def test_profile_pages_require_login(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_PAGE)


def test_anonymous_post_saves_nothing(client, owner):
    response = client.post(step_url("income"), form_data(VALID["income"]))

    assert response.status_code == 302
    assert not Profile.objects.exists()


@pytest.mark.parametrize("section", SECTION_KEYS[:-1])
def test_valid_post_redirects_to_next_step(owner_client, section):
    following = SECTION_KEYS[SECTION_KEYS.index(section) + 1]

    response = owner_client.post(step_url(section), form_data(VALID[section]))

    assert response.status_code == 302
    assert response["Location"] == step_url(following)


def test_valid_htmx_post_returns_next_step_fragment_with_progress(owner_client, owner):
    response = owner_client.post(step_url("education"), form_data(VALID["education"]), **HTMX)

    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" not in content.lower()
    assert content.count('id="profile-step"') == 1
    assert f'action="{step_url("occupation")}"' in content
    assert re.search(r'id="profile-progress"[^>]*hx-swap-oob="true"', content)
    assert re.search(r'<progress[^>]*value="1[23]"', content)  # one of eight sections
    assert response["HX-Push-Url"] == step_url("occupation")
    assert Profile.objects.get(user=owner).school == VALID["education"]["school"]


def test_htmx_get_of_step_returns_fragment(owner_client):
    response = owner_client.get(step_url("income"), **HTMX)

    assert response.status_code == 200
    assert "<html" not in response.content.decode().lower()
    assert response["HX-Push-Url"] == step_url("income")


def test_invalid_post_rerenders_with_errors_and_saves_nothing(en_client, owner):
    response = en_client.post(step_url("address"), form_data({"address": "", "address_years": 3}))

    assert response.status_code == 400
    assert "address" in response.context["form"].errors
    assert "<html" in response.content.decode().lower()
    assert not Profile.objects.filter(user=owner).exists()


def test_invalid_htmx_post_rerenders_fragment_with_errors_and_saves_nothing(en_client, owner):
    response = en_client.post(
        step_url("provident_fund"), form_data({"provident_fund_months": 601}), **HTMX
    )

    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" not in content.lower()
    assert 'id="profile-step"' in content
    assert "Enter at most 600 months" in content
    assert response["HX-Push-Url"] == step_url("provident_fund")
    assert not Profile.objects.filter(user=owner).exists()


def test_refusal_by_the_service_after_the_form_is_shown_beside_the_field(
    en_client, verified_owner, monkeypatch
):
    """The service checks again before it saves: an identity verified while the form was
    checked (here: the page saw no birth date) still refuses, beside the field."""
    monkeypatch.setattr("accounts.views.profile.selectors.birth_date_for_user", lambda user: None)

    response = en_client.post(
        step_url("education"), form_data({**VALID["education"], "graduation_year": 2009})
    )

    assert response.status_code == 400
    assert response.context["form"].errors["graduation_year"] == [
        "This graduation year is too close to your birth year (2000)."
    ]
    assert "too close to your birth year (2000)" in response.content.decode()
    assert not Profile.objects.filter(user=verified_owner, school__gt="").exists()


def test_last_step_lands_on_the_score(owner_client, owner):
    response = owner_client.post(step_url("phone"), form_data(VALID["phone"]))

    assert response.status_code == 302
    assert response["Location"] == SCORE_HOME


def test_last_step_with_htmx_lands_on_the_score(owner_client, owner):
    response = owner_client.post(step_url("phone"), form_data(VALID["phone"]), **HTMX)

    assert response.status_code in (200, 204)
    assert response["HX-Redirect"] == SCORE_HOME


@pytest.mark.parametrize("method", ["get", "post"])
def test_unknown_section_is_not_found(owner_client, method):
    response = getattr(owner_client, method)(step_url("shoe_size"))

    assert response.status_code == 404


def test_step_page_shows_fields_marks(en_client, owner):
    save(owner, "education")

    content = en_client.get(step_url("education")).content.decode()

    assert "Self-declared" in content
    assert VALID["education"]["school"] in content


def test_other_users_step_page_does_not_show_owners_values(owner, other_user, client):
    save(owner, "education")
    client.force_login(other_user)

    content = client.get(step_url("education")).content.decode()

    assert VALID["education"]["school"] not in content


def test_saving_a_work_email_stays_on_the_step_with_code_form(owner_client, owner):
    values = {**VALID["occupation"], "work_email": WORK_EMAIL}

    response = owner_client.post(step_url("occupation"), form_data(values))

    assert response.status_code == 302
    assert response["Location"] == step_url("occupation")
    content = owner_client.get(step_url("occupation")).content.decode()
    assert f'action="{CODE_PAGE}"' in content
    assert f'action="{RESEND_PAGE}"' in content
    assert len(mail.outbox) == 1


def test_code_form_is_not_shown_without_pending_work_email(owner_client, owner):
    save(owner, "occupation")

    content = owner_client.get(step_url("occupation")).content.decode()

    assert CODE_PAGE not in content


def test_right_code_on_the_page_verifies_and_goes_on(owner_client, owner):
    code = start_work_email(owner)

    response = owner_client.post(CODE_PAGE, {"code": code})

    assert response.status_code == 302
    assert response["Location"] == step_url("vehicle")
    assert Profile.objects.get(user=owner).work_email_verified_at is not None


def test_right_code_with_htmx_returns_next_step_fragment(owner_client, owner):
    code = start_work_email(owner)

    response = owner_client.post(CODE_PAGE, {"code": f" {code} "}, **HTMX)

    assert response.status_code == 200
    assert f'action="{step_url("vehicle")}"' in response.content.decode()
    assert response["HX-Push-Url"] == step_url("vehicle")
    assert Profile.objects.get(user=owner).work_email_verified_at is not None


@pytest.mark.parametrize("typed", ["wrong", "abc", ""])
def test_wrong_code_on_the_page_rerenders_with_error(owner_client, owner, typed):
    code = start_work_email(owner)

    response = owner_client.post(CODE_PAGE, {"code": wrong(code) if typed == "wrong" else typed})

    assert response.status_code == 400
    assert "code" in response.context["code_form"].errors
    assert Profile.objects.get(user=owner).work_email_verified_at is None


def test_resend_on_the_page_mails_a_new_code(owner_client, owner):
    start_work_email(owner)

    response = owner_client.post(RESEND_PAGE)

    assert response.status_code == 302
    assert response["Location"] == step_url("occupation")
    assert len(mail.outbox) == 2
    services.work_email_verify(user=owner, code=mailed_code())
    assert Profile.objects.get(user=owner).work_email_verified_at is not None


def test_resend_on_the_page_with_htmx_returns_the_step(owner_client, owner):
    start_work_email(owner)

    response = owner_client.post(RESEND_PAGE, **HTMX)

    assert response.status_code == 200
    assert 'id="profile-step"' in response.content.decode()
    assert len(mail.outbox) == 2


def test_resend_on_the_page_when_rate_limited_shows_message(en_client, owner):
    start_work_email(owner)
    for _resend in range(4):
        services.work_email_challenge_start(user=owner)

    response = en_client.post(RESEND_PAGE, follow=True)

    assert response.status_code == 200
    assert "Too many codes requested" in response.content.decode()
    assert len(mail.outbox) == 5


@pytest.mark.parametrize("url", [CODE_PAGE, RESEND_PAGE])
def test_work_email_pages_accept_only_post(owner_client, url):
    assert owner_client.get(url).status_code == 405


def test_changes_arriving_while_a_recompute_waits_ride_on_it(
    owner, scoring_consent, monkeypatch, django_capture_on_commit_callbacks
):
    published = []
    monkeypatch.setattr(
        "scoring.tasks.score_recompute_user.apply_async",
        lambda args=(), kwargs=None, **options: published.append(args),
    )

    with django_capture_on_commit_callbacks(execute=True):
        services.profile_update(user=owner, sections={"income": {"income_band": "5k_8k"}})
        services.profile_update(
            user=owner, sections={"provident_fund": {"provident_fund_months": 24}}
        )

    assert len(published) == 1
    assert PendingRecompute.objects.filter(user=owner).count() == 1
