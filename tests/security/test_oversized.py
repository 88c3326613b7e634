"""Bodies past the limits: a JSON body above DATA_UPLOAD_MAX_MEMORY_SIZE to every API
call that reads one, JSON nested past Python's recursion limit, a form with more fields
than DATA_UPLOAD_MAX_NUMBER_FIELDS or more files than DATA_UPLOAD_MAX_NUMBER_FILES, a
form field of several megabytes, and uploads above the dispute (5 MB) and court-list
(20 MB) limits. Each is a clean 4xx (on the API, JSON `{code, message}`), never a server
error, and nothing is stored; what is just within a limit still goes through."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import ConsentGrant, Identity, Profile, User
from benefits.models import Partner
from scoring.admin import CourtListUploadForm
from scoring.models import (
    CourtListEntry,
    CourtListImport,
    Dispute,
    DisputeAttachment,
    PersonalStatement,
)
from scoring.services.disputes import ATTACHMENT_MAX_BYTES
from tests.dates import days_ago
from tests.factories import (
    PASSWORD,
    add_account,
    add_repayment,
    grant,
    make_api_key,
    make_id_number,
    make_partner,
)
from tests.partner_api import IDENTITY_CHECK_URL, partner_client
from tests.security.hostile import browser, post

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("recompute_calls")]

LIMIT = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


def oversized_json(**fields) -> bytes:
    """A JSON object with these fields and one string that takes it past the limit."""
    body = json.dumps({**fields, "padding": "x" * (LIMIT + 1)}).encode()
    assert len(body) > LIMIT
    return body


def assert_api_refusal(response, status: int = 400, code: str | None = None) -> None:
    assert response.status_code == status, (response.status_code, response.content[:300])
    body = response.json()
    assert set(body) >= {"code", "message"}, body
    assert body["message"]
    if code is not None:
        assert body["code"] == code


@pytest.fixture
def verified(owner):
    account_services.identity_verify(user=owner, full_name="张伟", id_number=make_id_number())
    grant(owner)
    return owner


@pytest.fixture
def me(verified) -> APIClient:
    api = APIClient()
    api.force_authenticate(verified)
    return api


def stored() -> dict[str, int]:
    """What an accepted request would have added."""
    return {
        "users": User.objects.count(),
        "identities": Identity.objects.count(),
        "grants": ConsentGrant.objects.count(),
        "profiles": Profile.objects.exclude(school="").count(),
        "disputes": Dispute.objects.count(),
        "statements": PersonalStatement.objects.count(),
        "partners": Partner.objects.count(),
        "court_list": CourtListImport.objects.count(),
    }


# --- The API --------------------------------------------------------------------------------------

API_CALLS = [
    ("post", "/api/v1/me/identity/", {"full_name": "李娜", "id_number": "x"}),
    ("post", "/api/v1/me/consents/", {"purpose": "utility_bills"}),
    ("patch", "/api/v1/me/profile/", {"school": "x"}),
    ("post", "/api/v1/me/score/what-if/", {"repay_overdue": True}),
    ("post", "/api/v1/me/profile/work-email/code/", {"code": "123456"}),
    ("delete", "/api/v1/me/", {"password": PASSWORD}),
]


@pytest.mark.parametrize(("method", "url", "fields"), API_CALLS, ids=[c[1] for c in API_CALLS])
def test_an_api_body_above_the_limit_is_a_json_400(me, method, url, fields):
    """Above DATA_UPLOAD_MAX_MEMORY_SIZE the body is never parsed: 400 `bad_request`."""
    before = stored()
    response = me.generic(method.upper(), url, oversized_json(**fields), "application/json")
    assert_api_refusal(response, 400, "bad_request")
    assert stored() == before


@pytest.mark.parametrize("url", ["/api/v1/auth/register/", "/api/v1/auth/token/"])
def test_an_anonymous_api_body_above_the_limit_is_a_json_400(api_client, url):
    body = oversized_json(username="newcomer", password=PASSWORD)
    response = api_client.generic("POST", url, body, "application/json")
    assert_api_refusal(response, 400, "bad_request")
    assert not User.objects.exists()


@pytest.mark.usefixtures("partner_cache")
def test_a_partner_api_body_above_the_limit_is_a_json_400():
    """The partner's identity check, the one partner call with a body."""
    api = partner_client(make_api_key(make_partner()))
    body = oversized_json(full_name="x", id_number="y")
    assert_api_refusal(
        api.generic("POST", IDENTITY_CHECK_URL, body, "application/json"), 400, "bad_request"
    )


def test_an_api_body_just_within_the_limit_is_read(me):
    """The limit refuses only what is past it: a body just under it is parsed, and the
    overlong school in it is refused by the field's own rule."""
    body = json.dumps({"school": "x" * (LIMIT - 100)}).encode()
    assert len(body) <= LIMIT
    response = me.generic("PATCH", "/api/v1/me/profile/", body, "application/json")
    assert_api_refusal(response, 400, "invalid")


@pytest.mark.parametrize(
    ("url", "method"),
    [
        ("/api/v1/me/identity/", "POST"),
        ("/api/v1/me/consents/", "POST"),
        ("/api/v1/me/profile/", "PATCH"),
        ("/api/v1/me/score/what-if/", "POST"),
        ("/api/v1/auth/token/", "POST"),
    ],
)
@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_json_nested_past_the_recursion_limit_is_a_json_400(me, url, method, opener):
    """A few hundred kilobytes of `[[[[...]]]]` (or `{"a":{"a":...}}`) exhaust Python's
    recursion while decoding: refused as malformed, not a server error."""
    depth = 100_000
    closer = "]" if opener == "[" else "}"
    middle = "" if opener == "[" else "1"
    body = (opener * depth + middle + closer * depth).encode()
    assert len(body) < LIMIT
    before = stored()
    response = me.generic(method, url, body, "application/json")
    assert_api_refusal(response, 400, "parse_error")
    assert stored() == before


@pytest.mark.usefixtures("partner_cache")
def test_a_partner_body_nested_past_the_recursion_limit_is_a_json_400():
    api = partner_client(make_api_key(make_partner()))
    response = api.generic(
        "POST", IDENTITY_CHECK_URL, b"[" * 100_000 + b"]" * 100_000, "application/json"
    )
    assert_api_refusal(response, 400, "parse_error")


def test_many_keys_within_the_limit_are_refused_by_the_fields(me):
    """A JSON object of 100,000 keys (under the size limit) is read and refused by what
    the call accepts: unknown profile fields."""
    body = json.dumps({f"k{i}": 1 for i in range(100_000)}).encode()
    assert len(body) < LIMIT
    response = me.generic("PATCH", "/api/v1/me/profile/", body, "application/json")
    assert_api_refusal(response, 400, "invalid")


# --- HTML forms -----------------------------------------------------------------------------------

TOO_MANY = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1


@pytest.fixture
def late(verified) -> int:
    loan = add_account(verified, opened_on=days_ago(400))
    return add_repayment(loan, due=days_ago(60), days_overdue=12).pk


def form_posts(late: int) -> list[tuple[str, dict[str, str]]]:
    """Each HTML form with a valid body: the limits must refuse even these."""
    return [
        ("/accounts/identity/", {"full_name": "李娜", "id_number": make_id_number(sequence="9")}),
        (
            "/accounts/profile/education/",
            {"education_level": "bachelor", "school": "清华", "graduation_year": "2012"},
        ),
        ("/accounts/notifications/", {"by_email": "on", "email": "wei@example.com"}),
        ("/score/statement/", {"text": "住院"}),
        ("/score/disputes/new/", {"kind": "repayment", "record": str(late), "statement": "x"}),
        ("/accounts/me/data/", {"password": PASSWORD}),
    ]


def assert_page_refusal(response) -> None:
    assert response.status_code == 400, response.status_code
    assert "Bad Request" in response.content.decode()


@pytest.mark.parametrize("multipart", [False, True], ids=["urlencoded", "multipart"])
def test_a_form_with_too_many_fields_is_a_400(verified, late, multipart):
    """More than DATA_UPLOAD_MAX_NUMBER_FIELDS fields: 400, nothing saved, whichever
    encoding carries them."""
    client = browser(verified)
    for url, body in form_posts(late):
        before = stored()
        padded = {**body, **{f"f{i}": "1" for i in range(TOO_MANY)}}
        assert_page_refusal(post(client, url, padded, multipart=multipart))
        assert stored() == before, url
        assert User.objects.filter(pk=verified.pk).exists()


def test_one_field_repeated_too_often_is_a_400(verified):
    client = browser(verified)
    body = urlencode({"text": ["x"] * TOO_MANY}, doseq=True)
    response = client.post("/score/statement/", body, "application/x-www-form-urlencoded")
    assert_page_refusal(response)
    assert not PersonalStatement.objects.exists()


@pytest.mark.parametrize("multipart", [False, True], ids=["urlencoded", "multipart"])
def test_a_form_field_of_several_megabytes_is_a_400(verified, late, multipart):
    """A text field past DATA_UPLOAD_MAX_MEMORY_SIZE: 400 before any form sees it."""
    client = browser(verified)
    huge = "张" * (LIMIT // 3 + 10)  # three bytes each in UTF-8
    for url, body in form_posts(late):
        before = stored()
        name = next(iter(body))
        assert_page_refusal(post(client, url, {**body, name: huge}, multipart=multipart))
        assert stored() == before, url


def test_a_long_field_within_the_limit_is_refused_in_place(verified):
    """Under the body limit, an overlong field is the form's to refuse: the page again
    (400) with the field's message and the text kept."""
    text = "长" * 100_000
    response = post(browser(verified), "/score/statement/", {"text": text})
    assert response.status_code == 400
    page = response.content.decode()
    assert "errorlist" in page
    assert text in page
    assert not PersonalStatement.objects.exists()


@pytest.mark.parametrize("length", [151, 300, 100_000])
def test_a_huge_username_at_login_is_refused_not_a_server_error(owner, length):
    """Django's login form passes a name of any length to authentication; the failed
    attempt is still recorded (cut to django-axes' column) and refused in place."""
    for url in ("/accounts/login/", "/admin/login/"):
        response = post(browser(), url, {"username": "u" * length, "password": "wrong-one-1"})
        assert response.status_code == 200, (url, response.status_code)
        assert "errornote" in response.content.decode() or "errorlist" in response.content.decode()
    # The name is counted for lockout under its first 255 characters.
    from axes.models import AccessAttempt

    assert AccessAttempt.objects.filter(username="u" * min(length, 255)).exists()


def test_a_huge_admin_text_field_is_a_400(admin_user):
    before = stored()
    response = post(
        browser(admin_user),
        "/admin/benefits/partner/add/",
        {"name": "x" * (LIMIT + 1), "category": "hotel"},
    )
    assert_page_refusal(response)
    assert stored() == before


# --- Uploads --------------------------------------------------------------------------------------


def test_too_many_files_is_a_400(verified, late):
    """More files than DATA_UPLOAD_MAX_NUMBER_FILES in one form: 400, nothing filed."""
    files = [
        SimpleUploadedFile(f"{i}.pdf", PDF, "application/pdf")
        for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)
    ]
    body = {"kind": "repayment", "record": str(late), "statement": "x", "attachment": files}
    assert_page_refusal(browser(verified).post("/score/disputes/new/", body))
    assert not Dispute.objects.exists()


def _dispute(client, late: int, size: int):
    upload = SimpleUploadedFile("receipt.pdf", PDF + b"0" * (size - len(PDF)), "application/pdf")
    assert upload.size == size
    body = {"kind": "repayment", "record": str(late), "statement": "The receipt is attached."}
    return client.post("/score/disputes/new/", {**body, "attachment": upload})


def test_a_dispute_attachment_over_5_mb_is_refused_in_place(verified, late):
    """One byte over 5 MB: the form again (400) with the size message and the statement
    kept; no dispute and no file stored."""
    response = _dispute(browser(verified), late, ATTACHMENT_MAX_BYTES + 1)
    assert response.status_code == 400
    page = response.content.decode()
    assert "larger than 5 MB" in page
    assert "The receipt is attached." in page
    assert not Dispute.objects.exists()
    assert not DisputeAttachment.objects.exists()


def test_a_dispute_attachment_of_exactly_5_mb_is_accepted(verified, late):
    """The limit is 5 MB inclusive: the boundary is not off by one."""
    response = _dispute(browser(verified), late, ATTACHMENT_MAX_BYTES)
    assert response.status_code == 302
    assert DisputeAttachment.objects.get().size == ATTACHMENT_MAX_BYTES


def test_a_court_list_upload_over_20_mb_is_refused_in_place(admin_user):
    """A court list past 20 MB: the upload form again with the size message; nothing
    imported."""
    line = f"张伟,{make_id_number()}\n".encode()
    content = b"name,id_number\n" + line * (CourtListUploadForm.MAX_BYTES // len(line) + 1)
    assert len(content) > CourtListUploadForm.MAX_BYTES
    upload = SimpleUploadedFile("list.csv", content, "text/csv")
    response = browser(admin_user).post("/admin/scoring/courtlistimport/add/", {"upload": upload})
    assert response.status_code == 200
    assert "larger than 20 MB" in response.content.decode()
    assert not CourtListImport.objects.exists()
    assert not CourtListEntry.objects.exists()
