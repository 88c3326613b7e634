"""Alerts the moment data is used: a partner's answered score query, identity check or
voucher redemption tells the person at once (written with the call's log row), or in a
weekly digest if they chose one; mailed to those who asked for email, once."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django_celery_beat.models import PeriodicTask

from accounts import tasks as account_tasks
from accounts.models import DataUseAlerts, Notification, NotificationPreference
from accounts.notifications import (
    data_use_emails_send,
    notification_email_set,
    notifications_page,
)
from accounts.services import consent_revoke
from benefits import tasks as benefit_tasks
from benefits.models import PartnerQuery, Voucher
from benefits.services import partner_calls
from benefits.services.data_use import data_use_digests_create
from benefits.services.vouchers import voucher_claim
from tests.factories import (
    WEB,
    authorize,
    grant_scoring,
    make_api_key,
    make_partner,
    set_score,
    verify,
)
from tests.partner_api import (
    IDENTITY_CHECK_URL,
    assert_error,
    partner_client,
    redeem_url,
    score_url,
    voucher_url,
)

INBOX = "/accounts/notifications/"


@pytest.fixture(autouse=True)
def _cold_cache():
    partner_calls._keys.clear()
    yield
    partner_calls._keys.clear()


@pytest.fixture
def other_partner(db):
    return make_partner("悦途酒店 Joyway Hotels", category="hotel")


def alerts(user) -> list[Notification]:
    return list(Notification.objects.filter(user=user, kind=Notification.Kind.DATA_USED))


def alert_text(user, language: str = "en") -> str:
    with translation.override(language):
        (item,) = [i for i in notifications_page(user=user) if i["kind"] == "data_used"]
    return item["text"]


def choose_weekly(user) -> None:
    notification_email_set(user=user, by_email=False, data_use_alerts=DataUseAlerts.WEEKLY)


def identity_check(api, token, number, full_name="张伟"):
    return api.post(
        IDENTITY_CHECK_URL, {"token": token, "full_name": full_name, "id_number": number}, "json"
    )


# --- The alert, written with the log row --------------------------------------------------------


def test_an_answered_score_query_alerts_the_person_with_its_log_row(
    partner_api, scored_owner, partner
):
    _grant, token = authorize(scored_owner, partner, "score", purpose="押金减免 deposit waiver")

    assert partner_api.get(score_url(token)).status_code == 200

    query = PartnerQuery.objects.get(outcome="ok")
    (alert,) = alerts(scored_owner)
    assert alert.params == {"query_id": query.pk}
    assert alert.created_at == query.created_at
    text = alert_text(scored_owner)
    assert text.startswith(partner.display_name)
    assert "checked your score for “押金减免 deposit waiver”" in text
    assert "score, band, when it was computed" in text
    assert "查询了您的信用分" in alert_text(scored_owner, "zh-hans")
    (item,) = notifications_page(user=scored_owner)
    assert item["url"] == "/benefits/queries/"


def test_the_fast_path_still_takes_one_statement_to_log_count_and_alert(
    partner_api, scored_owner, partner
):
    _grant, token = authorize(scored_owner, partner, "score")
    assert partner_api.get(score_url(token)).status_code == 200  # the key is cached

    with CaptureQueriesContext(connection) as queries:
        assert partner_api.get(score_url(token)).status_code == 200

    writes = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith("SELECT")]
    if connection.vendor == "postgresql":
        (statement,) = writes
        assert "queries_used" in statement
        assert "benefits_partnerquery" in statement
        assert "accounts_notification" in statement
    assert len(alerts(scored_owner)) == 2


def test_a_score_query_on_an_authorisation_limited_in_queries_alerts_too(
    partner_api, scored_owner, partner
):
    _grant, token = authorize(scored_owner, partner, "score", use_limit="queries", max_queries=3)

    assert partner_api.get(score_url(token)).status_code == 200

    assert [a.params["query_id"] for a in alerts(scored_owner)] == [
        PartnerQuery.objects.get(outcome="ok").pk
    ]


def test_an_answered_identity_check_alerts_the_person(partner_api, owner, partner):
    number = verify(owner, full_name="张伟")
    _grant, token = authorize(owner, partner, "score", identity_check=True)

    assert identity_check(partner_api, token, number).json() == {"match": True}

    (alert,) = alerts(owner)
    assert alert.params == {"query_id": PartnerQuery.objects.get(kind="identity_check").pk}
    text = alert_text(owner)
    assert "checked your name and ID number" in text
    assert "whether the name and ID number are yours" in text
    assert number not in text


def test_a_voucher_redemption_alerts_the_person(partner_api, scored_owner, benefit):
    voucher = voucher_claim(user=scored_owner, benefit_id=benefit.pk)

    assert partner_api.post(redeem_url(voucher.code)).status_code == 200

    (alert,) = alerts(scored_owner)
    assert alert.params == {"query_id": PartnerQuery.objects.get(kind="voucher_redeem").pk}
    assert "redeemed your voucher" in alert_text(scored_owner)


def test_refused_calls_and_calls_of_other_kinds_alert_nobody(
    partner_api, scored_owner, partner, benefit
):
    grant, token = authorize(scored_owner, partner, "score")
    voucher = voucher_claim(user=scored_owner, benefit_id=benefit.pk)
    assert partner_api.get(voucher_url(voucher.code)).status_code == 200  # a check, not a use
    Voucher.objects.filter(pk=voucher.pk).update(expires_at=timezone.now())
    assert_error(partner_api.post(redeem_url(voucher.code)), 410, "voucher_expired")
    assert_error(identity_check(partner_api, token, "110105198804121234"), 403, "out_of_scope")
    consent_revoke(user=scored_owner, grant_id=grant.pk, client=WEB)
    assert_error(partner_api.get(score_url(token)), 403, "authorization_revoked")

    assert PartnerQuery.objects.count() == 4
    assert not Notification.objects.exists()


def test_a_person_who_chose_weekly_gets_no_alert_but_the_digest(
    partner_api, scored_owner, partner, other_user, model_version
):
    choose_weekly(scored_owner)
    _grant, token = authorize(scored_owner, partner, "score")
    for _ in range(2):
        assert partner_api.get(score_url(token)).status_code == 200
    number = verify(other_user, full_name="李娜")
    _grant, theirs = authorize(other_user, partner, "score", identity_check=True)
    assert identity_check(partner_api, theirs, number, "李娜").status_code == 200

    assert not alerts(scored_owner)
    assert len(alerts(other_user)) == 1  # each time: told at once, no digest

    assert data_use_digests_create() == [scored_owner.pk]
    (digest,) = Notification.objects.filter(kind=Notification.Kind.DATA_USE_DIGEST)
    assert digest.user == scored_owner
    week_ago = digest.created_at - datetime.timedelta(days=7)
    assert digest.params == {"count": 2, "since": timezone.localdate(week_ago).isoformat()}
    with translation.override("en"):
        (item,) = notifications_page(user=scored_owner)
    assert "Partners used your data 2 times in the week since" in item["text"]
    assert item["url"] == "/benefits/queries/"
    # A second run in the same week writes nothing more.
    assert data_use_digests_create() == []


def test_the_digest_counts_only_the_past_week(partner_api, scored_owner, partner):
    choose_weekly(scored_owner)
    _grant, token = authorize(scored_owner, partner, "score")
    assert partner_api.get(score_url(token)).status_code == 200
    PartnerQuery.objects.update(created_at=timezone.now() - datetime.timedelta(days=8))

    assert data_use_digests_create() == []


# --- Nothing leaks to another person --------------------------------------------------------------


def test_another_person_never_receives_or_reads_my_alerts(
    partner_api, scored_owner, partner, other_user, client
):
    _grant, token = authorize(scored_owner, partner, "score", purpose="secret purpose 123")
    assert partner_api.get(score_url(token)).status_code == 200
    query_id = PartnerQuery.objects.get().pk
    # A notification naming my call in another's inbox (never written so) reads nothing of it.
    Notification.objects.create(
        user=other_user, kind=Notification.Kind.DATA_USED, params={"query_id": query_id}
    )

    assert len(alerts(scored_owner)) == 1
    assert len(alerts(other_user)) == 1
    text = alert_text(other_user)
    assert "secret purpose 123" not in text
    assert partner.display_name not in text
    client.force_login(other_user)
    page = client.get(INBOX).content.decode()
    assert "secret purpose 123" not in page


def test_another_partners_calls_are_named_as_theirs(
    scored_owner, partner, other_partner, partner_cache
):
    _grant, mine = authorize(scored_owner, partner, "score")
    _grant, theirs = authorize(scored_owner, other_partner, "score", purpose="hotel deposit")
    other_api = partner_client(make_api_key(other_partner))

    assert other_api.get(score_url(theirs)).status_code == 200
    assert_error(other_api.get(score_url(mine)), 404, "authorization_not_found")

    assert len(alerts(scored_owner)) == 1
    text = alert_text(scored_owner)
    assert text.startswith(other_partner.display_name)
    assert partner.display_name not in text


# --- Email ----------------------------------------------------------------------------------------


def test_the_email_sweep_mails_each_alert_once(
    partner_api, scored_owner, partner, other_user, model_version, mailoutbox
):
    grant_scoring(other_user)
    set_score(other_user, 700, model_version=model_version)
    notification_email_set(user=scored_owner, by_email=True, email="me@example.cn", language="en")
    _grant, token = authorize(scored_owner, partner, "score")
    _grant, theirs = authorize(other_user, partner, "score")  # inbox only
    assert partner_api.get(score_url(token)).status_code == 200
    assert partner_api.get(score_url(theirs)).status_code == 200

    assert data_use_emails_send() == 1
    assert data_use_emails_send() == 0  # delivered twice: nothing twice
    assert len(alerts(other_user)) == 1  # told in the inbox only

    (message,) = mailoutbox
    assert message.to == ["me@example.cn"]
    assert message.subject == "Sesame Portal: a partner used your data"
    assert "checked your score" in message.body
    assert "/benefits/queries/" in message.body
    assert alerts(scored_owner)[0].emailed_at is not None


def test_a_weekly_digest_is_mailed_to_those_who_asked(
    partner_api, scored_owner, partner, mailoutbox
):
    notification_email_set(
        user=scored_owner,
        by_email=True,
        email="me@example.cn",
        language="zh-hans",
        data_use_alerts=DataUseAlerts.WEEKLY,
    )
    _grant, token = authorize(scored_owner, partner, "score")
    assert partner_api.get(score_url(token)).status_code == 200
    assert data_use_emails_send() == 0  # no alert to mail: the digest will say it

    data_use_digests_create()

    assert data_use_emails_send() == 1
    (message,) = mailoutbox
    assert "合作机构共使用了您的数据1次" in message.body


# --- The choice, where notification preferences are edited ----------------------------------------


def test_the_notifications_page_sets_the_data_use_choice(client, owner):
    client.force_login(owner)
    assert 'value="each"' in client.get(INBOX).content.decode()

    response = client.post(INBOX, {"data_use_alerts": "weekly"})

    assert response.status_code == 302
    assert NotificationPreference.objects.get(user=owner).data_use_alerts == "weekly"
    page = client.get(INBOX, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'value="weekly" checked' in page or "checked" in page.split('value="weekly"')[1][:40]


def test_a_bad_data_use_choice_is_refused_and_nothing_saved(client, owner):
    client.force_login(owner)

    response = client.post(INBOX, {"data_use_alerts": "hourly"})

    assert response.status_code == 200
    assert not NotificationPreference.objects.filter(user=owner).exists()


def test_the_export_holds_the_data_use_choice(owner_api, owner):
    choose_weekly(owner)

    body = owner_api.get("/api/v1/me/export/").json()

    assert body["notification_preference"]["data_use_alerts"] == "weekly"


# --- The jobs -------------------------------------------------------------------------------------


def test_the_jobs_are_scheduled_and_run_as_tasks(partner_api, scored_owner, partner, mailoutbox):
    notification_email_set(user=scored_owner, by_email=True, email="me@example.cn")
    _grant, token = authorize(scored_owner, partner, "score", days=3)
    assert partner_api.get(score_url(token)).status_code == 200

    assert account_tasks.data_use_emails_send.apply().get() == 1
    assert benefit_tasks.authorizations_expiring_remind.apply().get() == 1
    assert benefit_tasks.data_use_digests_create.apply().get() == 0  # nobody chose weekly

    sweep = PeriodicTask.objects.get(task="accounts.data_use_emails_send")
    assert (sweep.interval.every, sweep.interval.period) == (1, "minutes")
    digest = PeriodicTask.objects.get(task="benefits.data_use_digests_create").crontab
    assert (digest.day_of_week, digest.hour, digest.minute) == ("1", "8", "0")
    reminder = PeriodicTask.objects.get(task="benefits.authorizations_expiring_remind").crontab
    assert (reminder.day_of_week, reminder.day_of_month) == ("*", "*")
    assert all(
        task.enabled
        for task in PeriodicTask.objects.filter(
            task__in=[
                "accounts.data_use_emails_send",
                "benefits.data_use_digests_create",
                "benefits.authorizations_expiring_remind",
            ]
        )
    )
