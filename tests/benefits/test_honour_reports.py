"""Honour reports (issue 20, capability 4): a person reports a partner that did not honour
a benefit they unlocked; admins answer within HONOUR_ANSWER_WITHIN in the admin, where
overdue reports are flagged; the person is notified of the answer. Nobody else sees them."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone, translation

from accounts.models import Notification
from accounts.notifications import notification_text
from benefits.models import HONOUR_ANSWER_WITHIN, HonourReport
from benefits.selectors_receipts import honour_reports_overdue
from benefits.services.receipts import honour_report_answer, honour_report_file
from benefits.services.vouchers import voucher_claim
from sesame_portal.errors import ServiceError
from tests.clients import browser
from tests.factories import make_benefit, rescore

pytestmark = pytest.mark.django_db

REPORTS = "/benefits/honour-reports/"
API = "/api/v1/me/honour-reports/"
WHAT = "The shop said the deposit waiver does not exist and charged me 200 yuan."


@pytest.fixture
def unlocked(scored_owner, partner, model_version):
    """A benefit of the partner the owner has unlocked (score 650, needs 600)."""
    benefit = make_benefit(partner, 600)
    rescore(scored_owner, 650, model_version=model_version)
    return benefit


def test_the_deadline_is_ten_days():
    assert datetime.timedelta(days=10) == HONOUR_ANSWER_WITHIN


def test_a_person_files_a_report_about_a_benefit_they_unlocked(scored_owner, unlocked):
    voucher = voucher_claim(user=scored_owner, benefit_id=unlocked.pk)

    report = honour_report_file(user=scored_owner, benefit_id=unlocked.pk, what_happened=WHAT)

    assert (report.partner, report.benefit, report.voucher) == (unlocked.partner, unlocked, voucher)
    assert report.status == "received"
    assert report.due_at == report.created_at + HONOUR_ANSWER_WITHIN


def test_the_page_files_a_report_and_lists_it_in_both_languages(scored_owner, unlocked):
    person = browser(scored_owner)
    form = person.get(REPORTS).content.decode()
    assert unlocked.title_en in form

    response = person.post(REPORTS, {"benefit": unlocked.pk, "what_happened": WHAT})

    assert response.status_code == 302
    page = person.get(REPORTS).content.decode()
    assert WHAT in page
    assert "Answer due by" in page
    chinese = browser(scored_owner, "zh-hans").get(REPORTS).content.decode()
    assert "我的举报" in chinese
    assert WHAT in chinese


def test_only_an_unlocked_benefit_and_one_open_report_per_benefit(
    scored_owner, unlocked, partner, owner_api
):
    never = make_benefit(partner, 800)
    refused = owner_api.post(API, {"benefit": never.pk, "what_happened": WHAT}, format="json")
    assert refused.status_code == 404
    assert refused.json()["code"] == "benefit_not_unlocked"

    first = owner_api.post(API, {"benefit": unlocked.pk, "what_happened": WHAT}, format="json")
    again = owner_api.post(API, {"benefit": unlocked.pk, "what_happened": WHAT}, format="json")

    assert first.status_code == 201, first.content
    assert again.status_code == 409
    assert again.json()["code"] == "honour_report_open"
    blank = owner_api.post(API, {"benefit": unlocked.pk, "what_happened": "  "}, format="json")
    assert blank.status_code == 400
    assert HonourReport.objects.count() == 1


def test_another_person_cannot_see_or_file_on_my_reports(
    scored_owner, unlocked, other_user, other_api
):
    honour_report_file(user=scored_owner, benefit_id=unlocked.pk, what_happened=WHAT)

    assert other_api.get(API).json() == []
    assert WHAT not in browser(other_user).get(REPORTS).content.decode()
    assert other_api.get("/api/v1/me/export/").json()["honour_reports"] == []
    # They never unlocked it: they cannot report on it.
    filed = other_api.post(API, {"benefit": unlocked.pk, "what_happened": WHAT}, format="json")
    assert filed.status_code == 404
    assert HonourReport.objects.filter(user=other_user).count() == 0


def test_the_answer_is_given_once_and_the_person_is_notified(scored_owner, unlocked, admin_user):
    report = honour_report_file(user=scored_owner, benefit_id=unlocked.pk, what_happened=WHAT)
    with pytest.raises(ServiceError):
        honour_report_answer(report=report, upheld=True, answer=" ", by=admin_user)

    honour_report_answer(report=report, upheld=True, answer="The partner refunded.", by=admin_user)

    report.refresh_from_db()
    assert (report.status, report.answered_by) == ("upheld", admin_user)
    notice = Notification.objects.get(user=scored_owner, kind="honour_report_answered")
    with translation.override("en"):
        assert "was upheld" in notification_text(notice)
    with pytest.raises(ServiceError) as answered:
        honour_report_answer(report=report, upheld=False, answer="Again.", by=admin_user)
    assert answered.value.code == "honour_report_answered"
    exported = browser(scored_owner).get("/api/v1/me/export/").json()["honour_reports"]
    assert exported[0]["answer"] == "The partner refunded."


def test_overdue_reports_are_flagged_in_the_admin_and_answered_there(
    scored_owner, unlocked, admin_user, partner, model_version
):
    late = honour_report_file(user=scored_owner, benefit_id=unlocked.pk, what_happened=WHAT)
    HonourReport.objects.filter(pk=late.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=11),
        due_at=timezone.now() - datetime.timedelta(days=1),
    )
    other = make_benefit(partner, 600, title_en="Second offer")
    rescore(scored_owner, 651, model_version=model_version)
    fresh = honour_report_file(user=scored_owner, benefit_id=other.pk, what_happened="Refused.")

    assert list(honour_reports_overdue()) == [HonourReport.objects.get(pk=late.pk)]
    staff = browser(admin_user)
    flagged = staff.get("/admin/benefits/honourreport/?overdue=yes").content.decode()
    assert f"/admin/benefits/honourreport/{late.pk}/change/" in flagged
    assert f"/admin/benefits/honourreport/{fresh.pk}/change/" not in flagged
    listing = staff.get("/admin/benefits/honourreport/").content.decode()
    assert "icon-yes.svg" in listing
    assert "icon-no.svg" in listing

    answered = staff.post(
        f"/admin/benefits/honourreport/{late.pk}/change/",
        {"outcome": "not_upheld", "reply": "The voucher had expired."},
    )

    assert answered.status_code == 302, answered.content[:500]
    late.refresh_from_db()
    assert (late.status, late.answer) == ("not_upheld", "The voucher had expired.")
    assert list(honour_reports_overdue()) == []
    assert Notification.objects.filter(kind="honour_report_answered").count() == 1
