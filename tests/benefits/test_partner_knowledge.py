"""What each partner knows about me: the partners listed for the person, one partner's
disclosures, authorisations and erasure requests (page and API), asking it to erase
(idempotent, one open request per partner), and the export. Another person sees none of
it, and a partner that knows nothing of the person has no page."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.services import consent_revoke
from benefits.models import ErasureRequest, PartnerAuthorization, PartnerQuery
from benefits.selectors import partner_knowledge, partner_known_to_user, partners_for_user
from benefits.services.erasure import erasure_request_create, erasure_request_done
from sesame_portal.errors import ServiceError
from tests.clients import browser
from tests.factories import WEB, authorize, make_partner, set_score
from tests.partner_api import score_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("partner_cache")]

PURPOSE = "押金减免 deposit waiver"


def page_url(partner_id: int) -> str:
    return f"/benefits/partners/{partner_id}/"


def erasure_url(partner_id: int) -> str:
    return f"/benefits/partners/{partner_id}/erasure/"


def api_url(partner_id: int) -> str:
    return f"/api/v1/me/partners/{partner_id}/"


@pytest.fixture
def token(scored_owner, partner) -> str:
    _grant, value = authorize(scored_owner, partner, "score")
    return value


@pytest.fixture
def disclosed(partner_api, token) -> str:
    """The partner read the owner's score once (a disclosure) and was refused once."""
    assert partner_api.get(score_url(token)).status_code == 200
    wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert partner_api.get(score_url(wrong)).status_code == 404
    return token


@pytest.fixture
def stranger(db):
    """A partner that has never been authorised by, nor shown anything of, the owner."""
    return make_partner("悦途酒店 Joyway Hotels", category="hotel")


# --- Selectors ----------------------------------------------------------------------------------


def test_partners_for_user_lists_authorised_and_shown_partners_only(
    scored_owner, partner, stranger, disclosed
):
    [summary] = partners_for_user(user=scored_owner)

    assert summary.partner == partner
    assert summary.disclosures == 1
    assert summary.authorised is True
    assert summary.erasure_open is None
    assert summary.last_disclosed_at == PartnerQuery.objects.get(outcome="ok").created_at


def test_a_partner_stays_listed_after_its_authorisation_is_revoked(scored_owner, partner, token):
    grant = PartnerAuthorization.objects.get(partner=partner).grant
    consent_revoke(user=scored_owner, grant_id=grant.pk, client=WEB)

    [summary] = partners_for_user(user=scored_owner)

    assert summary.partner == partner
    assert summary.authorised is False
    assert summary.disclosures == 0


def test_partner_knowledge_holds_disclosures_authorisations_and_requests(
    scored_owner, partner, disclosed
):
    erasure, _created = erasure_request_create(user=scored_owner, partner_id=partner.pk)

    knowledge = partner_knowledge(user=scored_owner, partner=partner)

    [disclosure] = knowledge.disclosures
    assert sorted(disclosure.fields_disclosed) == ["band", "computed_at", "score"]
    assert disclosure.purpose == PURPOSE
    assert knowledge.disclosures_total == 1
    [grant] = knowledge.grants
    assert grant.authorization.partner == partner
    assert knowledge.erasure_requests == [erasure]
    assert knowledge.erasure_open == erasure
    assert knowledge.erasure_overdue is False


def test_a_decision_the_partner_reports_is_not_a_disclosure(scored_owner, partner, token):
    PartnerQuery.objects.create(
        partner=partner,
        user=scored_owner,
        kind=PartnerQuery.Kind.DECISION,
        detail={"decision": "approved", "reason_code": "x"},
        outcome="ok",
        status_code=201,
    )

    assert partner_knowledge(user=scored_owner, partner=partner).disclosures == []


def test_a_partner_unknown_to_the_person_is_not_found(scored_owner, other_user, partner, token):
    assert partner_known_to_user(user=scored_owner, partner_id=partner.pk) == partner
    assert partner_known_to_user(user=other_user, partner_id=partner.pk) is None


# --- Services -----------------------------------------------------------------------------------


def test_asking_to_erase_opens_one_request_due_after_the_deadline(scored_owner, partner, token):
    at = timezone.now()

    erasure, created = erasure_request_create(user=scored_owner, partner_id=partner.pk, at=at)

    assert created is True
    assert erasure.due_at == at + datetime.timedelta(days=settings.ERASURE_DEADLINE_DAYS)
    prefix = PartnerAuthorization.objects.get(partner=partner).prefix
    assert erasure.token_ids == [f"au_{prefix}"]
    assert token.startswith(erasure.token_ids[0] + "_")
    assert erasure.done_at is None


def test_asking_again_while_open_gives_the_same_request(scored_owner, partner, token):
    first, _created = erasure_request_create(user=scored_owner, partner_id=partner.pk)

    again, created = erasure_request_create(user=scored_owner, partner_id=partner.pk)

    assert created is False
    assert again.pk == first.pk
    assert ErasureRequest.objects.count() == 1


def test_a_new_request_can_be_made_once_the_last_is_done(scored_owner, partner, token):
    first, _created = erasure_request_create(user=scored_owner, partner_id=partner.pk)
    erasure_request_done(partner=partner, request_id=first.pk, note="erased")

    second, created = erasure_request_create(user=scored_owner, partner_id=partner.pk)

    assert created is True
    assert second.pk != first.pk


def test_the_database_allows_one_open_request_per_person_and_partner(scored_owner, partner, token):
    erasure, _created = erasure_request_create(user=scored_owner, partner_id=partner.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        ErasureRequest.objects.create(
            user=scored_owner, partner=partner, due_at=erasure.due_at, token_ids=[]
        )


def test_a_partner_that_knows_nothing_cannot_be_asked(scored_owner, stranger):
    with pytest.raises(ServiceError) as refused:
        erasure_request_create(user=scored_owner, partner_id=stranger.pk)

    assert refused.value.code == "not_found"
    assert refused.value.status_code == 404
    assert not ErasureRequest.objects.exists()


# --- The page -----------------------------------------------------------------------------------


def test_the_queries_page_links_each_partner_page(scored_owner, partner, disclosed):
    response = browser(scored_owner).get("/benefits/queries/")

    assert response.status_code == 200
    assert f'href="{page_url(partner.pk)}"' in response.content.decode()


def test_the_partner_page_shows_disclosures_authorisations_and_the_erasure_button(
    scored_owner, partner, disclosed
):
    response = browser(scored_owner).get(page_url(partner.pk))

    body = response.content.decode()
    assert response.status_code == 200
    assert "What 绿道单车 GreenLane Bikes knows about me" in body
    assert "band, when it was computed, score" in body
    assert PURPOSE in body
    assert "Score only" in body  # the authorisation's scope
    assert "Active" in body
    assert f'action="{erasure_url(partner.pk)}"' in body


def test_the_partner_page_reads_in_chinese(scored_owner, partner, disclosed):
    body = browser(scored_owner, "zh-hans").get(page_url(partner.pk)).content.decode()

    assert "绿道单车 GreenLane Bikes 掌握的我的信息" in body
    assert "申请删除我的数据" in body
    assert "《中华人民共和国个人信息保护法》" in body


def test_tapping_erase_opens_the_request_and_shows_it(scored_owner, partner, disclosed):
    client = browser(scored_owner)

    response = client.post(erasure_url(partner.pk), follow=True)

    body = response.content.decode()
    assert response.redirect_chain[-1][0] == page_url(partner.pk)
    assert "Sent." in body
    assert "Waiting for the partner" in body
    assert f'action="{erasure_url(partner.pk)}"' not in body
    assert ErasureRequest.objects.filter(user=scored_owner, partner=partner).count() == 1

    again = client.post(erasure_url(partner.pk), follow=True)
    assert "You have asked this partner already" in again.content.decode()
    assert ErasureRequest.objects.count() == 1


def test_the_page_shows_a_done_request_with_the_partners_note(scored_owner, partner, token):
    erasure, _created = erasure_request_create(user=scored_owner, partner_id=partner.pk)
    erasure_request_done(partner=partner, request_id=erasure.pk, note="已删除全部记录")

    body = browser(scored_owner).get(page_url(partner.pk)).content.decode()

    assert "Erased" in body
    assert "已删除全部记录" in body
    assert f'action="{erasure_url(partner.pk)}"' in body  # may ask again


def test_the_page_shows_an_overdue_request(scored_owner, partner, token):
    erasure_request_create(
        user=scored_owner,
        partner_id=partner.pk,
        at=timezone.now() - datetime.timedelta(days=settings.ERASURE_DEADLINE_DAYS + 1),
    )

    body = browser(scored_owner).get(page_url(partner.pk)).content.decode()

    assert "Overdue" in body
    assert "has not confirmed in time" in body


def test_the_page_needs_a_login(client, partner):
    response = client.get(page_url(partner.pk))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_another_person_cannot_see_my_partner_page_nor_ask_for_me(
    scored_owner, other_user, partner, disclosed
):
    other = browser(other_user)

    assert other.get(page_url(partner.pk)).status_code == 404
    assert other.post(erasure_url(partner.pk)).status_code == 404
    assert not ErasureRequest.objects.exists()
    assert partner.name not in other.get("/benefits/queries/").content.decode()


def test_the_page_of_a_partner_that_knows_nothing_is_not_found(scored_owner, stranger):
    client = browser(scored_owner)

    assert client.get(page_url(stranger.pk)).status_code == 404
    assert client.post(erasure_url(stranger.pk)).status_code == 404
    assert client.get(page_url(999999)).status_code == 404


def test_erasing_is_a_post(scored_owner, partner, token):
    assert browser(scored_owner).get(erasure_url(partner.pk)).status_code == 405
    assert not ErasureRequest.objects.exists()


def test_the_page_queries_do_not_grow_with_the_history(
    scored_owner, partner, partner_api, token, model_version
):
    client = browser(scored_owner)
    partner_api.get(score_url(token))
    client.get(page_url(partner.pk))
    with CaptureQueriesContext(connection) as small:
        assert client.get(page_url(partner.pk)).status_code == 200

    for _ in range(5):
        partner_api.get(score_url(token))
    authorize(scored_owner, partner, "score_and_subscores")
    set_score(scored_owner, 660, model_version=model_version)
    with CaptureQueriesContext(connection) as large:
        assert client.get(page_url(partner.pk)).status_code == 200

    assert len(large.captured_queries) == len(small.captured_queries)


# --- The person's API ---------------------------------------------------------------------------


def test_api_lists_my_partners(owner_api, scored_owner, partner, stranger, disclosed):
    response = owner_api.get("/api/v1/me/partners/")

    assert response.status_code == 200
    [row] = response.json()
    assert row["partner"]["id"] == partner.pk
    assert row["disclosures"] == 1
    assert row["authorised"] is True
    assert row["erasure_open"] is None


def test_api_gives_one_partners_knowledge(owner_api, scored_owner, partner, disclosed):
    body = owner_api.get(api_url(partner.pk)).json()

    assert body["partner"]["name"] == partner.name
    assert body["disclosures_total"] == 1
    [disclosure] = body["disclosures"]
    assert sorted(disclosure["fields_disclosed"]) == ["band", "computed_at", "score"]
    assert disclosure["purpose"] == PURPOSE
    [authorisation] = body["authorisations"]
    assert authorisation["scope"] == "score"
    assert authorisation["is_current"] is True
    assert authorisation["expires_at"]
    assert body["erasure_requests"] == []
    assert body["erasure_overdue"] is False


def test_api_erasure_is_created_once_then_answered_with_the_same_request(
    owner_api, scored_owner, partner, token
):
    first = owner_api.post(f"{api_url(partner.pk)}erasure/")
    again = owner_api.post(f"{api_url(partner.pk)}erasure/")

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert first.json()["done_at"] is None
    assert first.json()["overdue"] is False
    assert "token_ids" not in first.json()
    listed = owner_api.get("/api/v1/me/partners/").json()
    assert listed[0]["erasure_open"]["id"] == first.json()["id"]


def test_api_scope_another_person_gets_404_with_a_code(other_api, scored_owner, partner, disclosed):
    assert other_api.get("/api/v1/me/partners/").json() == []
    detail = other_api.get(api_url(partner.pk))
    assert detail.status_code == 404
    assert detail.json()["code"] == "not_found"
    erase = other_api.post(f"{api_url(partner.pk)}erasure/")
    assert erase.status_code == 404
    assert erase.json()["code"] == "not_found"
    assert not ErasureRequest.objects.exists()


def test_api_needs_authentication(api_client, partner):
    for response in (
        api_client.get("/api/v1/me/partners/"),
        api_client.get(api_url(partner.pk)),
        api_client.post(f"{api_url(partner.pk)}erasure/"),
    ):
        assert response.status_code == 401
        assert response.json()["code"]


# --- The export ---------------------------------------------------------------------------------


def test_the_export_holds_my_erasure_requests(owner_api, scored_owner, partner, token):
    erasure, _created = erasure_request_create(user=scored_owner, partner_id=partner.pk)
    erasure_request_done(partner=partner, request_id=erasure.pk, note="done")

    exported = owner_api.get("/api/v1/me/export/").json()

    [row] = exported["erasure_requests"]
    assert row["partner__name"] == partner.name
    assert row["partner_note"] == "done"
    assert row["done_at"]
    assert "token_ids" not in row
