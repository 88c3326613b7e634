"""Erasure requests from the partner's side: its API lists only its own open requests,
naming the person only by the token ids it holds, and closes one with a note (404 for
another partner's, 409 once done); the person is told. Requests left past their deadline
are flagged by the periodic task (once), shown in the admin and told to the person."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.utils import timezone, translation
from django_celery_beat.models import PeriodicTask

from accounts.models import Notification
from accounts.notifications import notifications_page
from benefits import tasks
from benefits.models import ErasureRequest, Partner, PartnerQuery
from benefits.services import partner_status_set
from benefits.services.erasure import erasure_request_create, erasure_requests_overdue_flag
from tests.factories import authorize, make_api_key, make_partner
from tests.partner_api import PARTNER_API, assert_error, partner_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("partner_cache")]

LIST_URL = f"{PARTNER_API}/erasure-requests/"
REQUEST_FIELDS = {"id", "token_ids", "created_at", "due_at", "done_at", "note"}


def done_url(request_id: int) -> str:
    return f"{LIST_URL}{request_id}/done/"


def long_ago() -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=settings.ERASURE_DEADLINE_DAYS, hours=1)


@pytest.fixture
def token(scored_owner, partner) -> str:
    _grant, value = authorize(scored_owner, partner, "score")
    return value


@pytest.fixture
def erasure(scored_owner, partner, token) -> ErasureRequest:
    request, _created = erasure_request_create(user=scored_owner, partner_id=partner.pk)
    return request


@pytest.fixture
def other_partner(db):
    return make_partner("悦途酒店 Joyway Hotels", category="hotel")


@pytest.fixture
def other_partner_api(other_partner):
    return partner_client(make_api_key(other_partner))


# --- Listing ------------------------------------------------------------------------------------


def test_the_partner_lists_its_open_requests_by_the_token_ids_it_holds(partner_api, erasure, token):
    response = partner_api.get(LIST_URL)

    assert response.status_code == 200
    [row] = response.json()
    assert set(row) == REQUEST_FIELDS
    assert row["id"] == erasure.pk
    [token_id] = row["token_ids"]
    assert token.startswith(token_id + "_")
    assert token_id != token  # never the secret
    assert row["done_at"] is None


def test_the_listing_holds_nothing_that_identifies_the_person_otherwise(
    partner_api, erasure, scored_owner
):
    text = partner_api.get(LIST_URL).content.decode()

    assert scored_owner.username not in text
    assert scored_owner.identity.id_number_masked not in text


def test_another_partner_does_not_see_my_request(other_partner_api, erasure):
    response = other_partner_api.get(LIST_URL)

    assert response.status_code == 200
    assert response.json() == []


def test_a_done_request_leaves_the_list(partner_api, erasure):
    assert (
        partner_api.post(done_url(erasure.pk), {"note": "erased"}, format="json").status_code == 200
    )

    assert partner_api.get(LIST_URL).json() == []


def test_the_erasure_api_needs_a_key(erasure):
    assert_error(partner_client(None).get(LIST_URL), 401, "api_key_missing")
    assert_error(partner_client(None).post(done_url(erasure.pk)), 401, "api_key_missing")
    assert_error(partner_client("sk_nope").get(LIST_URL), 401, "api_key_invalid")


def test_a_suspended_partner_is_refused(partner, erasure, admin_user):
    key = make_api_key(partner)
    partner_status_set(
        partners=[partner], status=Partner.Status.SUSPENDED, reason="audit", by=admin_user
    )

    assert_error(partner_client(key).get(LIST_URL), 403, "partner_not_approved")
    assert_error(partner_client(key).post(done_url(erasure.pk)), 403, "partner_not_approved")


# --- Done ---------------------------------------------------------------------------------------


def test_marking_done_closes_the_request_keeps_the_note_and_tells_the_person(
    partner_api, erasure, scored_owner, partner
):
    response = partner_api.post(done_url(erasure.pk), {"note": "已删除全部记录"}, format="json")

    assert response.status_code == 200
    assert response.json()["done_at"]
    assert response.json()["note"] == "已删除全部记录"
    erasure.refresh_from_db()
    assert erasure.done_at is not None
    assert erasure.partner_note == "已删除全部记录"
    [notification] = Notification.objects.filter(user=scored_owner)
    assert notification.kind == Notification.Kind.PARTNER_ERASURE_DONE
    [shown] = notifications_page(user=scored_owner)
    assert partner.name in shown["text"]
    assert shown["url"] == f"/benefits/partners/{partner.pk}/"


def test_marking_done_without_a_note_is_fine(partner_api, erasure):
    response = partner_api.post(done_url(erasure.pk))

    assert response.status_code == 200
    assert response.json()["note"] == ""


def test_marking_done_twice_is_409_with_a_code(partner_api, erasure, scored_owner):
    partner_api.post(done_url(erasure.pk))

    assert_error(partner_api.post(done_url(erasure.pk)), 409, "erasure_request_done")
    assert Notification.objects.filter(user=scored_owner).count() == 1


def test_another_partner_cannot_close_my_request(other_partner_api, erasure):
    assert_error(other_partner_api.post(done_url(erasure.pk)), 404, "erasure_request_not_found")

    erasure.refresh_from_db()
    assert erasure.done_at is None


def test_an_unknown_request_is_404(partner_api, erasure):
    assert_error(partner_api.post(done_url(erasure.pk + 1000)), 404, "erasure_request_not_found")


def test_a_note_too_long_is_400(partner_api, erasure):
    response = partner_api.post(done_url(erasure.pk), {"note": "x" * 501}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    erasure.refresh_from_db()
    assert erasure.done_at is None


def test_refusals_are_logged_as_erasure_calls_without_a_person(other_partner_api, erasure):
    other_partner_api.post(done_url(erasure.pk))

    [logged] = PartnerQuery.objects.filter(kind=PartnerQuery.Kind.ERASURE)
    assert logged.outcome == "erasure_request_not_found"
    assert logged.user_id is None


def test_erasure_calls_count_against_the_rate_limit(partner, erasure):
    partner.rate_limit_per_minute = 1
    partner.save()
    client = partner_client(make_api_key(partner))

    assert client.get(LIST_URL).status_code == 200
    assert_error(client.get(LIST_URL), 429, "rate_limited")


def test_the_endpoints_are_in_the_openapi_schema(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()

    assert "/api/v1/partner/erasure-requests/" in schema["paths"]
    done = schema["paths"]["/api/v1/partner/erasure-requests/{request_id}/done/"]["post"]
    assert {"409", "404"} <= set(done["responses"])
    assert done["tags"] == ["partner"]
    assert "/api/v1/me/partners/{partner_id}/erasure/" in schema["paths"]


# --- Overdue ------------------------------------------------------------------------------------


def test_a_request_is_overdue_only_past_its_deadline_and_while_open(scored_owner, partner, token):
    request, _created = erasure_request_create(
        user=scored_owner, partner_id=partner.pk, at=long_ago()
    )
    assert request.is_overdue()
    assert not request.is_overdue(at=request.due_at - datetime.timedelta(seconds=1))
    assert list(ErasureRequest.objects.overdue()) == [request]

    request.done_at = timezone.now()
    request.save()
    assert not request.is_overdue()
    assert not ErasureRequest.objects.overdue().exists()


def test_the_task_flags_overdue_requests_once_and_tells_person_and_admins(
    scored_owner, partner, token, mailoutbox, settings
):
    settings.ADMINS = [("Ops", "ops@example.com")]
    overdue, _created = erasure_request_create(
        user=scored_owner, partner_id=partner.pk, at=long_ago()
    )

    assert tasks.erasure_requests_overdue_flag() == 1
    assert tasks.erasure_requests_overdue_flag() == 0  # once

    overdue.refresh_from_db()
    assert overdue.overdue_notified_at is not None
    [notification] = Notification.objects.filter(user=scored_owner)
    assert notification.kind == Notification.Kind.PARTNER_ERASURE_OVERDUE
    with translation.override("en"):
        [shown] = notifications_page(user=scored_owner)
    assert "not confirmed erasing your data in time" in shown["text"]
    [mail] = mailoutbox
    assert "ops@example.com" in mail.to
    assert partner.name in mail.body
    assert scored_owner.username not in mail.body


def test_the_task_leaves_requests_within_their_deadline_and_done_ones(
    scored_owner, other_user, partner, token, partner_api
):
    authorize(other_user, partner, "score")
    fresh, _created = erasure_request_create(user=scored_owner, partner_id=partner.pk)
    done, _created = erasure_request_create(user=other_user, partner_id=partner.pk, at=long_ago())
    partner_api.post(done_url(done.pk))

    assert erasure_requests_overdue_flag() == []
    fresh.refresh_from_db()
    assert fresh.overdue_notified_at is None
    assert not Notification.objects.filter(kind=Notification.Kind.PARTNER_ERASURE_OVERDUE).exists()


def test_the_task_is_in_the_beat_schedule():
    task = PeriodicTask.objects.get(task="benefits.erasure_requests_overdue_flag")

    assert task.enabled
    assert task.interval is not None


# --- Admin --------------------------------------------------------------------------------------


@pytest.fixture
def admin(admin_client):
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return admin_client


def test_the_admin_filters_overdue_requests(admin, scored_owner, other_user, partner, token):
    authorize(other_user, partner, "score")
    erasure_request_create(user=scored_owner, partner_id=partner.pk)
    late, _created = erasure_request_create(user=other_user, partner_id=partner.pk, at=long_ago())

    response = admin.get("/admin/benefits/erasurerequest/", {"overdue": "yes"})

    assert response.status_code == 200
    assert list(response.context["cl"].queryset) == [late]
    assert admin.get("/admin/benefits/erasurerequest/").status_code == 200
    change = admin.get(f"/admin/benefits/erasurerequest/{late.pk}/change/")
    assert change.status_code == 200
    assert "token_ids" not in change.content.decode()


def test_staff_cannot_add_or_edit_requests(admin, erasure):
    assert admin.get("/admin/benefits/erasurerequest/add/").status_code == 403
    admin.post(f"/admin/benefits/erasurerequest/{erasure.pk}/change/", {"partner_note": "x"})
    erasure.refresh_from_db()
    assert erasure.partner_note == ""
