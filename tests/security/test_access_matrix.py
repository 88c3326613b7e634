"""Nobody reads or changes another user's data: every /me call and page, asked with a
second user's ids.

The routes come from the URL resolver, not from a hand-picked list: a new route that no
table below covers (or deliberately excludes, with the reason) fails the coverage tests.
For each route that names a person's object, the object is made as `other_user` with the
project's own services, then asked for by `owner` with every method; the answer is a 404
(JSON `{code, message}` on the API, 405 for a method the view does not offer), nothing of
theirs is in it, and every row that belongs to them is unchanged afterwards. A control
request by the object's owner proves each URL is live and each change would be seen.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q
from django.test import Client
from django.urls import URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import (
    ConsentGrant,
    ConsentPurpose,
    Notification,
    Profile,
    SignIn,
    User,
    WorkEmailChallenge,
)
from accounts.profile_sections import SECTION_KEYS
from accounts.resident_id import mask_id_number
from accounts.services import helper_accept, helper_audit_record, helper_invite, profile_update
from benefits.models import Benefit, DecisionReceipt, Partner, Voucher
from benefits.services import voucher_claim
from scoring.models import (
    Dispute,
    ModelVersion,
    Repayment,
    ScoreProof,
    ScoreSnapshot,
    UtilityBill,
)
from scoring.services.disputes import dispute_file, statement_set
from scoring.services.proofs import proof_create, proof_open, proof_token
from tests.dates import days_ago
from tests.factories import (
    UserFactory,
    add_account,
    add_bill,
    add_repayment,
    authorize,
    grant_scoring,
    id_number,
    make_api_key,
    make_benefit,
    make_partner,
    set_score,
    verify,
)
from tests.partner_api import partner_client, score_url

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("partner_cache", "recompute_calls"),
]

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
LOGIN_PREFIX = "/accounts/login/?next="

# What only `other_user` has: none of it may appear in anything `owner` is sent.
THEIR_NAME = "欧阳娜娜"
THEIR_EMAIL = "nana.ouyang@private-mail.example"
THEIR_WORK_EMAIL = "nana.ouyang@their-employer.example"
THEIR_SCHOOL = "他们的母校 TheirSchool-7Q"
THEIR_EMPLOYER = "他们的公司 TheirEmployer-7Q"
THEIR_ADDRESS = "他们的家 TheirStreet-7Q 88号"
THEIR_PHONE = "13987654321"
THEIR_STATEMENT = "Their dispute statement 7Q: the bill was paid in cash."
THEIR_ATTACHMENT = "their-receipt-7Q.png"
THEIR_PERSONAL_STATEMENT = "Their personal statement 7Q: hospital in March."
THEIR_PURPOSE = "Their stated purpose 7Q 租车押金"
THEIR_NOTIFICATION = "Their unlocked benefit 7Q"
THEIR_SCORE = 787
THEIR_HELPER = "Their helper 7Q 外孙"


# --- The routes ----------------------------------------------------------------------------------


def discovered_routes() -> dict[str, bool]:
    """Every route of the project (admin aside) -> whether it takes an argument
    (any converter or regex group, at any level of includes)."""

    def walk(patterns, prefix: str, takes: bool):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            has = takes or entry.pattern.regex.groups > 0
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, route, has)
            else:
                yield route, has

    return dict(walk(get_resolver().url_patterns, "", False))


# Admin routes: staff only (is_staff, Django's admin site with its own permission checks);
# a person's page never links there. Dispute evidence, the one admin-side file a person
# uploads, is covered below through its own route.
EXCLUDED_PREFIXES = {"admin/": "Django admin: staff only, never a person's /me page"}

# Routes that take an argument but do not name a person's own object for a signed-in
# person; each is tested where it says.
EXCLUDED_PARAMETERISED = {
    "proof/<str:token>/": "public page a merchant opens without logging in; the token is "
    "signed, so another person's proof cannot be named (tests/scoring/test_proofs.py)",
    "api/v1/partner/authorizations/<str:token>/score/": "partner API: a partner's key, not "
    "a person's session (tests/security/test_partner_credentials.py)",
    "api/v1/partner/authorizations/<str:token>/benefits/<int:benefit_id>/eligibility/": (
        "partner API (tests/security/test_partner_credentials.py)"
    ),
    "api/v1/partner/vouchers/<str:code>/": "partner API (tests/security/"
    "test_partner_credentials.py, tests/benefits/test_partner_api.py)",
    "api/v1/partner/vouchers/<str:code>/redeem/": "partner API (tests/security/"
    "test_partner_credentials.py, tests/benefits/test_partner_api.py)",
    "accounts/identity/appeal/<str:token>/": "the token is signed for the one user who was "
    "refused as duplicate; anyone else gets 404 (tests/accounts/test_appeals.py)",
    "api/v1/partner/authorizations/<str:token>/decisions/": "partner API (tests/security/"
    "test_partner_credentials.py, tests/benefits/test_partner_limits.py)",
    "api/v1/partner/erasure-requests/<int:request_id>/done/": "partner API: another "
    "partner's request is not found (tests/benefits/test_partner_erasure.py)",
    "benefits/partners/<int:partner_id>/card/": "public card of an approved partner: "
    "aggregates only, nothing about any person (tests/benefits/test_partner_cards.py)",
    "api/v1/partners/<int:partner_id>/card/": "public card of an approved partner: "
    "aggregates only, nothing about any person (tests/benefits/test_partner_cards.py)",
    "accounts/helpers/accept/<str:code>/": "a random code shown once to the person who "
    "invited; accepting binds the requester as the helper (tests/accounts/test_helpers.py)",
    "accounts/helping/<int:grant_id>/act/": "acts only under a grant the requester holds as "
    "helper; any other id is 404 (tests/accounts/test_helpers.py)",
}

# Routes without arguments that are no person's own data: public, or the way in.
EXCLUDED_UNPARAMETERISED = {
    "healthz": "load balancer probe, no data",
    "favicon.ico": "a redirect to the portal's static icon, the same for everyone, no data",
    "readyz": "load balancer probe, no data",
    "accounts/signup/": "public: the way in",
    "accounts/login/": "public: the way in",
    "accounts/logout/": "ends the requester's own session only",
    "score/how-it-works/": "public: the model's published facts",
    "i18n/setlang/": "Django's language switch: the requester's own cookie",
    "api/v1/auth/register/": "public: the way in",
    "api/v1/auth/token/": "public: the way in",
    "api/v1/consent-texts/": "public: the published consent texts",
    "api/schema/": "public: the OpenAPI schema",
    "api/docs/": "public: the API docs",
    "api/v1/partner/identity-check/": "partner API (tests/security/test_partner_credentials.py)",
    "api/v1/partner/erasure-requests/": "partner API: its own requests only "
    "(tests/benefits/test_partner_erasure.py)",
    "api/v1/auth/logout/": "ends the token used for the call only",
    "api/v1/auth/logout-all/": "ends the requester's own tokens and sessions only "
    "(tests/accounts/test_sign_ins.py)",
    "accounts/helping/stop/": "ends the requester's own acting for a person (a session key)",
}


# --- Their world ----------------------------------------------------------------------------------


@dataclass
class World:
    """Everything `other_user` holds, made the way the portal makes it."""

    user: User
    browser: Client
    api: APIClient
    scoring_grant: ConsentGrant
    closed_grant: ConsentGrant  # revoked already (superseded)
    partner: Partner
    partner_grant: ConsentGrant
    token: str
    benefit: Benefit
    voucher: Voucher
    repayment: Repayment
    bill: UtilityBill
    dispute: Dispute
    proof: ScoreProof
    proof_link: str
    snapshot: ScoreSnapshot
    id_number: str
    work_code: str
    helper_grant: Any
    receipt: DecisionReceipt | None = None  # the partner's decision after its query

    @property
    def markers(self) -> tuple[str, ...]:
        return (
            THEIR_NAME,
            THEIR_EMAIL,
            THEIR_WORK_EMAIL,
            THEIR_SCHOOL,
            THEIR_EMPLOYER,
            THEIR_ADDRESS,
            THEIR_PHONE,
            THEIR_STATEMENT,
            THEIR_ATTACHMENT,
            THEIR_PERSONAL_STATEMENT,
            THEIR_PURPOSE,
            THEIR_NOTIFICATION,
            THEIR_HELPER,
            self.id_number,
            mask_id_number(self.id_number),
            self.voucher.code,
            self.token,
            self.token.split("_", 2)[2],
            self.proof_link,
            self.proof.nonce,
        )


def new_model_version() -> ModelVersion:
    return ModelVersion.objects.create(
        version="access-matrix-1", kind=ModelVersion.Kind.PORTAL, artifact=b"{}", sha256="0" * 64
    )


def logged_in(user: User) -> Client:
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(user)
    return browser


def api_for(user: User) -> APIClient:
    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    api.force_authenticate(user)
    return api


@pytest.fixture
def world(owner, other_user) -> World:
    """`other_user` with one of everything; `owner` verified, consenting and scored (612),
    so that every page of theirs renders in full."""
    version = new_model_version()
    other_user.email = THEIR_EMAIL
    other_user.save(update_fields=["email"])
    number = verify(other_user, id_number(birth="19910203"), full_name=THEIR_NAME)
    grant_scoring(other_user)
    superseded = ConsentGrant.objects.get(user=other_user, purpose=ConsentPurpose.SCORING)
    grant_scoring(other_user)  # given again: the first grant is closed as superseded
    snapshot = set_score(
        other_user, THEIR_SCORE, {"capacity": 91, "credit_history": 89}, model_version=version
    )
    partner = make_partner()
    benefit = make_benefit(partner, 600)
    voucher = voucher_claim(user=other_user, benefit_id=benefit.pk)
    partner_grant, token = authorize(other_user, partner, "score", purpose=THEIR_PURPOSE)
    # The partner reads their score once: a row in their "who checked my score".
    partner_api = partner_client(make_api_key(partner))
    assert partner_api.get(score_url(token)).status_code == 200
    # The partner reports its decision: a receipt beside that query.
    decided = partner_api.post(
        f"/api/v1/partner/authorizations/{token}/decisions/",
        {"decision": "declined", "reason_code": "score_below_policy"},
        format="json",
    )
    assert decided.status_code == 201, decided.content
    loan = add_account(other_user, opened_on=days_ago(400))
    repayment = add_repayment(loan, due=days_ago(60), days_overdue=12)
    bill = add_bill(other_user, due=days_ago(20), paid_on=None, kind="water")
    unpaid = add_bill(other_user, due=days_ago(50), paid_on=None, kind="gas")
    dispute = dispute_file(
        user=other_user,
        kind="bill",
        record_id=unpaid.pk,
        field="",
        statement=THEIR_STATEMENT,
        attachment=SimpleUploadedFile(THEIR_ATTACHMENT, PNG, content_type="image/png"),
    )
    statement_set(user=other_user, text=THEIR_PERSONAL_STATEMENT)
    proof = proof_create(
        user=other_user, shows="band", threshold=None, lifetime="7d", show_name=True
    )
    link = proof_token(proof)
    proof_open(link)  # a merchant opened it once
    mail.outbox.clear()
    profile_update(
        user=other_user,
        sections={
            "education": {
                "education_level": "bachelor",
                "school": THEIR_SCHOOL,
                "graduation_year": 2013,
            },
            "occupation": {
                "occupation": "employee",
                "employer": THEIR_EMPLOYER,
                "work_email": THEIR_WORK_EMAIL,
            },
            "vehicle": {"vehicle_owned": True, "vehicle_value": "100k_300k"},
            "property": {"property_owned": True, "property_mortgaged": False},
            "provident_fund": {"provident_fund_months": 48},
            "income": {"income_band": "8k_12k"},
            "address": {"address": THEIR_ADDRESS, "address_years": 6},
            "phone": {"phone": THEIR_PHONE},
        },
    )
    work_code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    Notification.objects.create(
        user=other_user,
        kind=Notification.Kind.BENEFIT_UNLOCKED,
        params={"benefits": [{"title_zh": THEIR_NOTIFICATION, "title_en": THEIR_NOTIFICATION}]},
    )

    helper_grant, code = helper_invite(
        owner=other_user,
        name=THEIR_HELPER,
        level="read_only",
        expires_at=timezone.now() + datetime.timedelta(days=30),
    )
    helper_grant = helper_accept(helper=UserFactory(username="their-helper"), code=code)
    helper_audit_record(
        grant=helper_grant, action="home", method="GET", allowed=True, status_code=200
    )

    verify(owner, full_name="张伟")
    grant_scoring(owner)
    set_score(owner, 612, {"capacity": 55}, model_version=version)

    return World(
        user=other_user,
        browser=logged_in(other_user),
        api=api_for(other_user),
        scoring_grant=ConsentGrant.objects.current().get(
            user=other_user, purpose=ConsentPurpose.SCORING
        ),
        closed_grant=superseded,
        partner=partner,
        partner_grant=partner_grant,
        token=token,
        benefit=benefit,
        voucher=voucher,
        repayment=repayment,
        bill=bill,
        dispute=dispute,
        proof=proof,
        proof_link=link,
        snapshot=snapshot,
        id_number=number,
        work_code=work_code,
        receipt=DecisionReceipt.objects.get(user=other_user),
        helper_grant=helper_grant,
    )


def _user_paths() -> dict[type, list[str]]:
    """Each model -> the lookups from it to a user: its own user foreign keys, and
    those of the rows it hangs off (a revocation's grant, an attachment's dispute...)."""
    user_model = get_user_model()
    direct: dict[type, list[str]] = {}
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is user_model:
                direct.setdefault(model, []).append(field.name)
    paths = {model: list(names) for model, names in direct.items()}
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model in direct:
                paths.setdefault(model, []).extend(
                    f"{field.name}__{name}" for name in direct[field.related_model]
                )
    return paths


def _plain(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview) else value


def state_of(user: User) -> dict[str, list[dict]]:
    """Every row that belongs to the user, in every model, as plain values: what must not
    change when somebody else asks for their things."""
    state = {
        "user": [{k: _plain(v) for k, v in User.objects.filter(pk=user.pk).values()[0].items()}]
    }
    for model, lookups in _user_paths().items():
        condition = Q()
        for lookup in lookups:
            condition |= Q(**{lookup: user})
        rows = model._default_manager.filter(condition).distinct().order_by("pk").values()
        state[model._meta.label] = [{k: _plain(v) for k, v in row.items()} for row in rows]
    return state


def assert_nothing_of_theirs(response, world: World) -> None:
    body = response.content.decode(errors="replace")
    for marker in world.markers:
        assert marker not in body, (response.request.get("PATH_INFO"), marker)
    if response.get("Content-Type", "").startswith("application/json") and body:
        scores = list(_scores(response.json()))
        assert THEIR_SCORE not in scores, body[:500]


# Where a score travels in JSON (by key, so that an id that happens to be 787 is no alarm).
SCORE_KEYS = {"score", "current", "from", "to", "score_at_unlock", "score_at_lock"}


def _scores(value, key: str = ""):
    if isinstance(value, int) and not isinstance(value, bool):
        if key in SCORE_KEYS:
            yield value
    elif isinstance(value, dict):
        for name, item in value.items():
            yield from _scores(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from _scores(item, key)


def send(client, method: str, path: str, *, api: bool):
    """One request; bodies are empty forms (pages) or empty JSON objects (API)."""
    if api:
        return client.generic(method, path, b"{}", content_type="application/json")
    if method == "GET":
        return client.get(path)
    if method == "POST":
        return client.post(path, {})
    return client.generic(method, path, b"", content_type="application/x-www-form-urlencoded")


def assert_api_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message"}, body
    assert body["code"] == code, body
    assert body["message"]


def assert_anonymous_refused(path: str, methods, *, api: bool) -> None:
    for method in methods:
        if api:
            response = send(APIClient(), method, path, api=True)
            assert response.status_code in (401, 403), (method, path, response.status_code)
            assert_api_error(response, response.status_code, "not_authenticated")
        else:
            response = send(Client(), method, path, api=False)
            assert response.status_code == 302, (method, path, response.status_code)
            assert response["Location"].startswith(LOGIN_PREFIX), response["Location"]


# --- Routes that name another person's object -----------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One route asked with one of their objects' ids."""

    name: str
    route: str
    methods: tuple[str, ...]  # what the view offers
    kwargs: Callable[[World], dict[str, Any]]
    control: int  # what their own first offered method answers them
    changes: bool = False  # whether that control request changes their rows
    api: bool = False

    def path(self, world: World) -> str:
        path = self.route
        for name, value in self.kwargs(world).items():
            path = re.sub(rf"<(?:\w+:)?{name}>", str(value), path)
        assert "<" not in path, path
        return "/" + path


CROSS_USER = [
    Case(
        "revoke-their-scoring-consent",
        "accounts/consents/<int:grant_id>/revoke/",
        ("POST",),
        lambda w: {"grant_id": w.scoring_grant.pk},
        control=302,
        changes=True,
    ),
    Case(
        "revoke-their-partner-authorisation",
        "accounts/consents/<int:grant_id>/revoke/",
        ("POST",),
        lambda w: {"grant_id": w.partner_grant.pk},
        control=302,
        changes=True,
    ),
    Case(
        # Not 409 already_revoked: that would tell the grant exists.
        "revoke-their-closed-consent",
        "accounts/consents/<int:grant_id>/revoke/",
        ("POST",),
        lambda w: {"grant_id": w.closed_grant.pk},
        control=302,  # to them: "already revoked", nothing changes
    ),
    Case(
        "api-revoke-their-closed-consent",
        "api/v1/me/consents/<int:grant_id>/",
        ("DELETE",),
        lambda w: {"grant_id": w.closed_grant.pk},
        control=409,
        api=True,
    ),
    Case(
        "api-revoke-their-scoring-consent",
        "api/v1/me/consents/<int:grant_id>/",
        ("DELETE",),
        lambda w: {"grant_id": w.scoring_grant.pk},
        control=204,
        changes=True,
        api=True,
    ),
    Case(
        "api-revoke-their-partner-authorisation",
        "api/v1/me/consents/<int:grant_id>/",
        ("DELETE",),
        lambda w: {"grant_id": w.partner_grant.pk},
        control=204,
        changes=True,
        api=True,
    ),
    Case(
        # The web session their browser is logged in with.
        "end-their-web-session",
        "accounts/me/devices/<int:sign_in_id>/revoke/",
        ("POST",),
        lambda w: {"sign_in_id": SignIn.objects.get(user=w.user).pk},
        control=302,
        changes=True,
    ),
    Case(
        "api-end-their-web-session",
        "api/v1/me/tokens/<int:sign_in_id>/",
        ("DELETE",),
        lambda w: {"sign_in_id": SignIn.objects.get(user=w.user).pk},
        control=204,
        changes=True,
        api=True,
    ),
    Case(
        "their-partner-authorisation-page",
        "benefits/authorized/<int:grant_id>/",
        ("GET",),
        lambda w: {"grant_id": w.partner_grant.pk},
        control=200,
    ),
    Case(
        # A partner that knows only them: to anyone else its page is not found.
        "their-partner-page",
        "benefits/partners/<int:partner_id>/",
        ("GET",),
        lambda w: {"partner_id": w.partner.pk},
        control=200,
    ),
    Case(
        "ask-their-partner-to-erase",
        "benefits/partners/<int:partner_id>/erasure/",
        ("POST",),
        lambda w: {"partner_id": w.partner.pk},
        control=302,
        changes=True,
    ),
    Case(
        "api-their-partner",
        "api/v1/me/partners/<int:partner_id>/",
        ("GET",),
        lambda w: {"partner_id": w.partner.pk},
        control=200,
        api=True,
    ),
    Case(
        "api-ask-their-partner-to-erase",
        "api/v1/me/partners/<int:partner_id>/erasure/",
        ("POST",),
        lambda w: {"partner_id": w.partner.pk},
        control=201,
        changes=True,
        api=True,
    ),
    Case(
        "their-expiring-authorisation-page",
        "benefits/authorizations/<int:authorization_id>/expiring/",
        ("GET", "POST"),
        lambda w: {"authorization_id": w.partner_grant.authorization.pk},
        control=200,
    ),
    Case(
        "api-renew-their-partner-authorisation",
        "api/v1/me/authorizations/<int:authorization_id>/renew/",
        ("POST",),
        lambda w: {"authorization_id": w.partner_grant.authorization.pk},
        control=201,
        changes=True,
        api=True,
    ),
    Case(
        "their-voucher",
        "benefits/vouchers/<int:voucher_id>/",
        ("GET",),
        lambda w: {"voucher_id": w.voucher.pk},
        control=200,
    ),
    Case(
        "their-dispute",
        "score/disputes/<int:dispute_id>/",
        ("GET",),
        lambda w: {"dispute_id": w.dispute.pk},
        control=200,
    ),
    Case(
        "their-dispute-evidence",
        "score/disputes/<int:dispute_id>/attachment/",
        ("GET",),
        lambda w: {"dispute_id": w.dispute.pk},
        control=200,
        changes=True,  # every opening of the evidence is logged for its owner
    ),
    Case(
        "their-proof",
        "score/proofs/<int:proof_id>/",
        ("GET",),
        lambda w: {"proof_id": w.proof.pk},
        control=200,
    ),
    Case(
        "revoke-their-proof",
        "score/proofs/<int:proof_id>/revoke/",
        ("POST",),
        lambda w: {"proof_id": w.proof.pk},
        control=302,
        changes=True,
    ),
    Case(
        # Their own empty form: back to the queries page, nothing added.
        "dispute-their-decision",
        "benefits/decisions/<int:receipt_id>/dispute/",
        ("POST",),
        lambda w: {"receipt_id": w.receipt.pk},
        control=302,
    ),
    Case(
        "api-dispute-their-decision",
        "api/v1/me/decisions/<int:receipt_id>/dispute/",
        ("POST",),
        lambda w: {"receipt_id": w.receipt.pk},
        control=400,
        api=True,
    ),
    Case(
        "revoke-their-helper",
        "accounts/helpers/<int:grant_id>/revoke/",
        ("POST",),
        lambda w: {"grant_id": w.helper_grant.pk},
        control=302,
        changes=True,
    ),
    Case(
        "api-revoke-their-helper",
        "api/v1/me/helpers/<int:helper_id>/",
        ("DELETE",),
        lambda w: {"helper_id": w.helper_grant.pk},
        control=204,
        changes=True,
        api=True,
    ),
]

# Routes whose argument names no person's object: a catalogue entry (a benefit, an approved
# partner) or a kind of thing (a profile section). The view acts on the requester; the
# tests further down prove it never touches the other person's rows.
SELF_SCOPED = {
    "accounts/profile/<slug:section>/": "test_profile_steps_act_on_the_requester_only",
    "accounts/profile/<slug:section>/clear/": "test_profile_steps_act_on_the_requester_only",
    "accounts/profile/<slug:section>/verify/": (
        "test_profile_verification_acts_on_the_requester_only"
    ),
    "benefits/<int:benefit_id>/claim/": "test_claiming_acts_on_the_requester_only",
    "api/v1/me/benefits/<int:benefit_id>/claim/": "test_claiming_acts_on_the_requester_only",
    "benefits/partners/<int:partner_id>/authorize/": (
        "test_authorising_a_partner_acts_on_the_requester_only"
    ),
}


def test_every_route_with_an_argument_is_covered_or_excluded_with_a_reason():
    """A new route taking an id, token, pk or slug fails here until it joins a table."""
    routes = discovered_routes()
    parameterised = {
        route
        for route, takes in routes.items()
        if takes and not route.startswith(tuple(EXCLUDED_PREFIXES))
    }
    covered = {case.route for case in CROSS_USER} | set(SELF_SCOPED)
    assert not covered & set(EXCLUDED_PARAMETERISED)
    assert parameterised == covered | set(EXCLUDED_PARAMETERISED), {
        "not covered": sorted(parameterised - covered - set(EXCLUDED_PARAMETERISED)),
        "gone": sorted((covered | set(EXCLUDED_PARAMETERISED)) - parameterised),
    }
    # The admin really is excluded by its prefix only, and it does take arguments.
    assert any(takes for route, takes in routes.items() if route.startswith("admin/"))


@pytest.mark.parametrize("case", CROSS_USER, ids=lambda case: case.name)
def test_their_object_is_not_found_for_me_by_any_method(case, world, owner):
    """Owner asks for other_user's object with every method: 404 for each method the view
    offers (405 for the rest), nothing of theirs in the answer, their rows unchanged."""
    path = case.path(world)
    mine = api_for(owner) if case.api else logged_in(owner)
    before = state_of(world.user)

    for method in METHODS:
        response = send(mine, method, path, api=case.api)
        offered = method in case.methods
        if case.api:
            if offered:
                assert_api_error(response, 404, "not_found")
            else:
                assert_api_error(response, 405, "method_not_allowed")
        else:
            assert response.status_code == (404 if offered else 405), (method, response)
        assert_nothing_of_theirs(response, world)

    assert state_of(world.user) == before


@pytest.mark.parametrize("case", CROSS_USER, ids=lambda case: case.name)
def test_anonymous_is_sent_to_log_in_or_refused(case, world):
    """Without a session: pages redirect to the login page, the API answers 401/403."""
    before = state_of(world.user)

    assert_anonymous_refused(case.path(world), METHODS, api=case.api)

    assert state_of(world.user) == before


@pytest.mark.parametrize("case", CROSS_USER, ids=lambda case: case.name)
def test_the_same_request_works_for_the_objects_owner(case, world):
    """The control: the URL is live, and a request that changes their rows is seen to,
    so the 404s above are about ownership and the unchanged state means something."""
    path = case.path(world)
    before = state_of(world.user)

    response = send(world.api if case.api else world.browser, case.methods[0], path, api=case.api)

    assert response.status_code == case.control, response.content[:300]
    assert (state_of(world.user) != before) == case.changes


# --- Routes whose argument is not a person's object -----------------------------------------------


@pytest.mark.parametrize("section", SECTION_KEYS)
def test_profile_steps_act_on_the_requester_only(section, world, owner):
    """A profile section is named by its key; whatever the owner sends or clears there,
    the other person's answers stay theirs and are never shown."""
    mine = logged_in(owner)
    step = f"/accounts/profile/{section}/"
    clear = f"/accounts/profile/{section}/clear/"
    before = state_of(world.user)

    page = mine.get(step)
    assert page.status_code == 200
    assert_nothing_of_theirs(page, world)
    saved = mine.post(step, {})
    assert saved.status_code in (302, 400), saved.status_code
    assert_nothing_of_theirs(saved, world)
    assert mine.post(clear).status_code == 302
    for method in ("PUT", "PATCH", "DELETE"):
        assert send(mine, method, step, api=False).status_code == 405
        assert send(mine, method, clear, api=False).status_code == 405
    assert mine.get(clear).status_code == 405

    assert state_of(world.user) == before
    assert_anonymous_refused(step, ("GET", "POST"), api=False)
    assert_anonymous_refused(clear, ("POST",), api=False)
    # The control: their own clearing does change their rows.
    assert world.browser.post(clear).status_code == 302
    assert state_of(world.user) != before


@pytest.mark.parametrize("api", [False, True], ids=["page", "api"])
def test_claiming_acts_on_the_requester_only(api, world, owner):
    """Claiming the benefit the other person holds a voucher for gives the owner a voucher
    of their own; theirs is neither handed over, nor redeemed, nor replaced."""
    path = (
        f"/api/v1/me/benefits/{world.benefit.pk}/claim/"
        if api
        else f"/benefits/{world.benefit.pk}/claim/"
    )
    mine = api_for(owner) if api else logged_in(owner)
    before = state_of(world.user)

    for method in ("GET", "PUT", "PATCH", "DELETE"):
        response = send(mine, method, path, api=api)
        assert response.status_code == 405
        assert_nothing_of_theirs(response, world)
    response = send(mine, "POST", path, api=api)

    assert response.status_code == (201 if api else 302), response.content
    assert_nothing_of_theirs(response, world)
    voucher = Voucher.objects.get(user=owner)
    assert voucher.code != world.voucher.code
    assert state_of(world.user) == before
    assert_anonymous_refused(path, METHODS, api=api)


def test_authorising_a_partner_acts_on_the_requester_only(world, owner):
    """The owner authorises the partner the other person authorised: the screen shows
    nothing of theirs, and their authorisation stays current, not superseded."""
    mine = logged_in(owner)
    path = f"/benefits/partners/{world.partner.pk}/authorize/"
    terms = {"scope": "score", "purpose": "我的单车押金", "days": "30"}
    before = state_of(world.user)

    screen = mine.get(path, terms)
    assert screen.status_code == 200
    assert_nothing_of_theirs(screen, world)
    confirmed = mine.post(path, terms | {"show_score": "on"})
    assert confirmed.status_code == 302, confirmed.content
    shown = mine.get(confirmed["Location"])
    assert shown.status_code == 200
    assert_nothing_of_theirs(shown, world)
    for method in ("PUT", "PATCH", "DELETE"):
        assert send(mine, method, path, api=False).status_code == 405

    assert state_of(world.user) == before
    assert ConsentGrant.objects.get(pk=world.partner_grant.pk).is_current()
    sharing = ConsentGrant.objects.filter(user=owner, authorization__partner=world.partner)
    assert sharing.count() == 1
    # Their token still reads their score, and only theirs.
    answer = partner_client(make_api_key(world.partner)).get(score_url(world.token))
    assert answer.status_code == 200
    assert answer.json()["score"] == THEIR_SCORE
    assert_anonymous_refused(path, ("GET", "POST"), api=False)


# --- Ids in the query string or the body --------------------------------------------------------


@pytest.mark.parametrize("kind", ["repayment", "bill"])
def test_their_records_cannot_be_disputed(kind, world, owner):
    """The dispute form takes the record's id from the query string and the body; the
    other person's late repayment or unpaid bill is not found, and no dispute is filed."""
    mine = logged_in(owner)
    record = world.repayment.pk if kind == "repayment" else world.bill.pk
    before = state_of(world.user)

    shown = mine.get(f"/score/disputes/new/?kind={kind}&record={record}")
    filed = mine.post(
        "/score/disputes/new/",
        {"kind": kind, "record": record, "statement": "Not mine, but let me try."},
    )

    assert (shown.status_code, filed.status_code) == (404, 404)
    assert_nothing_of_theirs(shown, world)
    assert_nothing_of_theirs(filed, world)
    assert not Dispute.objects.filter(user=owner).exists()
    assert state_of(world.user) == before
    # The control: the same form takes their own record.
    assert world.browser.get(f"/score/disputes/new/?kind={kind}&record={record}").status_code == (
        200
    )


def test_their_snapshot_id_does_not_open_in_my_history(world, owner):
    """`/score/history/?at=<id>` explains one of the requester's scores; another
    person's snapshot id falls back to the requester's latest."""
    response = logged_in(owner).get(f"/score/history/?at={world.snapshot.pk}")

    assert response.status_code == 200
    assert response.context["selected"].user_id == owner.pk
    assert all(row.user_id == owner.pk for row, _change in response.context["rows"])
    assert_nothing_of_theirs(response, world)


@pytest.mark.parametrize("api", [False, True], ids=["page", "api"])
def test_their_work_email_code_does_not_verify_mine(api, world, owner):
    """The six-digit code mailed to the other person does nothing for the owner's own
    pending work email, and their challenge is not used up."""
    mail.outbox.clear()
    profile_update(
        user=owner,
        sections={
            "occupation": {
                "occupation": "employee",
                "employer": "我的公司",
                "work_email": "wei@my-employer.example",
            }
        },
    )
    mine_code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    if mine_code == world.work_code:
        pytest.skip("the two random codes happen to be equal (one in a million)")
    before = state_of(world.user)

    if api:
        response = api_for(owner).post(
            "/api/v1/me/profile/work-email/code/", {"code": world.work_code}, format="json"
        )
        assert_api_error(response, 400, "code_invalid")
    else:
        response = logged_in(owner).post(
            "/accounts/profile/work-email/code/", {"code": world.work_code}
        )
        assert response.status_code == 400

    assert_nothing_of_theirs(response, world)
    assert Profile.objects.get(user=owner).work_email_verified_at is None
    assert state_of(world.user) == before
    assert WorkEmailChallenge.objects.get(user=world.user, verified_at__isnull=True).attempts == 0


# --- Every other /me call and page ----------------------------------------------------------------

# Route -> (query string, what the owner's GET answers). Every route of a person's own
# data that takes no argument: lists, forms and actions on the requester's own rows. A
# POST-only action answers GET with 405; its body carries no other person's id except where
# tested above (disputes, work-email code).
# The home is the one of them a logged-out visitor may open: it is then the welcome page.
WELCOME_WHEN_ANONYMOUS = {""}
MINE = {
    "": ("", 200),
    "accounts/password/": ("", 200),
    "accounts/password/done/": ("", 200),
    "accounts/me/": ("", 200),
    "accounts/me/data/": ("", 200),
    "accounts/me/data/export/": ("", 200),
    "accounts/me/devices/": ("", 200),
    "accounts/profile/": ("", 200),
    "accounts/profile/work-email/code/": ("", 405),
    "accounts/profile/work-email/resend/": ("", 405),
    "accounts/identity/": ("", 200),
    "accounts/notifications/": ("", 200),
    "accounts/consents/": ("", 200),
    "accounts/consents/grant/": ("", 405),
    "score/panel/": ("", 200),
    "score/recompute/": ("", 405),
    "score/history/": ("", 200),
    "score/what-if/": ("", 200),
    "score/records/": ("", 200),
    "score/statement/": ("", 405),
    "score/disputes/new/": ("?kind=bill&record={bill}", 404),
    "score/proofs/": ("", 200),
    "score/proofs/statement/": ("", 200),
    "benefits/": ("", 200),
    "benefits/vouchers/": ("", 200),
    "benefits/queries/": ("", 200),
    "benefits/goal/": ("", 200),
    "benefits/goal/remove/": ("", 405),
    "benefits/honour-reports/": ("", 200),
    "api/v1/me/": ("", 405),
    "api/v1/me/export/": ("", 200),
    "api/v1/me/password/": ("", 405),
    "api/v1/me/tokens/": ("", 200),
    "api/v1/me/profile/": ("", 200),
    "api/v1/me/profile/work-email/code/": ("", 405),
    "api/v1/me/profile/work-email/resend/": ("", 405),
    "api/v1/me/identity/": ("", 200),
    "api/v1/me/consents/": ("", 200),
    "api/v1/me/score/": ("", 200),
    "api/v1/me/score/history/": ("", 200),
    "api/v1/me/score/what-if/": ("", 405),
    "api/v1/me/statement/": ("", 405),
    "api/v1/me/disputes/": ("", 200),
    "api/v1/me/benefits/": ("", 200),
    "api/v1/me/vouchers/": ("", 200),
    "api/v1/me/queries/": ("", 200),
    "api/v1/me/goal/": ("", 404),
    "api/v1/me/goals/": ("", 200),
    "api/v1/me/partners/": ("", 200),
    "api/v1/me/decisions/": ("", 200),
    "api/v1/me/honour-reports/": ("", 200),
    "accounts/helpers/": ("", 200),
    "accounts/helpers/audit/": ("", 200),
    "accounts/helping/": ("", 200),
    "api/v1/me/helpers/": ("", 200),
    "api/v1/me/helper-audit/": ("", 200),
}


def test_every_route_without_an_argument_is_covered_or_excluded_with_a_reason():
    """A new page or /me call fails here until it joins MINE or the public exclusions."""
    unparameterised = {
        route
        for route, takes in discovered_routes().items()
        if not takes and not route.startswith(tuple(EXCLUDED_PREFIXES))
    }
    assert not set(MINE) & set(EXCLUDED_UNPARAMETERISED)
    assert unparameterised == set(MINE) | set(EXCLUDED_UNPARAMETERISED), {
        "not covered": sorted(unparameterised - set(MINE) - set(EXCLUDED_UNPARAMETERISED)),
        "gone": sorted((set(MINE) | set(EXCLUDED_UNPARAMETERISED)) - unparameterised),
    }


@pytest.mark.parametrize("route", sorted(MINE), ids=lambda route: route or "home")
def test_my_pages_and_calls_show_nothing_of_theirs(route, world, owner):
    """Each of the owner's lists, pages and exports, read with the other person's data in
    the database: none of it appears, and reading changes nothing of theirs (opening
    the notifications marks only mine read)."""
    query, status = MINE[route]
    path = "/" + route + query.format(bill=world.bill.pk)
    api = route.startswith("api/")
    before = state_of(world.user)

    response = (api_for(owner) if api else logged_in(owner)).get(path)

    assert response.status_code == status, response.content[:300]
    assert_nothing_of_theirs(response, world)
    if api:
        assert response["Content-Type"].startswith("application/json")
    assert state_of(world.user) == before
    if route in WELCOME_WHEN_ANONYMOUS:
        # Logged out, `/` says what the portal is: nobody's data, and no redirect.
        anonymous = Client().get(path)
        assert anonymous.status_code == 200
        assert_nothing_of_theirs(anonymous, world)
        assert b'id="score-panel"' not in anonymous.content
    else:
        assert_anonymous_refused(path, ("GET",), api=api)


def test_the_export_holds_only_my_rows(world, owner):
    """The JSON export read field by field: the owner's consents, scores, vouchers and
    queries only (the markers above would miss a row of theirs without free text)."""
    exported = api_for(owner).get("/api/v1/me/export/").json()

    mine = set(ConsentGrant.objects.filter(user=owner).values_list("pk", flat=True))
    assert {row["id"] for row in exported["consents"]} == mine
    assert [row["score"] for row in exported["scores"]] == [612]
    assert exported["vouchers"] == []
    assert exported["partner_queries"] == []
    assert exported["erasure_requests"] == []
    assert exported["partner_decisions"] == []
    assert exported["honour_reports"] == []
    assert exported["disputes"] == []
    assert exported["identity"]["full_name"] == "张伟"


# --- Another person's id smuggled into a body or query string ------------------------------------


@dataclass(frozen=True)
class Smuggled:
    """A write to the requester's own data, with `user`/`user_id` set to the other person."""

    name: str
    path: str
    method: str
    data: dict
    status: int
    then: Callable[[User], bool]  # what must hold for the owner afterwards
    api: bool = False


def _deleted(user: User) -> bool:
    return not User.objects.filter(pk=user.pk).exists()


SMUGGLED = [
    Smuggled(
        "api-profile-patch-with-a-user-field",
        "/api/v1/me/profile/",
        "PATCH",
        {"user": "{other}", "income_band": "lt3k"},
        400,
        lambda owner: not Profile.objects.filter(user=owner, income_band="lt3k").exists(),
        api=True,
    ),
    Smuggled(
        "api-profile-patch-with-a-user-query",
        "/api/v1/me/profile/?user={other}&user_id={other}",
        "PATCH",
        {"income_band": "lt3k"},
        200,
        lambda owner: Profile.objects.filter(user=owner, income_band="lt3k").exists(),
        api=True,
    ),
    Smuggled(
        "api-consent-grant",
        "/api/v1/me/consents/",
        "POST",
        {"purpose": "scoring", "user": "{other}", "user_id": "{other}"},
        201,
        lambda owner: ConsentGrant.objects.current().filter(user=owner).count() == 1,
        api=True,
    ),
    Smuggled(
        "api-work-email-resend",
        "/api/v1/me/profile/work-email/resend/",
        "POST",
        {"user": "{other}"},
        400,
        lambda owner: not WorkEmailChallenge.objects.filter(user=owner).exists(),
        api=True,
    ),
    Smuggled(
        "api-claim",
        "/api/v1/me/benefits/{benefit}/claim/?user={other}",
        "POST",
        {"user": "{other}"},
        201,
        lambda owner: Voucher.objects.filter(user=owner).count() == 1,
        api=True,
    ),
    Smuggled(
        "api-delete-me-with-the-same-password",
        "/api/v1/me/",
        "DELETE",
        {"password": "correct-horse-battery-42", "user": "{other}"},
        204,
        _deleted,
        api=True,
    ),
    Smuggled(
        "page-personal-statement",
        "/score/statement/",
        "POST",
        {"text": "Mine, not theirs.", "user": "{other}", "user_id": "{other}"},
        302,
        lambda owner: owner.personal_statement.text == "Mine, not theirs.",
    ),
    Smuggled(
        "page-new-proof",
        "/score/proofs/",
        "POST",
        {"shows": "band", "lifetime": "1d", "user": "{other}"},
        302,
        lambda owner: ScoreProof.objects.filter(user=owner).count() == 1,
    ),
    Smuggled(
        "page-notification-email",
        "/accounts/notifications/",
        "POST",
        {"by_email": "", "user": "{other}"},
        302,
        lambda owner: True,
    ),
    Smuggled(
        "page-recompute",
        "/score/recompute/",
        "POST",
        {"user": "{other}", "user_id": "{other}"},
        302,
        lambda owner: True,
    ),
    Smuggled(
        "page-consent-grant",
        "/accounts/consents/grant/",
        "POST",
        {"purpose": "scoring", "user": "{other}"},
        302,
        lambda owner: ConsentGrant.objects.current().filter(user=owner).count() == 1,
    ),
    Smuggled(
        "page-delete-me-with-the-same-password",
        "/accounts/me/data/",
        "POST",
        {"password": "correct-horse-battery-42", "user": "{other}"},
        302,
        _deleted,
    ),
]


@pytest.mark.parametrize("case", SMUGGLED, ids=lambda case: case.name)
def test_another_persons_id_in_the_body_or_query_is_ignored(case, world, owner):
    """Writes act on the requester whatever user id the body or the query names: the
    owner's own data changes (or the call is refused), the other person's rows do not.
    Both test users share one password, so deleting "me" with it must still delete me."""
    values = {"other": world.user.pk, "benefit": world.benefit.pk}
    path = case.path.format(**values)
    data = {key: str(value).format(**values) for key, value in case.data.items()}
    before = state_of(world.user)

    if case.api:
        response = api_for(owner).generic(
            case.method, path, json.dumps(data), content_type="application/json"
        )
    else:
        response = logged_in(owner).post(path, data)

    assert response.status_code == case.status, response.content[:300]
    assert_nothing_of_theirs(response, world)
    assert case.then(owner)
    assert state_of(world.user) == before


@pytest.mark.parametrize("section", SECTION_KEYS)
def test_profile_verification_acts_on_the_requester_only(section, world, owner):
    """A section's verification page is named by the section: it shows and files the
    requester's own request only; the other person's request (and document) stay theirs."""
    from accounts.models import SectionVerification
    from accounts.services import section_verification_file

    profile_update(
        user=world.user,
        sections={"provident_fund": {"provident_fund_months": 36}},
    )
    theirs = section_verification_file(
        user=world.user,
        section="provident_fund",
        document=SimpleUploadedFile("fund.pdf", b"%PDF-1.4\n%%EOF\n"),
    )
    mine = logged_in(owner)
    verify = f"/accounts/profile/{section}/verify/"
    before = state_of(world.user)
    verifiable = section in SectionVerification.Section.values

    page = mine.get(verify)
    assert page.status_code == (200 if verifiable else 404)
    assert_nothing_of_theirs(page, world)
    assert "fund.pdf" not in page.content.decode()
    filed = mine.post(verify, {})
    assert filed.status_code == (400 if verifiable else 404)
    for method in ("PUT", "PATCH", "DELETE"):
        assert send(mine, method, verify, api=False).status_code in (404, 405)

    assert state_of(world.user) == before
    assert SectionVerification.objects.get(pk=theirs.pk).status == "pending"
    if verifiable:
        assert_anonymous_refused(verify, ("GET", "POST"), api=False)
