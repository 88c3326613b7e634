"""The printed credit statement: a PDF in Chinese and English carrying only what the
person chose (the proof's choices, judged by proof_create and answered by proof_answer),
with a QR code of a proof link that verifies it, refused as {code, message} when a choice
is not allowed or the font is missing, and never reaching another person's data."""

from __future__ import annotations

import logging
import re

import pytest
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from scoring.models import ScoreProof, ScoreProofOpening
from scoring.selectors import score_export
from scoring.services.disputes import statement_set
from scoring.services.proofs import proof_create, proof_token
from scoring.services.scores import score_recompute
from tests.factories import grant, make_id_number, make_user, solid_file, verify_identity
from tests.pdf_text import pdf_text, squeezed

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/statement/"
PAGE = "/score/proofs/statement/"
STATEMENT = "2026年3月住院\uff0c还款晚了12天。Late once, in hospital."


def _person(name: str, sequence: str, full_name: str):
    user = make_user(name)
    verify_identity(user, make_id_number(sequence=sequence), full_name=full_name)
    grant(user)
    solid_file(user)
    return user, score_recompute(user=user, trigger="test")


@pytest.fixture
def holder(active_model):
    return _person("holder", "401", "李小龙")


@pytest.fixture
def stranger(active_model):
    return _person("stranger", "402", "王大明")


def _api(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


def _statement(user, **choices):
    body = {"shows": "at_least", "threshold": 400, "lifetime": "30d"} | choices
    return _api(user).post(URL, body, format="json")


def _text(response) -> str:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert response.content.rstrip().endswith(b"%%EOF")
    return squeezed(pdf_text(response.content))


def _band_labels(snapshot) -> tuple[str, str]:
    labels = []
    for language in ("zh-hans", "en"):
        with translation.override(language):
            labels.append(str(snapshot.get_band_display()))
    return labels[0], labels[1]


def test_the_pdf_carries_what_was_chosen_in_both_languages_and_a_verifying_link(holder):
    user, snapshot = holder
    statement_set(user=user, text=STATEMENT)

    response = _statement(user, shows="band", threshold=None, show_name=True, show_statement=True)

    text = _text(response)
    proof = ScoreProof.objects.get(user=user)
    assert proof.origin == ScoreProof.Origin.STATEMENT
    assert (proof.shows, proof.show_name, proof.show_statement) == ("band", True, True)
    assert "attachment;" in response["Content-Disposition"]
    assert response["Cache-Control"] == "no-store"
    for part in ("信用证明", "Creditstatement", "李*龙", "Holder:李*龙", "本人声明"):
        assert part in text
    zh_band, en_band = _band_labels(snapshot)
    assert squeezed(f"信用分段\uff1a{zh_band}") in text
    assert squeezed(f"Score band: {en_band}") in text
    assert squeezed(STATEMENT) in text
    link = f"http://testserver/proof/{proof_token(proof)}/"
    assert link in text
    assert "小" not in text  # the name is masked
    # The QR code's link verifies the paper: the same disclosures, online.
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(link).content.decode()
    assert "Genuine proof from Sesame Portal" in page
    assert "李*龙" in page
    assert "Late once, in hospital." in page


def test_what_was_not_chosen_is_not_on_the_paper_nor_behind_its_link(holder):
    user, snapshot = holder
    statement_set(user=user, text=STATEMENT)

    text = _text(_statement(user, threshold=400))

    assert squeezed("Score at least 400: Yes") in text
    assert squeezed("信用分达到 400\uff1a是") in text
    for absent in ("李", "龙", "本人声明", "Personalstatement", "Late", "住院", "Scoreband"):
        assert absent not in text
    for label in _band_labels(snapshot):
        assert squeezed(label) not in text
    proof = ScoreProof.objects.get(user=user)
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(f"/proof/{proof_token(proof)}/")
    assert "Late once" not in page.content.decode()
    assert "李" not in page.content.decode()


def test_the_statement_is_shown_on_a_proof_link_only_when_chosen(holder):
    user, _snapshot = holder
    statement_set(user=user, text=STATEMENT)
    common = {"shows": "band", "threshold": None, "lifetime": "1d", "show_name": False}
    chosen = proof_create(user=user, show_statement=True, **common)
    left_out = proof_create(user=user, **common)

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert "Late once, in hospital." in client.get(f"/proof/{proof_token(chosen)}/").text
    assert "Late once" not in client.get(f"/proof/{proof_token(left_out)}/").text
    # and the proofs page offers the choice
    web = Client(HTTP_ACCEPT_LANGUAGE="en")
    web.force_login(user)
    web.post("/score/proofs/", {"shows": "band", "lifetime": "1d", "show_statement": "on"})
    assert ScoreProof.objects.filter(user=user, show_statement=True).count() == 2


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"shows": "everything"}, 400, "invalid"),
        ({"shows": "at_least", "threshold": None}, 400, "threshold"),
        ({"shows": "at_least", "threshold": 2000}, 400, "invalid"),
        ({"shows": "band", "lifetime": "forever"}, 400, "invalid"),
        ({"shows": "band", "show_statement": True}, 400, "no_statement"),
        ({"shows": "band", "show_name": "perhaps"}, 400, "invalid"),
    ],
)
def test_a_choice_not_allowed_is_refused_as_json_and_nothing_is_kept(holder, body, status, code):
    user, _snapshot = holder
    response = _api(user).post(URL, body, format="json")
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == code
    assert response.json()["message"]
    assert not ScoreProof.objects.exists()


def test_refusals_stay_json_when_the_client_asks_for_a_pdf(holder):
    user, _snapshot = holder
    response = _api(user).post(
        URL, {"shows": "everything"}, format="json", HTTP_ACCEPT="application/pdf"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert (
        _api(user)
        .post(URL, {"shows": "band"}, format="json", HTTP_ACCEPT="application/pdf")
        .content.startswith(b"%PDF-")
    )


def test_no_login_no_statement(holder):
    response = APIClient().post(URL, {"shows": "band"}, format="json")
    assert response.status_code in (401, 403)
    assert "code" in response.json()
    assert Client().get(PAGE).status_code == 302
    assert not ScoreProof.objects.exists()


def test_a_missing_font_is_a_clear_refusal_not_a_server_error(holder, settings):
    user, _snapshot = holder
    settings.STATEMENT_FONT = "/nonexistent/font.ttc"

    response = _statement(user)
    assert response.status_code == 503
    assert response.json()["code"] == "font_missing"
    assert "Chinese font" in response.json()["message"]

    web = Client(HTTP_ACCEPT_LANGUAGE="en")
    web.force_login(user)
    page = web.post(PAGE, {"shows": "band", "lifetime": "30d"})
    assert page.status_code == 400
    assert "Chinese font" in page.text
    assert not ScoreProof.objects.exists()


def test_a_file_that_is_not_a_font_is_refused_the_same_way(holder, settings, tmp_path):
    user, _snapshot = holder
    fake = tmp_path / "font.ttf"
    fake.write_bytes(b"not a font")
    settings.STATEMENT_FONT = str(fake)
    response = _statement(user)
    assert response.status_code == 503
    assert response.json()["code"] == "font_missing"
    assert not ScoreProof.objects.exists()


def test_another_persons_statement_and_proof_are_never_reached(holder, stranger):
    user, _snapshot = holder
    other, _other_snapshot = stranger
    statement_set(user=user, text=STATEMENT)
    text = _text(_statement(user, show_statement=True, show_name=True))
    proof = ScoreProof.objects.get(user=user)
    assert "王" not in text

    # The stranger, who wrote no statement, cannot borrow the holder's.
    refused = _statement(other, show_statement=True)
    assert refused.json()["code"] == "no_statement"
    theirs = _text(_statement(other, show_name=True))
    assert "Late once" not in theirs
    assert "李" not in theirs
    assert "王*明" in theirs
    # The holder's proof is not theirs to see or revoke.
    web = Client(HTTP_ACCEPT_LANGUAGE="en")
    web.force_login(other)
    assert web.get(f"/score/proofs/{proof.pk}/").status_code == 404
    assert web.post(f"/score/proofs/{proof.pk}/revoke/").status_code == 404
    proof.refresh_from_db()
    assert proof.revoked_at is None
    assert not ScoreProofOpening.objects.exists()


def test_the_page_offers_the_choices_and_downloads_the_pdf(holder):
    user, snapshot = holder
    web = Client(HTTP_ACCEPT_LANGUAGE="en")
    web.force_login(user)
    page = web.get(PAGE)
    assert page.status_code == 200
    assert "Printed statement" in page.text
    assert "/score/records/" in page.text  # where to write a statement first
    assert PAGE in web.get("/score/proofs/").text

    refused = web.post(PAGE, {"shows": "band", "lifetime": "30d", "show_statement": "on"})
    assert refused.status_code == 400
    assert "Write your personal statement first" in refused.text

    response = web.post(PAGE, {"shows": "band", "lifetime": "30d", "show_name": "on"})
    text = _text(response)
    assert "李*龙" in text
    assert squeezed(_band_labels(snapshot)[1]) in text
    assert re.match(
        r'attachment; filename="sesame-statement-\d{8}-\d+\.pdf"', response["Content-Disposition"]
    )
    # Shown on the proofs page as a printed one.
    assert "Printed" in web.get("/score/proofs/").text


def test_the_export_lists_the_statements_made_not_their_pdf(holder):
    user, _snapshot = holder
    _text(_statement(user))
    exported = score_export(user=user)["score_proofs"]
    assert len(exported) == 1
    assert exported[0]["origin"] == "statement"
    assert exported[0]["show_statement"] is False
    assert "pdf" not in str(exported).lower()


def test_characters_the_font_lacks_give_a_pdf_and_stay_out_of_the_logs(holder, caplog):
    user, _snapshot = holder
    statement_set(user=user, text="Moved house \U0001f3e0 in 2026\u202e, all repaid.")
    caplog.set_level(logging.DEBUG)

    text = _text(_statement(user, show_statement=True))

    assert squeezed("Moved house") in text
    assert "allrepaid." in text
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "\U0001f3e0" not in logged
    assert "1f3e0" not in logged.lower()
    assert "Moved house" not in logged
