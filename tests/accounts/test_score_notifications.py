"""Score notifications: one when a new score differs from the last, with its main reason in
the reader's language, from the per-user recompute and from the nightly chunk (in bulk, a
fixed number of queries, once even when the chunk is delivered twice); the inbox that
shows them; and the emails sent to those who asked for them."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from accounts.models import Notification, NotificationPreference
from accounts.notifications import notification_email_set, notification_text, notifications_page
from benefits.models import Benefit, BenefitCategory, Partner
from scoring.ml.bands import band_of
from scoring.models import ModelVersion, RecomputeChunk, RecomputeRun, ScoreSnapshot
from scoring.services.recompute import recompute_chunk_process
from scoring.services.scores import score_recompute
from scoring.tasks import recompute_run_start
from sesame_portal.export import account_export
from tests.factories import (
    SOLID_FILE_ANSWERS,
    grant,
    make_id_number,
    make_user,
    mark_verified,
    past_snapshot,
    set_profile,
    snapshot_arrays,
    solid_file,
    store_model,
    verify_identity,
)

pytestmark = pytest.mark.django_db

INBOX = "/accounts/notifications/"
ID_NUMBER = make_id_number("110105", "19900307", "456")
FULL_NAME = "王小明"


def _score_notes(user) -> list[Notification]:
    return list(
        Notification.objects.filter(user=user, kind=Notification.Kind.SCORE_CHANGED).order_by("id")
    )


def _yesterday(snapshot: ScoreSnapshot) -> None:
    """Move a snapshot a day back, as the history would hold it."""
    ScoreSnapshot.objects.filter(pk=snapshot.pk).update(
        computed_at=timezone.now() - datetime.timedelta(days=1)
    )


def _browser(user, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


@pytest.fixture
def model(db, trained) -> ModelVersion:
    return store_model(trained)


@pytest.fixture
def email_tasks(monkeypatch) -> list[tuple]:
    """Each email task published, as its arguments; it runs at once, as a worker would."""
    from accounts.tasks import notification_emails_send

    calls: list[tuple] = []

    def run(*args):
        calls.append(args)
        notification_emails_send.apply(args=args)

    monkeypatch.setattr("accounts.tasks.notification_emails_send.delay", run)
    return calls


@pytest.fixture
def person(model):
    """A scored user with an ordinary file and no housing provident fund yet."""
    user = make_user("scored")
    grant(user)
    solid_file(user)
    # Verified answers count fully; declared ones share a cap (test_declared_cap.py).
    mark_verified(user, *SOLID_FILE_ANSWERS)
    first = score_recompute(user=user, trigger="test")
    _yesterday(first)
    return user, first


def _more_fund(user) -> ScoreSnapshot:
    set_profile(user, provident_fund_months=120)  # its mark stays verified
    return score_recompute(user=user, trigger="profile:provident_fund")


# --- Per-user recompute ---------------------------------------------------------------------


def test_a_first_score_says_nothing(person):
    user, _first = person
    assert _score_notes(user) == []


def test_a_change_notifies_once_with_the_scores_and_the_main_reason(person):
    user, first = person
    second = _more_fund(user)

    [note] = _score_notes(user)
    assert second.score > first.score
    assert note.params == {
        "from": first.score,
        "to": second.score,
        "snapshot_id": second.pk,
        "previous_id": first.pk,
    }
    assert note.read_at is None
    [item] = notifications_page(user=user)  # the only notification: nothing unlocked
    assert item["url"] == f"/score/history/?at={second.pk}#change"

    with translation.override("en"):
        [item] = notifications_page(user=user)
    delta = second.score - first.score
    assert item["text"].startswith(
        f"Your score went from {first.score} to {second.score} (+{delta}), "
        "mostly because of: Housing provident fund (+"
    )
    assert item["text"].endswith(").")
    with translation.override("zh-hans"):
        [item] = notifications_page(user=user)
    assert "住房公积金" in item["text"]
    assert f"{first.score}" in item["text"]
    assert f"{second.score}" in item["text"]


def test_an_unchanged_score_says_nothing(person):
    user, _first = person
    again = score_recompute(user=user, trigger="test")
    assert _score_notes(user) == []
    assert again is not None


def test_a_fall_is_signed_and_explained_by_what_lowered_it(person):
    user, first = person
    second = _more_fund(user)
    _yesterday(second)
    ScoreSnapshot.objects.filter(pk=first.pk).update(
        computed_at=timezone.now() - datetime.timedelta(days=2)
    )
    set_profile(user, provident_fund_months=0)
    third = score_recompute(user=user, trigger="profile:provident_fund")

    latest = _score_notes(user)[-1]
    assert latest.params["from"] == second.score
    assert latest.params["to"] == third.score
    with translation.override("en"):
        text = notification_text(latest, **_explained([latest]))
    assert f"(\u2212{second.score - third.score})" in text
    assert "Housing provident fund (\u2212" in text


def test_a_per_user_score_a_newer_one_supersedes_is_kept_but_followed_up_by_nobody(person):
    """The nightly chunk's rule, now the per-user recompute's too (one pipeline): a newer
    snapshot committed meanwhile (here one stamped in the future) holds the current score,
    so its notification and unlocks stand."""
    user, first = person
    version = ModelVersion.objects.get(is_active=True)
    past_snapshot(
        user,
        first.score - 40,
        model_version=version,
        at=timezone.now() + datetime.timedelta(hours=1),
    )

    second = _more_fund(user)

    assert ScoreSnapshot.objects.get(pk=second.pk).score == second.score
    assert second.score != first.score - 40
    assert _score_notes(user) == []


def _explained(notes) -> dict:
    from accounts.notifications import notification_contexts

    return {"contexts": notification_contexts(notes)}


def test_without_its_snapshots_the_sentence_keeps_the_scores(person):
    user, first = person
    second = _more_fund(user)
    ScoreSnapshot.objects.filter(user=user).delete()  # history deleted

    with translation.override("en"):
        [item] = notifications_page(user=user)
    assert item["text"] == f"Your score went from {first.score} to {second.score}."


# --- The nightly chunk ------------------------------------------------------------------------


def _thin_users(count: int, prefix: str) -> list:
    """Consenting users with no records: they still get a score, all the same one."""
    users = []
    for i in range(count):
        user = make_user(f"{prefix}{i}")
        grant(user)
        users.append(user)
    return users


def _run(chunk_size: int) -> RecomputeRun:
    run = recompute_run_start(chunk_size=chunk_size)
    for chunk_id in run.chunks.order_by("pk").values_list("pk", flat=True):
        recompute_chunk_process(chunk_id=chunk_id)
    return run


def _lower_by(users, points: int) -> dict[int, ScoreSnapshot]:
    """A newer snapshot a few points under each user's last: the next run changes them."""
    latest = {s.user_id: s for s in ScoreSnapshot.objects.filter(user__in=users).order_by("id")}
    version = ModelVersion.objects.get(is_active=True)
    return {
        user.pk: past_snapshot(
            user, latest[user.pk].score - points, model_version=version, at=timezone.now()
        )
        for user in users
    }


def test_the_nightly_chunk_notifies_only_changed_users(model):
    users = _thin_users(8, "night")
    _run(chunk_size=100)
    assert not Notification.objects.exists()  # first scores
    lowered = _lower_by(users[:3], 7)

    run = _run(chunk_size=100)

    notes = Notification.objects.filter(kind=Notification.Kind.SCORE_CHANGED)
    assert {n.user_id for n in notes} == {u.pk for u in users[:3]}
    new = {s.user_id: s for s in ScoreSnapshot.objects.filter(run=run)}
    for note in notes:
        assert note.params == {
            "from": lowered[note.user_id].score,
            "to": new[note.user_id].score,
            "snapshot_id": new[note.user_id].pk,
            "previous_id": lowered[note.user_id].pk,
        }
        assert note.params["to"] - note.params["from"] == 7
        assert note.created_at == new[note.user_id].computed_at

    # A chunk delivered again after its worker died (its writes committed, the chunk not
    # marked done) writes nothing and says nothing more.
    RecomputeChunk.objects.filter(run=run).update(done_at=None)
    for chunk in run.chunks.all():
        recompute_chunk_process(chunk_id=chunk.pk)
    assert Notification.objects.filter(kind=Notification.Kind.SCORE_CHANGED).count() == 3


def test_the_nightly_chunk_notifies_with_a_fixed_number_of_queries(model):
    users = _thin_users(55, "fixed")
    _run(chunk_size=100)
    _lower_by(users, 5)  # everyone changes in the next runs
    small = recompute_run_start(chunk_size=5)
    big = recompute_run_start(chunk_size=50)

    with CaptureQueriesContext(connection) as small_queries:
        recompute_chunk_process(chunk_id=small.chunks.order_by("pk").first().pk)
    # The big chunk's first five users were just scored by the small one: unchanged.
    with CaptureQueriesContext(connection) as big_queries:
        recompute_chunk_process(chunk_id=big.chunks.order_by("pk").first().pk)

    def reads(context) -> list[str]:
        # SQLite splits a bulk insert by its parameter limit: compare everything else.
        return [
            q["sql"].split()[0]
            for q in context.captured_queries
            if not q["sql"].startswith("INSERT")
        ]

    assert Notification.objects.filter(kind=Notification.Kind.SCORE_CHANGED).count() == 50
    assert len(reads(big_queries)) == len(reads(small_queries))


# --- The inbox --------------------------------------------------------------------------------


def _snapshot(user, version: ModelVersion, points: dict[str, float], *, at) -> ScoreSnapshot:
    """A snapshot whose score is the model's base points plus these points, as scored."""
    score = round(version.card["base_points"] + sum(points.values()))
    return ScoreSnapshot.objects.create(
        user=user,
        score=score,
        band=band_of(score),
        dimensions={},
        **snapshot_arrays(version, points),
        model_version=version,
        trigger="test",
        computed_at=at,
    )


def _notifications(user, version: ModelVersion, count: int) -> None:
    """`count` score changes of +12 (10 of them housing fund) and a benefit unlock."""
    now = timezone.now()
    before_points = {"cp_provident_fund_months": 0.0, "id_profile_completion": 0.0}
    after_points = {"cp_provident_fund_months": 10.0, "id_profile_completion": 2.0}
    for i in range(count):
        before = _snapshot(user, version, before_points, at=now - datetime.timedelta(days=i + 1))
        after = _snapshot(user, version, after_points, at=now - datetime.timedelta(hours=i + 1))
        Notification.objects.create(
            user=user,
            kind=Notification.Kind.SCORE_CHANGED,
            params={
                "from": before.score,
                "to": after.score,
                "snapshot_id": after.pk,
                "previous_id": before.pk,
            },
        )
    Notification.objects.create(
        user=user,
        kind=Notification.Kind.BENEFIT_UNLOCKED,
        params={"benefits": [{"id": 1, "title_zh": "免押金单车", "title_en": "Free bikes"}]},
    )


def test_the_inbox_shows_every_change_with_a_fixed_number_of_queries(model, owner):
    _notifications(owner, model, 2)
    client = _browser(owner)
    with CaptureQueriesContext(connection) as few:
        first = client.get(INBOX).content.decode()
    Notification.objects.all().delete()
    _notifications(owner, model, 20)
    with CaptureQueriesContext(connection) as many:
        page = client.get(INBOX).content.decode()

    assert len(many.captured_queries) == len(few.captured_queries)
    assert first.count("mostly because of: Housing provident fund (+10).") == 2
    assert page.count("mostly because of: Housing provident fund (+10).") == 20
    assert page.count("(+12)") == 20
    assert page.count('href="/score/history/?at=') == 20
    assert "Unlocked: Free bikes" in page
    assert page.count('class="unread"') == 21
    assert '<span class="bell-count">' not in page  # opening the inbox read them all
    assert not Notification.objects.filter(user=owner, read_at__isnull=True).exists()


def test_the_inbox_in_chinese(model, owner):
    _notifications(owner, model, 1)
    page = _browser(owner, "zh-hans").get(INBOX).content.decode()
    assert "住房公积金" in page
    assert "免押金单车" in page


def test_the_header_counts_unread_score_changes(model, owner):
    _notifications(owner, model, 3)
    client = _browser(owner)
    before = client.get("/accounts/me/").content.decode()
    client.get(INBOX)
    after = client.get("/accounts/me/").content.decode()
    assert '<span class="bell-count">4</span>' in before
    assert "bell-count" not in after


def test_another_users_notifications_are_never_shown(model, owner, other_user):
    _notifications(other_user, model, 1)
    theirs = Notification.objects.get(user=other_user, kind=Notification.Kind.SCORE_CHANGED)
    # Even a notification naming someone else's snapshots explains nothing of them.
    Notification.objects.create(
        user=owner, kind=Notification.Kind.SCORE_CHANGED, params=dict(theirs.params)
    )

    page = _browser(owner).get(INBOX).content.decode()

    assert "Housing provident fund" not in page
    assert "Free bikes" not in page
    assert f"Your score went from {theirs.params['from']} to {theirs.params['to']}." in page
    assert Notification.objects.filter(user=other_user, read_at__isnull=True).count() == 2


def test_score_changes_are_in_my_data_export(person):
    user, first = person
    second = _more_fund(user)
    exported = account_export(user=user)["notifications"]
    assert [n["kind"] for n in exported] == ["score_changed"]
    assert exported[0]["params"]["to"] == second.score
    assert exported[0]["params"]["from"] == first.score


# --- Email: opting in -------------------------------------------------------------------------


def test_turning_email_on_with_an_address(owner):
    client = _browser(owner)
    response = client.post(INBOX, {"by_email": "on", "email": " me@example.cn "})

    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.email == "me@example.cn"
    preference = NotificationPreference.objects.get(user=owner)
    assert preference.by_email is True
    assert preference.language == "en"  # the language of the page they turned it on in
    assert "We will email you" in client.get(INBOX).content.decode()


def test_turning_email_on_needs_an_address(owner):
    response = _browser(owner).post(INBOX, {"by_email": "on", "email": ""})

    assert response.status_code == 200
    assert "Enter the email address to send them to." in response.content.decode()
    assert not NotificationPreference.objects.exists()


def test_turning_email_on_refuses_a_bad_address(owner):
    response = _browser(owner).post(INBOX, {"by_email": "on", "email": "not-an-address"})

    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    owner.refresh_from_db()
    assert owner.email == ""
    assert not NotificationPreference.objects.exists()


def test_an_account_with_an_email_is_not_asked_again_and_can_turn_it_off(owner):
    owner.email = "owner@example.cn"
    owner.save()
    client = _browser(owner)
    page = client.get(INBOX).content.decode()
    assert 'name="email"' not in page
    assert "owner@example.cn" in page

    client.post(INBOX, {"by_email": "on"})
    assert NotificationPreference.objects.get(user=owner).by_email is True
    client.post(INBOX, {})
    assert NotificationPreference.objects.get(user=owner).by_email is False


# --- Email: sending ---------------------------------------------------------------------------


def _opt_in(user, email: str, language: str = "en") -> None:
    notification_email_set(user=user, by_email=True, email=email, language=language)


def test_a_change_is_emailed_only_to_those_who_asked(
    person, django_capture_on_commit_callbacks, email_tasks, settings
):
    settings.PORTAL_URL = "https://portal.example.cn"
    user, first = person
    verify_identity(user, ID_NUMBER, FULL_NAME)
    _opt_in(user, "scored@example.cn")
    quiet = make_user("quiet")
    quiet.email = "quiet@example.cn"
    quiet.save()
    grant(quiet)
    solid_file(quiet)
    mark_verified(quiet, *SOLID_FILE_ANSWERS)
    _yesterday(score_recompute(user=quiet, trigger="test"))
    set_profile(quiet, provident_fund_months=120)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        second = _more_fund(user)
        score_recompute(user=quiet, trigger="profile:provident_fund")

    assert len(email_tasks) == 1
    [message] = mail.outbox
    assert message.to == ["scored@example.cn"]
    assert f"Your score went from {first.score} to {second.score}" in message.body
    assert "mostly because of: Real-name verification" in message.body
    assert f"https://portal.example.cn/score/history/?at={second.pk}#change" in message.body
    assert "https://portal.example.cn/accounts/notifications/" in message.body
    for secret in (ID_NUMBER, ID_NUMBER[:17], FULL_NAME):
        assert secret not in message.body
        assert secret not in message.subject
    assert _score_notes(user)[0].emailed_at is not None
    assert _score_notes(quiet)[0].emailed_at is None

    # A task delivered twice mails nothing twice.
    email_tasks_args = email_tasks[0]
    from accounts.tasks import notification_emails_send

    notification_emails_send.apply(args=email_tasks_args)
    assert len(mail.outbox) == 1


def test_the_email_is_in_the_language_chosen(
    person, django_capture_on_commit_callbacks, email_tasks
):
    user, _first = person
    _opt_in(user, "scored@example.cn", language="zh-hans")
    with django_capture_on_commit_callbacks(execute=True):
        _more_fund(user)
    [message] = mail.outbox
    assert "住房公积金" in message.body


def test_an_unchanged_score_sends_nothing(person, django_capture_on_commit_callbacks, email_tasks):
    user, _first = person
    _opt_in(user, "scored@example.cn")
    with django_capture_on_commit_callbacks(execute=True):
        score_recompute(user=user, trigger="test")
    assert email_tasks == []
    assert mail.outbox == []


def test_the_nightly_chunk_mails_its_users_with_one_task(
    model, django_capture_on_commit_callbacks, email_tasks
):
    users = _thin_users(6, "mailed")
    _run(chunk_size=100)
    for user in users[:4]:
        _opt_in(user, f"{user.username}@example.cn")
    _lower_by([users[0], users[1], users[4]], 3)  # two who asked for email, one who did not
    # A benefit that unlocks for everyone: benefit notifications go out in the same email.
    partner = Partner.objects.create(
        name="绿道单车", category="bike_rental", status=Partner.Status.APPROVED
    )
    Benefit.objects.create(
        partner=partner,
        min_score=350,
        title_zh="免押金单车",
        title_en="Free bikes",
        terms_zh="凭券免押金。",
        terms_en="No deposit.",
        category=BenefitCategory.BIKE_RENTAL,
        status=Benefit.Status.PUBLISHED,
        active_from=timezone.now() - datetime.timedelta(days=1),
    )

    run = recompute_run_start(chunk_size=100)
    with django_capture_on_commit_callbacks(execute=True):
        for chunk in run.chunks.all():
            recompute_chunk_process(chunk_id=chunk.pk)

    assert len(email_tasks) == 1
    by_address = {message.to[0]: message.body for message in mail.outbox}
    assert set(by_address) == {f"{u.username}@example.cn" for u in users[:4]}
    for user in users[:2]:
        body = by_address[f"{user.username}@example.cn"]
        assert "Your score went from" in body
        assert "Unlocked: Free bikes" in body
    for user in users[2:4]:
        body = by_address[f"{user.username}@example.cn"]
        assert "Your score went from" not in body
        assert "Unlocked: Free bikes" in body


def test_every_kind_says_how_it_reads_from_the_app_that_owns_it():
    """Accounts knows no app above it: each app registers its own kinds from its
    AppConfig.ready(), and together they cover every kind (none falls back to its label)."""
    from accounts.notifications import _KINDS

    assert set(_KINDS) == set(Notification.Kind.values)
    owners = {kind: handlers.text.__module__ for kind, handlers in _KINDS.items()}
    assert owners[Notification.Kind.SCORE_CHANGED] == "scoring.notifications"
    assert owners[Notification.Kind.BENEFIT_UNLOCKED] == "benefits.notifications"
    assert owners[Notification.Kind.BENEFIT_LOCKED] == "benefits.notifications"
    assert owners[Notification.Kind.NEW_SIGN_IN] == "accounts.notifications"
