"""Partner API credentials: every wrong key and token combination, table-driven.

tests/benefits/test_partner_api.py already covers, on the score call only, a missing key,
a malformed, empty, truncated, over-long, upper-cased, unknown or token-shaped key, a
revoked key and a partner not approved; on score and eligibility, an expired, a revoked
or another partner's authorisation and a wrong last character of the token. This module
crosses the key problems with every one of the six calls, adds the key sent where the
contract does not read it, and the token problems it misses (another partner's revoked or
expired token, tampering, the wrong kind of credential, a superseded token, a partner
trying to widen its scope or change the purpose, a person who withdrew scoring consent).

For each refusal it asserts the contract's status and code, a body that is exactly
`{code, message}` with nothing of the score in it, and the query log: a call by a known
partner leaves exactly one row, refused or not ("every call is logged"), naming the
person only when the partner holds their authorisation; a call no key identifies leaves
none (there is no partner to log it against), and neither does a URL that matches no call.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from accounts.models import ConsentGrant, ConsentPurpose, User
from accounts.services import consent_revoke
from benefits.credentials import API_KEY_KIND, TOKEN_KIND, credential_new
from benefits.models import Benefit, Partner, PartnerApiKey, PartnerQuery, Voucher
from benefits.services import voucher_claim
from benefits.services.partner_access import api_key_revoke
from scoring.models import ModelVersion
from tests.dates import in_days
from tests.factories import (
    WEB,
    authorize,
    grant_scoring,
    make_api_key,
    make_benefit,
    make_partner,
    make_user,
    set_score,
    verify,
)
from tests.partner_api import (
    IDENTITY_CHECK_URL,
    eligibility_url,
    partner_client,
    redeem_url,
    score_url,
    voucher_url,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("partner_cache", "recompute_calls"),
]

SCORE = 733
DIMENSIONS = {"capacity": 66, "credit_history": 77}
SCORE_FIELDS = {"score", "band", "computed_at"}
PURPOSE = "单车押金减免 bike deposit waiver"


@dataclass
class Scene:
    """An approved partner with a key; a verified, consenting person scored 733 who
    authorised it (score scope) and holds a voucher of its benefit; a second approved
    partner with a key and a benefit of its own."""

    person: User
    id_number: str
    partner: Partner
    key: str
    key_row: PartnerApiKey
    other_partner: Partner
    other_key: str
    offer: Benefit
    their_offer: Benefit
    grant: ConsentGrant
    token: str
    voucher: Voucher


@pytest.fixture
def scene(owner) -> Scene:
    version = ModelVersion.objects.create(
        version="credentials-1", kind=ModelVersion.Kind.PORTAL, artifact=b"{}", sha256="0" * 64
    )
    number = verify(owner, full_name="张伟")
    grant_scoring(owner)
    set_score(owner, SCORE, DIMENSIONS, model_version=version)
    partner = make_partner()
    other_partner = make_partner("悦途酒店 Joyway Hotels", category="hotel")
    offer = make_benefit(partner, 600)
    their_offer = make_benefit(other_partner, 600)
    key = make_api_key(partner, "primary")
    grant, token = authorize(owner, partner, "score", purpose=PURPOSE)
    return Scene(
        person=owner,
        id_number=number,
        partner=partner,
        key=key,
        key_row=PartnerApiKey.objects.get(partner=partner),
        other_partner=other_partner,
        other_key=make_api_key(other_partner, "theirs"),
        offer=offer,
        their_offer=their_offer,
        grant=grant,
        token=token,
        voucher=voucher_claim(user=owner, benefit_id=offer.pk),
    )


# --- What each refusal must look like -------------------------------------------------------------


def assert_refused(response, status: int, code: str) -> None:
    """This status, exactly `{code, message}`, and nothing of the score anywhere."""
    assert response.status_code == status, (response.status_code, response.content)
    body = response.json()
    assert set(body) == {"code", "message"}, body
    assert body["code"] == code, body
    assert body["message"]
    assert str(SCORE) not in response.content.decode()
    assert all(isinstance(value, str) for value in body.values()), body
    if status == 401:
        assert response["WWW-Authenticate"] == "Api-Key"


def last_row_id() -> int:
    return PartnerQuery.objects.order_by("-id").values_list("id", flat=True).first() or 0


NO_ROW = object()


def assert_logged(before: int, expected) -> None:
    """NO_ROW, or the one row the call left: (partner, person or None, outcome, status)."""
    rows = list(PartnerQuery.objects.filter(pk__gt=before))
    if expected is NO_ROW:
        assert rows == [], [(r.outcome, r.status_code) for r in rows]
        return
    partner, user, outcome, status = expected
    assert len(rows) == 1, [(r.outcome, r.status_code) for r in rows]
    row = rows[0]
    assert (row.partner, row.user, row.outcome, row.status_code) == (
        partner,
        user,
        outcome,
        status,
    )
    assert row.fields_disclosed == []


def assert_voucher_untouched(scene: Scene) -> None:
    scene.voucher.refresh_from_db()
    assert scene.voucher.redeemed_at is None


# --- The six calls --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    name: str
    method: str
    path: Callable[[Scene], str]
    body: Callable[[Scene], dict | None] = lambda scene: None


CALLS = [
    Call("score", "GET", lambda s: score_url(s.token)),
    Call("eligibility", "GET", lambda s: eligibility_url(s.token, s.offer.pk)),
    Call("voucher", "GET", lambda s: voucher_url(s.voucher.code)),
    Call("redeem", "POST", lambda s: redeem_url(s.voucher.code)),
    Call(
        "identity-check",
        "POST",
        lambda s: IDENTITY_CHECK_URL,
        lambda s: {"token": s.token, "full_name": "张伟", "id_number": s.id_number},
    ),
    Call(
        "decision",
        "POST",
        lambda s: f"/api/v1/partner/authorizations/{s.token}/decisions/",
        lambda s: {"decision": "approved", "reason_code": "score_above_policy"},
    ),
]


def perform(client: APIClient, call: Call, scene: Scene, *, query: str = ""):
    path = call.path(scene) + query
    body = call.body(scene)
    if call.method == "GET":
        return client.get(path)
    return client.post(path, body, format="json") if body is not None else client.post(path)


# --- Keys: every problem on every call ------------------------------------------------------------


def with_header(**headers) -> APIClient:
    client = APIClient()
    client.credentials(**headers)
    return client


def _revoked(scene: Scene) -> str:
    api_key_revoke(key=scene.key_row)
    return scene.key


def _revoked_of_suspended(scene: Scene) -> str:
    Partner.objects.filter(pk=scene.partner.pk).update(status=Partner.Status.SUSPENDED)
    return _revoked(scene)


@dataclass(frozen=True)
class KeyProblem:
    name: str
    client: Callable[[Scene], APIClient]
    code: str
    query: Callable[[Scene], str] = lambda scene: ""
    on_score_already: bool = False  # covered for the score call in test_partner_api.py


def api_key(value: Callable[[Scene], str]) -> Callable[[Scene], APIClient]:
    return lambda scene: with_header(HTTP_AUTHORIZATION=f"Api-Key {value(scene)}")


KEY_PROBLEMS = [
    KeyProblem("no-key", lambda s: APIClient(), "api_key_missing", on_score_already=True),
    KeyProblem(
        "malformed", api_key(lambda s: "not-a-key"), "api_key_invalid", on_score_already=True
    ),
    KeyProblem("empty", api_key(lambda s: ""), "api_key_invalid", on_score_already=True),
    KeyProblem(
        "unknown",
        api_key(lambda s: credential_new(API_KEY_KIND)[0]),
        "api_key_invalid",
        on_score_already=True,
    ),
    KeyProblem("revoked", api_key(_revoked), "api_key_invalid", on_score_already=True),
    KeyProblem("token-as-key", api_key(lambda s: s.token), "api_key_invalid"),
    # Not covered anywhere before.
    KeyProblem(
        "revoked-key-of-suspended-partner", api_key(_revoked_of_suspended), "api_key_invalid"
    ),
    KeyProblem(
        "another-partners-key-one-char-off",
        api_key(lambda s: s.other_key[:-1] + ("A" if s.other_key[-1] != "A" else "B")),
        "api_key_invalid",
    ),
    KeyProblem(
        "stored-hash-as-key",
        api_key(lambda s: hashlib.sha256(s.key.encode()).hexdigest()),
        "api_key_invalid",
    ),
    KeyProblem("prefix-only", api_key(lambda s: s.key.rsplit("_", 1)[0]), "api_key_invalid"),
    KeyProblem("two-keys", api_key(lambda s: f"{s.key} {s.other_key}"), "api_key_invalid"),
    KeyProblem("x-api-key-header", lambda s: with_header(HTTP_X_API_KEY=s.key), "api_key_missing"),
    KeyProblem(
        "api-key-header-without-scheme",
        lambda s: with_header(HTTP_API_KEY=s.key),
        "api_key_missing",
    ),
    KeyProblem(
        "bare-key-in-authorization",
        lambda s: with_header(HTTP_AUTHORIZATION=s.key),
        "api_key_missing",
    ),
    KeyProblem(
        "bearer-scheme",
        lambda s: with_header(HTTP_AUTHORIZATION=f"Bearer {s.key}"),
        "api_key_missing",
    ),
    KeyProblem(
        "token-scheme",
        lambda s: with_header(HTTP_AUTHORIZATION=f"Token {s.key}"),
        "api_key_missing",
    ),
    KeyProblem(
        "basic-scheme",
        lambda s: with_header(HTTP_AUTHORIZATION=f"Basic {s.key}"),
        "api_key_missing",
    ),
    KeyProblem(
        "key-in-query-string",
        lambda s: APIClient(),
        "api_key_missing",
        query=lambda s: f"?api_key={s.key}",
    ),
    KeyProblem(
        "key-in-query-string-as-api-key-param",
        lambda s: APIClient(),
        "api_key_missing",
        query=lambda s: f"?Api-Key={s.key}&key={s.key}",
    ),
    KeyProblem(
        "key-in-cookie",
        lambda s: with_header(HTTP_COOKIE=f"api_key={s.key}"),
        "api_key_missing",
    ),
]


@pytest.mark.parametrize(
    ("problem", "call"),
    [
        pytest.param(problem, call, id=f"{problem.name}-{call.name}")
        for problem in KEY_PROBLEMS
        for call in CALLS
        if not (problem.on_score_already and call.name == "score")
    ],
)
def test_a_call_no_valid_key_identifies_is_401_and_not_logged(problem, call, scene):
    """401 with the contract's code on every call; no partner, so no row; the voucher
    is not redeemed and the score is not in the answer."""
    before = last_row_id()

    response = perform(problem.client(scene), call, scene, query=problem.query(scene))

    assert_refused(response, 401, problem.code)
    assert_logged(before, NO_ROW)
    assert_voucher_untouched(scene)


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"])
@pytest.mark.parametrize("call", CALLS, ids=lambda call: call.name)
@pytest.mark.parametrize(
    ("credentials", "code"),
    [
        pytest.param(lambda s: APIClient(), "api_key_missing", id="no-key"),
        pytest.param(api_key(_revoked), "api_key_invalid", id="revoked-key"),
    ],
)
def test_every_method_needs_a_valid_key_first(credentials, code, call, method, scene):
    """Without a valid key every method, the ones a call does not offer included, is 401
    before anything else is said (not 405, which would confirm the call exists for it)."""
    before = last_row_id()

    response = credentials(scene).generic(method, call.path(scene))

    if method == "HEAD":  # no body to read
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Api-Key"
    else:
        assert_refused(response, 401, code)
    assert_logged(before, NO_ROW)
    assert_voucher_untouched(scene)


# --- A partner that is not approved, with its own valid key and token -----------------------------

# Covered in test_partner_api.py: score (pending, suspended), identity check and redeem
# (suspended).
NOT_APPROVED_ALREADY = {("pending", "score"), ("suspended", "score")}
NOT_APPROVED_ALREADY |= {("suspended", "identity-check"), ("suspended", "redeem")}


@pytest.mark.parametrize(
    ("status", "call"),
    [
        pytest.param(status, call, id=f"{status}-{call.name}")
        for status in (Partner.Status.PENDING, Partner.Status.SUSPENDED)
        for call in CALLS
        if (status, call.name) not in NOT_APPROVED_ALREADY
    ],
)
def test_the_valid_key_of_a_partner_not_approved_is_403_and_logged_without_the_person(
    status, call, scene
):
    """403 partner_not_approved, before any token or voucher is looked at: the row names
    the partner and no person, and the voucher stays unredeemed."""
    Partner.objects.filter(pk=scene.partner.pk).update(status=status)
    before = last_row_id()

    response = perform(partner_client(scene.key), call, scene)

    assert_refused(response, 403, "partner_not_approved")
    assert_logged(before, (scene.partner, None, "partner_not_approved", 403))
    assert_voucher_untouched(scene)


# --- Tokens: what a valid key sends in the URL ----------------------------------------------------


def _theirs(scene: Scene, scope: str = "score") -> tuple[ConsentGrant, str]:
    """The same person authorised the other partner too: a token that partner holds."""
    return authorize(scene.person, scene.other_partner, scope, purpose="酒店先住后付")


def _their_revoked(scene: Scene) -> str:
    grant, token = _theirs(scene)
    consent_revoke(user=scene.person, grant_id=grant.pk, client=WEB)
    return token


def _their_expired(scene: Scene) -> str:
    grant, token = _theirs(scene)
    ConsentGrant.objects.filter(pk=grant.pk).update(expires_at=in_days(-0.001))
    return token


def _their_partner_suspended(scene: Scene) -> str:
    _grant, token = _theirs(scene)
    Partner.objects.filter(pk=scene.other_partner.pk).update(status=Partner.Status.SUSPENDED)
    return token


def _superseded(scene: Scene) -> str:
    authorize(scene.person, scene.partner, "score_and_subscores")  # authorised again
    return scene.token


def _expired_and_revoked(scene: Scene) -> str:
    ConsentGrant.objects.filter(pk=scene.grant.pk).update(expires_at=in_days(-0.001))
    consent_revoke(user=scene.person, grant_id=scene.grant.pk, client=WEB)
    return scene.token


def _change_at(value: str, index: int) -> str:
    return value[:index] + ("a" if value[index] != "a" else "b") + value[index + 1 :]


def _strangers(scene: Scene) -> str:
    """A stranger's token for this very partner, one character changed."""
    stranger = make_user("stranger")
    _grant, token = authorize(stranger, scene.partner, "score")
    return _change_at(token, len(token) // 2 + 10)


NOT_FOUND = (404, "authorization_not_found")


@dataclass(frozen=True)
class TokenProblem:
    name: str
    token: Callable[[Scene], str]
    status: int
    code: str
    person_logged: bool = False  # the row names the person: the partner holds their token


TOKEN_PROBLEMS = [
    TokenProblem("another-partners-revoked-token", _their_revoked, *NOT_FOUND),
    TokenProblem("another-partners-expired-token", _their_expired, *NOT_FOUND),
    TokenProblem("token-of-a-suspended-partner", _their_partner_suspended, *NOT_FOUND),
    TokenProblem("one-char-changed-in-the-id", lambda s: _change_at(s.token, 5), *NOT_FOUND),
    TokenProblem(
        "one-char-changed-in-the-secret",
        lambda s: _change_at(s.token, len(s.token) // 2 + 8),
        *NOT_FOUND,
    ),
    TokenProblem("first-char-changed", lambda s: "x" + s.token[1:], *NOT_FOUND),
    TokenProblem("truncated-by-one", lambda s: s.token[:-1], *NOT_FOUND),
    TokenProblem("truncated-to-its-id", lambda s: s.token.rsplit("_", 1)[0], *NOT_FOUND),
    TokenProblem("one-char-appended", lambda s: s.token + "A", *NOT_FOUND),
    TokenProblem("upper-cased", lambda s: s.token.upper(), *NOT_FOUND),
    TokenProblem("trailing-space", lambda s: s.token + "%20", *NOT_FOUND),
    TokenProblem("stored-hash", lambda s: hashlib.sha256(s.token.encode()).hexdigest(), *NOT_FOUND),
    TokenProblem("grant-id", lambda s: str(s.grant.pk), *NOT_FOUND),
    TokenProblem("api-key-as-token", lambda s: s.key, *NOT_FOUND),
    TokenProblem(
        "token-with-the-key-kind", lambda s: API_KEY_KIND + s.token[len(TOKEN_KIND) :], *NOT_FOUND
    ),
    TokenProblem("unknown-well-formed", lambda s: credential_new(TOKEN_KIND)[0], *NOT_FOUND),
    TokenProblem("a-strangers-token-tampered", _strangers, *NOT_FOUND),
    TokenProblem(
        "superseded-by-a-new-authorisation",
        _superseded,
        403,
        "authorization_replaced",
        person_logged=True,
    ),
    TokenProblem("expired-and-revoked", _expired_and_revoked, 403, "authorization_revoked", True),
]
TOKEN_CALLS = [call for call in CALLS if call.name in ("score", "eligibility")]


@pytest.mark.parametrize(
    ("problem", "call"),
    [
        pytest.param(problem, call, id=f"{problem.name}-{call.name}")
        for problem in TOKEN_PROBLEMS
        for call in TOKEN_CALLS
    ],
)
def test_a_token_this_partner_does_not_hold_is_refused_and_logged(problem, call, scene):
    """The contract's code; one row for the partner, naming the person only when the
    token really is this partner's authorisation of them."""
    token = problem.token(scene)
    path = score_url(token) if call.name == "score" else eligibility_url(token, scene.offer.pk)
    before = last_row_id()

    response = partner_client(scene.key).get(path)

    assert_refused(response, problem.status, problem.code)
    person = scene.person if problem.person_logged else None
    assert_logged(before, (scene.partner, person, problem.code, problem.status))


@pytest.mark.parametrize(
    "make_token", [_their_revoked, _their_expired, _their_partner_suspended, _strangers]
)
@pytest.mark.parametrize("call", TOKEN_CALLS, ids=lambda call: call.name)
def test_what_becomes_of_another_partners_token_is_not_told(make_token, call, scene):
    """Another partner's token, revoked, expired or of a suspended partner, is refused
    exactly like a token that never existed: no oracle on other partners' customers."""
    api = partner_client(scene.key)

    def ask(token: str):
        url = score_url(token) if call.name == "score" else eligibility_url(token, scene.offer.pk)
        return api.get(url)

    theirs, unknown = ask(make_token(scene)), ask(credential_new(TOKEN_KIND)[0])

    assert theirs.status_code == unknown.status_code == 404
    assert theirs.content == unknown.content


def test_another_partners_token_with_their_own_benefit_is_not_found_either(scene):
    """Eligibility for the other partner's benefit with the other partner's token: the
    token is refused first (not benefit_not_found, which would confirm the token)."""
    _grant, theirs = _theirs(scene)
    before = last_row_id()

    response = partner_client(scene.key).get(eligibility_url(theirs, scene.their_offer.pk))

    assert_refused(response, *NOT_FOUND)
    assert_logged(before, (scene.partner, None, "authorization_not_found", 404))


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(lambda s: "/api/v1/partner/authorizations//score/", id="empty-score"),
        pytest.param(
            lambda s: f"/api/v1/partner/authorizations//benefits/{s.offer.pk}/eligibility/",
            id="empty-eligibility",
        ),
        pytest.param(
            lambda s: f"/api/v1/partner/authorizations/{s.token}%2F/score/", id="encoded-slash"
        ),
        pytest.param(
            lambda s: f"/api/v1/partner/authorizations/{s.token}/score/extra/", id="extra-segment"
        ),
    ],
)
def test_a_url_with_no_token_in_it_matches_no_call(path, scene):
    """An empty token or one broken by a slash matches no route: a JSON 404 `not_found`,
    no row (no call ran), never the score."""
    before = last_row_id()

    response = partner_client(scene.key).get(path(scene))

    assert_refused(response, 404, "not_found")
    assert_logged(before, NO_ROW)


# --- Scope and purpose: what a partner may not widen ----------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "?scope=score_and_subscores",
        "?fields=dimensions",
        "?include=dimensions&expand=dimensions",
        "?purpose=marketing",
        "?purpose=&scope=",
    ],
)
def test_a_partner_cannot_widen_the_scope_or_restate_the_purpose_in_the_query(query, scene):
    """With a score-only authorisation the sub-scores stay out whatever the partner adds
    to the URL, and the log keeps the purpose the person agreed to."""
    before = last_row_id()

    response = partner_client(scene.key).get(score_url(scene.token) + query)

    assert response.status_code == 200, response.content
    assert set(response.json()) == SCORE_FIELDS
    row = PartnerQuery.objects.get(pk__gt=before)
    assert (row.purpose, row.fields_disclosed) == (PURPOSE, sorted(SCORE_FIELDS))


def test_a_sub_scores_authorisation_for_another_partner_does_not_widen_this_one(scene):
    """The person shares sub-scores with the other partner only: this partner's score-only
    token still gets no dimensions, and the other partner's token is not this partner's."""
    _grant, theirs = _theirs(scene, "score_and_subscores")
    api = partner_client(scene.key)

    mine = api.get(score_url(scene.token))
    borrowed = api.get(score_url(theirs))

    assert set(mine.json()) == SCORE_FIELDS
    assert_refused(borrowed, *NOT_FOUND)
    # The other partner itself does get them.
    assert partner_client(scene.other_key).get(score_url(theirs)).json()["dimensions"] == (
        DIMENSIONS
    )


def test_an_eligibility_authorisation_without_a_benefit_answers_yes_or_no_only(scene):
    """Authorised for eligibility (any of the partner's benefits, as the consents page
    gives it): eligibility without points_away, and no score."""
    grant, token = authorize(scene.person, scene.partner, "eligibility")
    api = partner_client(scene.key)

    answer = api.get(eligibility_url(token, scene.offer.pk))
    score = api.get(score_url(token))

    assert answer.status_code == 200, answer.content
    assert answer.json() == {"benefit": scene.offer.pk, "eligible": True}
    assert_refused(score, 403, "out_of_scope")
    assert PartnerQuery.objects.filter(outcome="ok").get().fields_disclosed == ["eligible"]
    assert grant.is_current()


@pytest.mark.parametrize("scope", ["score", "score_and_subscores", "eligibility"])
def test_after_the_person_withdraws_scoring_consent_nothing_of_the_score_is_shared(scope, scene):
    """Their partner authorisation is still current, but without scoring consent there is
    no score: the score call is 404 score_unavailable, eligibility says no (and
    points_away is null), and neither the number nor the sub-scores leave."""
    _grant, token = authorize(scene.person, scene.partner, scope)
    scoring = ConsentGrant.objects.get(user=scene.person, purpose=ConsentPurpose.SCORING)
    consent_revoke(user=scene.person, grant_id=scoring.pk, client=WEB)
    api = partner_client(scene.key)
    before = last_row_id()

    score = api.get(score_url(token))
    eligibility = api.get(eligibility_url(token, scene.offer.pk))

    if scope == "eligibility":
        assert_refused(score, 403, "out_of_scope")
        assert eligibility.json() == {"benefit": scene.offer.pk, "eligible": False}
    else:
        assert_refused(score, 404, "score_unavailable")
        assert eligibility.json() == {
            "benefit": scene.offer.pk,
            "eligible": False,
            "points_away": None,
        }
    assert eligibility.status_code == 200
    rows = list(PartnerQuery.objects.filter(pk__gt=before).order_by("id"))
    assert [(r.user, r.outcome) for r in rows] == [
        (scene.person, "out_of_scope" if scope == "eligibility" else "score_unavailable"),
        (scene.person, "ok"),
    ]
    assert "score" not in rows[1].fields_disclosed


def test_a_valid_key_and_token_still_answer_after_all_this(scene):
    """The control: the scene's own key and token do get the score, so every refusal
    above is about the credential that was changed."""
    response = partner_client(scene.key).get(score_url(scene.token))

    assert response.status_code == 200, response.content
    assert response.json()["score"] == SCORE
    assert partner_client(scene.key).get(voucher_url(scene.voucher.code)).status_code == 200
