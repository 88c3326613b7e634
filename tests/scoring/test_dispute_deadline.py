"""Disputes that keep their promise: every change of a dispute is told to its owner (and
mailed to those who asked), and a dispute left unanswered past its 20-day deadline takes
its repayment or bill out of the score (one rule, in the features' loader) until it is
answered; the recompute that follows says so in the history, on the page and in the API.
Another person is never touched."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client
from django.utils import timezone, translation
from django.utils.formats import date_format
from django_celery_beat.models import PeriodicTask
from rest_framework.test import APIClient

from accounts.models import ConsentPurpose, Notification
from accounts.notifications import notification_email_set, notifications_page
from scoring.models import Dispute, PendingRecompute, Repayment, ScoreSnapshot, UtilityBill
from scoring.models.disputes import ANSWER_WITHIN
from scoring.selectors import feature_inputs_load, score_export
from scoring.services.disputes import dispute_file, dispute_transition
from scoring.services.scores import score_recompute
from scoring.tasks import disputes_overdue, score_recompute_user
from sesame_portal.celery import app
from tests.dates import days_ago
from tests.factories import add_account, add_bill, add_repayment, grant, make_user, solid_file

pytestmark = pytest.mark.django_db
STATEMENT = "I paid on time: the bank receipt says so."


@pytest.fixture
def email_tasks(monkeypatch) -> list[tuple]:
    """Each email task published runs at once, as a worker would."""
    from accounts.tasks import notification_emails_send

    calls: list[tuple] = []

    def run(*args):
        calls.append(args)
        notification_emails_send.apply(args=args)

    monkeypatch.setattr("accounts.tasks.notification_emails_send.delay", run)
    return calls


def _person(name: str):
    """A consenting person with an ordinary file, one late instalment and one unpaid bill."""
    user = make_user(name)
    grant(user, ConsentPurpose.SCORING, ConsentPurpose.UTILITY_BILLS)
    solid_file(user)
    loan = add_account(user, opened_on=days_ago(500))
    late = add_repayment(loan, due=days_ago(90), days_overdue=45)
    add_repayment(loan, due=days_ago(60))
    bill = add_bill(user, due=days_ago(40), paid_on=None, kind="water")
    add_bill(user, due=days_ago(70), paid_on=days_ago(71))
    # The profile's recompute, queued while the file was made, is not under test here.
    PendingRecompute.objects.filter(user=user).delete()
    return user, late, bill


@pytest.fixture
def person(db):
    return _person("disputer")


@pytest.fixture
def bystander(db):
    """Another person with the same kind of file, who disputes nothing."""
    return _person("bystander")


def _file(user, record, kind: str = Dispute.Kind.REPAYMENT) -> Dispute:
    return dispute_file(user=user, kind=kind, record_id=record.pk, field="", statement=STATEMENT)


def _days_pass(dispute: Dispute, days: int) -> None:
    """As if the dispute had been filed `days` ago."""
    moved = timezone.now() - datetime.timedelta(days=days)
    Dispute.objects.filter(pk=dispute.pk).update(created_at=moved, due_at=moved + ANSWER_WITHIN)


def _facts(*users):
    ids = [user.pk for user in users]
    return feature_inputs_load(user_ids=ids, as_of=timezone.localdate()).facts


def _facts_without(record, *users):
    """The facts as they would be if the record did not exist at all."""
    with transaction.atomic():
        type(record).objects.filter(pk=record.pk).delete()
        facts = _facts(*users)
        transaction.set_rollback(True)
    return facts


def _statuses(user) -> list[str]:
    return [
        n.params["status"]
        for n in Notification.objects.filter(
            user=user, kind=Notification.Kind.DISPUTE_UPDATED
        ).order_by("created_at", "pk")
    ]


# --- The deadline task ---------------------------------------------------------------------


def test_the_deadline_task_is_on_the_beat_schedule():
    scheduled = PeriodicTask.objects.get(task="scoring.disputes_overdue_mark")
    assert scheduled.enabled
    assert (scheduled.interval.every, scheduled.interval.period) == (15, "minutes")
    assert app.tasks["scoring.disputes_overdue_mark"].name == disputes_overdue.name


def test_the_deadline_is_twenty_days_from_filing(person):
    user, late, _bill = person
    dispute = _file(user, late)
    assert datetime.timedelta(days=20) == ANSWER_WITHIN
    assert dispute.due_at - dispute.created_at == ANSWER_WITHIN


def test_before_its_deadline_a_dispute_is_left_alone(
    person, recompute_calls, django_capture_on_commit_callbacks
):
    user, late, _bill = person
    dispute = _file(user, late)
    _days_pass(dispute, 19)
    with django_capture_on_commit_callbacks(execute=True):
        disputes_overdue()
    dispute.refresh_from_db()
    assert dispute.overdue_at is None
    assert not dispute.is_overdue
    assert recompute_calls == []
    assert _statuses(user) == ["received"]


def test_past_its_deadline_it_is_marked_told_and_recomputed_once(
    person, bystander, recompute_calls, django_capture_on_commit_callbacks
):
    user, late, _bill = person
    dispute = _file(user, late)
    _days_pass(dispute, 21)
    with django_capture_on_commit_callbacks(execute=True):
        disputes_overdue()
    dispute.refresh_from_db()
    assert dispute.is_overdue
    assert dispute.record_uncounted
    assert recompute_calls == [(user.pk, "dispute_overdue")]
    assert _statuses(user) == ["received", "overdue"]
    # Run again: nothing new (the mark is the guard).
    with django_capture_on_commit_callbacks(execute=True):
        disputes_overdue()
    assert recompute_calls == [(user.pk, "dispute_overdue")]
    assert _statuses(user) == ["received", "overdue"]
    assert not Notification.objects.filter(user=bystander[0]).exists()


def test_a_dispute_answered_in_time_is_not_affected(
    person, recompute_calls, django_capture_on_commit_callbacks
):
    user, late, bill = person
    rejected = _file(user, late)
    dispute_transition(dispute=rejected, status=Dispute.Status.REJECTED, note="The bank says late.")
    reviewed = _file(user, bill, Dispute.Kind.BILL)
    dispute_transition(dispute=reviewed, status=Dispute.Status.CORRECTED)
    recompute_calls.clear()
    for dispute in (rejected, reviewed):
        _days_pass(dispute, 30)
    before = _facts(user)
    with django_capture_on_commit_callbacks(execute=True):
        disputes_overdue()
    assert not Dispute.objects.filter(overdue_at__isnull=False).exists()
    assert recompute_calls == []
    assert "overdue" not in _statuses(user)
    assert _facts(user).equals(before)


def test_an_overdue_profile_dispute_is_told_but_changes_no_score(
    person, recompute_calls, django_capture_on_commit_callbacks
):
    user, _late, _bill = person
    dispute = dispute_file(
        user=user, kind=Dispute.Kind.PROFILE, record_id=None, field="income_band", statement="x"
    )
    _days_pass(dispute, 21)
    before = _facts(user)
    with django_capture_on_commit_callbacks(execute=True):
        disputes_overdue()
    dispute.refresh_from_db()
    assert dispute.is_overdue
    assert not dispute.record_uncounted
    assert recompute_calls == []
    assert _statuses(user) == ["received", "overdue"]
    assert _facts(user).equals(before)


# --- The loader: one rule, one place -------------------------------------------------------


@pytest.mark.parametrize("which", ["repayment", "bill"])
def test_the_loader_leaves_out_exactly_the_overdue_disputed_record(person, bystander, which):
    user, late, bill = person
    record, kind = (late, Dispute.Kind.REPAYMENT) if which == "repayment" else (bill, "bill")
    before = _facts(user, bystander[0])
    dispute = _file(user, record, kind)
    assert _facts(user, bystander[0]).equals(before)  # open, in time: it still counts
    _days_pass(dispute, 21)
    assert _facts(user, bystander[0]).equals(before)  # not marked yet: still counts
    disputes_overdue()

    after = _facts(user, bystander[0])
    assert not after.equals(before)
    # Exactly as if the record were not there, for this person only.
    assert after.equals(_facts_without(record, user, bystander[0]))
    assert after.loc[bystander[0].pk].equals(before.loc[bystander[0].pk])
    assert type(record).objects.filter(pk=record.pk).exists()  # nothing is deleted


def test_the_loader_reads_one_person_the_same_alone_as_in_a_chunk(person, bystander):
    user, late, _bill = person
    dispute = _file(user, late)
    _days_pass(dispute, 21)
    disputes_overdue()
    together = _facts(user, bystander[0])
    assert together.loc[[user.pk]].equals(_facts(user))
    assert together.loc[[bystander[0].pk]].equals(_facts(bystander[0]))


def test_the_loader_adds_no_query_for_disputes(
    person, bystander, django_assert_max_num_queries, django_assert_num_queries
):
    """Overdue disputes or not, a chunk's inputs cost the same fixed number of queries."""
    user, late, _bill = person
    ids = [user.pk, bystander[0].pk]
    with django_assert_max_num_queries(50) as counted:
        feature_inputs_load(user_ids=ids, as_of=timezone.localdate())
    dispute = _file(user, late)
    _days_pass(dispute, 21)
    disputes_overdue()
    with django_assert_num_queries(len(counted.captured_queries)):
        feature_inputs_load(user_ids=ids, as_of=timezone.localdate())


@pytest.mark.parametrize(
    ("answer", "trigger"),
    [
        (Dispute.Status.REJECTED, "dispute_answered_late"),
        (Dispute.Status.CORRECTED, "dispute_corrected"),
    ],
)
def test_a_late_answer_counts_the_record_again_and_recomputes(
    person, recompute_calls, django_capture_on_commit_callbacks, answer, trigger
):
    user, late, _bill = person
    before = _facts(user)
    dispute = _file(user, late)
    _days_pass(dispute, 21)
    with django_capture_on_commit_callbacks(execute=True):
        disputes_overdue()
    assert not _facts(user).equals(before)
    with django_capture_on_commit_callbacks(execute=True):
        dispute_transition(dispute=dispute, status=answer, note="Checked with the bank.")
    assert recompute_calls == [(user.pk, "dispute_overdue"), (user.pk, trigger)]
    assert _facts(user).equals(before)
    assert _statuses(user) == ["received", "overdue", answer]


def test_under_review_after_the_deadline_is_not_an_answer(
    person, recompute_calls, django_capture_on_commit_callbacks
):
    user, late, _bill = person
    dispute = _file(user, late)
    _days_pass(dispute, 21)
    disputes_overdue()
    uncounted = _facts(user)
    with django_capture_on_commit_callbacks(execute=True):
        dispute_transition(dispute=dispute, status=Dispute.Status.UNDER_REVIEW)
    assert _facts(user).equals(uncounted)
    assert all(trigger == "dispute_overdue" for _user, trigger in recompute_calls)


# --- The recompute and the history ---------------------------------------------------------


def test_the_recompute_writes_a_snapshot_whose_history_says_why(
    person, bystander, active_model, recompute_calls, django_capture_on_commit_callbacks
):
    user, late, _bill = person
    first = score_recompute(user=user, trigger="test")
    other_first = score_recompute(user=bystander[0], trigger="test")
    dispute = _file(user, late)
    _days_pass(dispute, 21)
    with django_capture_on_commit_callbacks(execute=True):
        disputes_overdue()
    for user_id, trigger in recompute_calls:
        score_recompute_user(user_id, trigger)  # what the worker runs

    latest = ScoreSnapshot.objects.filter(user=user).latest("computed_at")
    assert latest.pk != first.pk
    assert latest.trigger == "dispute_overdue"
    # A 45-day late instalment no longer counts: the score does not fall.
    assert latest.score >= first.score
    words = "Dispute deadline passed: the disputed record no longer counts"
    with translation.override("en"):
        assert latest.trigger_label == words

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    assert words in client.get("/score/history/").content.decode()
    history = client.get("/api/v1/me/score/history/").json()
    assert history[0]["trigger"] == "dispute_overdue"
    assert history[0]["trigger_text"] == words
    zh = Client(HTTP_ACCEPT_LANGUAGE="zh-Hans")
    zh.force_login(user)
    assert "申诉处理期限已过" in zh.get("/score/history/").content.decode()
    # The other person keeps their one snapshot.
    assert list(ScoreSnapshot.objects.filter(user=bystander[0])) == [other_first]


# --- Notifications -------------------------------------------------------------------------


def test_every_status_change_is_told_and_mailed_to_who_asked(
    person, bystander, email_tasks, django_capture_on_commit_callbacks
):
    user, late, bill = person
    notification_email_set(user=user, by_email=True, email="me@example.cn", language="en")
    notification_email_set(
        user=bystander[0], by_email=True, email="other@example.cn", language="en"
    )
    with django_capture_on_commit_callbacks(execute=True):
        first = _file(user, late)
    with django_capture_on_commit_callbacks(execute=True):
        dispute_transition(dispute=first, status=Dispute.Status.UNDER_REVIEW)
    with django_capture_on_commit_callbacks(execute=True):
        dispute_transition(dispute=first, status=Dispute.Status.REJECTED, note="Paid late.")
    with django_capture_on_commit_callbacks(execute=True):
        second = _file(user, bill, Dispute.Kind.BILL)
    _days_pass(second, 21)
    with django_capture_on_commit_callbacks(execute=True):
        disputes_overdue()
    with django_capture_on_commit_callbacks(execute=True):
        dispute_transition(dispute=second, status=Dispute.Status.CORRECTED)

    assert _statuses(user) == [
        "received",
        "under_review",
        "rejected",
        "received",
        "overdue",
        "corrected",
    ]
    with translation.override("en"):
        texts = [item["text"] for item in reversed(notifications_page(user=user))]
        due = date_format(timezone.localdate(first.due_at))
    assert texts[0] == f"We received your dispute of a record and will answer by {due}."
    assert texts[1].startswith("Your dispute is under review.")
    assert texts[2] == "Your dispute was rejected. Reason: Paid late."
    assert "does not count in your score" in texts[4]
    assert texts[5].startswith("Your dispute was upheld")
    urls = {item["url"] for item in notifications_page(user=user)}
    assert urls == {f"/score/disputes/{first.pk}/", f"/score/disputes/{second.pk}/"}

    # One email per change, to the person only, never naming the record.
    assert len(mail.outbox) == 6
    assert {tuple(message.to) for message in mail.outbox} == {("me@example.cn",)}
    assert {message.subject for message in mail.outbox} == {"Sesame Portal: news of your dispute"}
    assert "Paid late." in mail.outbox[2].body
    assert all("water" not in message.body.lower() for message in mail.outbox)
    assert not Notification.objects.filter(user=bystander[0]).exists()


def test_no_email_without_the_choice(person, email_tasks, django_capture_on_commit_callbacks):
    user, late, _bill = person
    with django_capture_on_commit_callbacks(execute=True):
        _file(user, late)
    assert _statuses(user) == ["received"]
    assert mail.outbox == []


# --- Page, API and admin -------------------------------------------------------------------


@pytest.fixture
def overdue(person):
    user, late, _bill = person
    dispute = _file(user, late)
    _days_pass(dispute, 21)
    disputes_overdue()
    PendingRecompute.objects.filter(user=user).delete()  # as if the worker ran
    dispute.refresh_from_db()
    return user, dispute


def test_the_dispute_page_shows_the_deadline_and_that_the_record_does_not_count(overdue):
    user, dispute = overdue
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    page = client.get(f"/score/disputes/{dispute.pk}/").content.decode()
    assert timezone.localdate(dispute.due_at).isoformat() in page
    assert "Overdue" in page
    assert "this record does not count in your score" in page
    records = client.get("/score/records/").content.decode()
    assert "does not count in your score meanwhile" in records


def test_the_api_lists_my_disputes_with_deadline_and_overdue_flag(overdue, bystander):
    user, dispute = overdue
    api = APIClient()
    assert api.get("/api/v1/me/disputes/").status_code == 401
    api.force_authenticate(user)
    rows = api.get("/api/v1/me/disputes/").json()
    assert len(rows) == 1
    row = rows[0]
    assert row["id"] == dispute.pk
    assert row["status"] == "received"
    assert row["overdue"] is True
    assert row["counts_in_score"] is False
    assert datetime.datetime.fromisoformat(row["due_at"]) == dispute.due_at
    api.force_authenticate(bystander[0])
    assert api.get("/api/v1/me/disputes/").json() == []


def test_the_export_says_when_the_deadline_passed(overdue):
    user, dispute = overdue
    exported = score_export(user=user)["disputes"]
    assert [row["overdue_at"] for row in exported] == [dispute.overdue_at]


def test_in_time_the_api_says_not_overdue(person):
    user, late, _bill = person
    _file(user, late)
    api = APIClient()
    api.force_authenticate(user)
    row = api.get("/api/v1/me/disputes/").json()[0]
    assert row["overdue"] is False
    assert row["counts_in_score"] is True


def test_another_person_cannot_see_the_overdue_dispute(overdue, bystander):
    _user, dispute = overdue
    client = Client()
    client.force_login(bystander[0])
    assert client.get(f"/score/disputes/{dispute.pk}/").status_code == 404


def test_admins_filter_overdue_disputes_and_still_answer_them(
    overdue, person, admin_client, recompute_calls, django_capture_on_commit_callbacks
):
    user, dispute = overdue
    in_time = _file(user, person[2], Dispute.Kind.BILL)
    listed = admin_client.get("/admin/scoring/dispute/?deadline=overdue")
    assert listed.status_code == 200
    shown = {row.pk for row in listed.context["cl"].result_list}
    assert shown == {dispute.pk}
    everything = admin_client.get("/admin/scoring/dispute/")
    assert {row.pk for row in everything.context["cl"].result_list} == {dispute.pk, in_time.pk}

    events = str(dispute.events.count())
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/scoring/dispute/{dispute.pk}/change/",
            {
                "status": "rejected",
                "note": "The bank confirms the late payment.",
                "events-TOTAL_FORMS": events,
                "events-INITIAL_FORMS": events,
            },
        )
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert dispute.status == "rejected"
    assert not dispute.is_overdue
    assert recompute_calls == [(user.pk, "dispute_answered_late")]
    answered_late = admin_client.get("/admin/scoring/dispute/?deadline=answered_late")
    assert {row.pk for row in answered_late.context["cl"].result_list} == {dispute.pk}
    assert Repayment.objects.filter(user=user).count() == 20
    assert UtilityBill.objects.filter(user=user).count() == 2
