"""Shareable score proofs: created with only what the person chooses, signed, judged on
the current score when opened, refused when forged, altered, expired or revoked, and every
opening logged for the person."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone

from accounts.clients import Client as WebClient
from accounts.services import consent_revoke
from scoring.models import ScoreProof, ScoreProofOpening, ScoreSnapshot
from scoring.services.proofs import SALT, proof_create, proof_token
from scoring.services.scores import score_recompute
from sesame_portal.errors import ServiceError
from tests.factories import grant, make_id_number, make_user, solid_file, verify_identity

pytestmark = pytest.mark.django_db


@pytest.fixture
def holder(active_model):
    user = make_user("holder")
    verify_identity(user, make_id_number(sequence="401"), full_name="李小龙")
    grant(user)
    solid_file(user)
    snapshot = score_recompute(user=user, trigger="test")
    return user, snapshot


def _client(user=None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_login(user)
    return client


def _create(user, **options) -> ScoreProof:
    values = {"shows": "at_least", "threshold": 600, "lifetime": "1d", "show_name": False}
    return proof_create(user=user, **(values | options))


def _open(proof: ScoreProof):
    return _client().get(f"/proof/{proof_token(proof)}/")


def test_creating_a_proof_on_the_page_leads_to_its_link_and_qr(holder):
    user, _snapshot = holder
    client = _client(user)
    response = client.post(
        "/score/proofs/",
        {"shows": "at_least", "threshold": "650", "lifetime": "7d", "show_name": "on"},
        follow=True,
    )
    page = response.content.decode()
    proof = ScoreProof.objects.get(user=user)
    assert proof.threshold == 650
    assert proof.show_name
    assert proof.expires_at - proof.created_at == datetime.timedelta(days=7)
    assert re.search(r'<svg[^>]*class="qr"', page)
    assert f"/proof/{proof_token(proof)}/" in page


@pytest.mark.parametrize("unticked", ["0", "off", "no", "false"])
def test_show_name_0_is_not_a_tick(holder, unticked):
    user, _snapshot = holder
    _client(user).post(
        "/score/proofs/",
        {"shows": "band", "lifetime": "1d", "show_name": unticked},
    )
    assert ScoreProof.objects.get(user=user).show_name is False


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"shows": "at_least", "threshold": "", "lifetime": "1d"}, "Say which score"),
        ({"shows": "at_least", "threshold": "200", "lifetime": "1d"}, "greater than or equal"),
        ({"shows": "at_least", "threshold": "abc", "lifetime": "1d"}, "whole number"),
        ({"shows": "exact", "lifetime": "1d"}, "Select a valid choice"),
        ({"shows": "band", "lifetime": "forever"}, "Select a valid choice"),
    ],
)
def test_bad_proof_input_is_refused_in_place(holder, data, message):
    user, _snapshot = holder
    response = _client(user).post("/score/proofs/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ScoreProof.objects.exists()


def test_no_proof_without_consent_or_without_a_score(holder):
    user, _snapshot = holder
    ScoreSnapshot.objects.filter(user=user).delete()
    with pytest.raises(ServiceError) as error:
        _create(user)
    assert error.value.code == "no_score"
    consent_revoke(
        user=user,
        grant_id=user.consent_grants.get(purpose="scoring").pk,
        client=WebClient(channel="web"),
    )
    with pytest.raises(ServiceError) as error:
        _create(user)
    assert error.value.code == "consent_required"


def test_an_at_least_proof_answers_yes_or_no_and_nothing_more(holder):
    user, snapshot = holder
    below, above = _create(user, threshold=snapshot.score + 1), _create(user, threshold=350)

    yes, no = _open(above), _open(below)

    assert yes.status_code == no.status_code == 200
    assert "Genuine proof from Sesame Portal" in yes.content.decode()
    assert re.search(r"Score at least 350:\s*<strong[^>]*>Yes<", yes.content.decode())
    assert re.search(
        rf"Score at least {snapshot.score + 1}:\s*<strong[^>]*>No<", no.content.decode()
    )
    for response in (yes, no):
        page = response.content.decode()
        assert f">{snapshot.score}<" not in page
        assert "李" not in page  # no name unless chosen
        assert response["Cache-Control"] == "no-store"
        assert "noindex" in response["X-Robots-Tag"]


def test_a_band_proof_shows_the_band_and_the_masked_name_when_chosen(holder):
    user, snapshot = holder
    proof = _create(user, shows="band", threshold=None, show_name=True)
    page = _open(proof).content.decode()
    assert f"Score band: {snapshot.get_band_display()}" in page
    assert "李*龙" in page
    assert "小" not in page


def test_the_answer_follows_the_current_score(holder):
    user, snapshot = holder
    proof = _create(user, threshold=snapshot.score)
    assert ">Yes<" in _open(proof).content.decode()
    ScoreSnapshot.objects.create(
        user=user,
        score=snapshot.score - 50,
        band=snapshot.band,
        dimensions=snapshot.dimensions,
        feature_points=snapshot.feature_points,
        model_version=snapshot.model_version,
        trigger="test",
    )
    assert ">No<" in _open(proof).content.decode()


def test_a_proofs_link_is_the_same_every_time_it_is_drawn(holder):
    user, _snapshot = holder
    proof = _create(user)
    page = _client(user).get(f"/score/proofs/{proof.pk}/").content.decode()
    assert proof_token(proof) == proof_token(ScoreProof.objects.get(pk=proof.pk))
    assert f"/proof/{proof_token(proof)}/" in page


def test_a_link_given_out_with_a_timestamp_still_opens(holder):
    user, _snapshot = holder
    proof = _create(user)
    old_style = signing.dumps({"p": proof.pk, "n": proof.nonce}, salt=SALT, compress=False)
    assert _client().get(f"/proof/{old_style}/").status_code == 200


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # signature
        lambda token: signing.dumps({"p": 1, "n": "x" * 32}, salt="another.salt"),
        lambda token: "not-a-token",
        lambda token: token.split(":")[0] + "::",
        lambda token: signing.Signer(salt=SALT).sign_object({"p": "x", "n": 1}),
        lambda token: signing.dumps({"p": "1; DROP TABLE", "n": 1}, salt=SALT),
        lambda token: signing.dumps(["p", 1], salt=SALT),
    ],
)
def test_a_forged_or_altered_link_is_not_genuine(holder, mangle):
    user, _snapshot = holder
    proof = _create(user)
    response = _client().get(f"/proof/{mangle(proof_token(proof))}/")
    assert response.status_code == 404
    assert "Not a genuine proof" in response.content.decode()


def test_a_signed_link_for_another_nonce_is_not_genuine(holder):
    user, _snapshot = holder
    proof = _create(user)
    forged = signing.dumps({"p": proof.pk, "n": "0" * 32}, salt=SALT)
    assert _client().get(f"/proof/{forged}/").status_code == 404


def test_expired_revoked_and_unavailable_proofs_show_nothing(holder):
    user, snapshot = holder
    expired, revoked, live = _create(user), _create(user), _create(user)
    ScoreProof.objects.filter(pk=expired.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=3),
        expires_at=timezone.now() - datetime.timedelta(days=2),
    )
    response = _client(user).post(f"/score/proofs/{revoked.pk}/revoke/", follow=True)
    assert "The proof is revoked" in response.content.decode()

    assert _open(expired).status_code == 410
    assert "has expired" in _open(expired).content.decode()
    assert _open(revoked).status_code == 410
    assert "revoked by its holder" in _open(revoked).content.decode()

    consent_revoke(
        user=user,
        grant_id=user.consent_grants.get(purpose="scoring").pk,
        client=WebClient(channel="web"),
    )
    gone = _open(live)
    assert gone.status_code == 410
    assert "cannot be answered now" in gone.content.decode()
    assert str(snapshot.score) not in gone.content.decode()


def test_every_opening_is_logged_and_shown_to_the_holder(holder):
    user, _snapshot = holder
    proof = _create(user, threshold=350)
    _open(proof)
    _open(proof)
    proof_revoke_response = _client(user).post(f"/score/proofs/{proof.pk}/revoke/")
    assert proof_revoke_response.status_code == 302
    _open(proof)

    outcomes = list(
        ScoreProofOpening.objects.filter(proof=proof)
        .order_by("opened_at")
        .values_list("outcome", "answer")
    )
    assert outcomes == [("shown", "yes"), ("shown", "yes"), ("revoked", "")]
    page = _client(user).get(f"/score/proofs/{proof.pk}/").content.decode()
    assert page.count("<time") == 3
    assert "opened 3 times" in _client(user).get("/score/proofs/").content.decode()


def test_another_users_proof_is_never_shown_or_revoked(holder):
    user, _snapshot = holder
    proof = _create(user)
    stranger = make_user("stranger")
    client = _client(stranger)
    assert client.get(f"/score/proofs/{proof.pk}/").status_code == 404
    assert client.post(f"/score/proofs/{proof.pk}/revoke/").status_code == 404
    proof.refresh_from_db()
    assert proof.revoked_at is None
    assert "You have not shared a proof yet." in client.get("/score/proofs/").content.decode()


def test_a_person_keeps_at_most_twenty_live_proofs(holder):
    user, _snapshot = holder
    for _ in range(20):
        _create(user)
    with pytest.raises(ServiceError) as error:
        _create(user)
    assert error.value.code == "too_many"


def test_proof_pages_need_a_login_but_the_public_page_does_not(holder):
    user, _snapshot = holder
    proof = _create(user)
    anonymous = _client()
    assert anonymous.get("/score/proofs/").status_code == 302
    assert anonymous.get(f"/score/proofs/{proof.pk}/").status_code == 302
    assert anonymous.get(f"/proof/{proof_token(proof)}/").status_code == 200


def test_proof_openings_are_in_who_checked_my_score(holder):
    user, _snapshot = holder
    proof = _create(user, threshold=350)
    _open(proof)
    page = _client(user).get("/benefits/queries/").content.decode()
    assert "Openings of my proofs" in page
    assert "Score at least 350: yes or no" in page
    assert page.count("<time") >= 1
