"""sesame_portal.prepared: a query built once and run with new values answers as the ORM
would, and refuses a query that works something out from its values."""

from __future__ import annotations

import datetime

import pytest
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import ConsentGrant, ConsentPurpose, User
from sesame_portal.prepared import PreparedQuery
from tests.factories import grant, make_user

pytestmark = pytest.mark.django_db


def _consenting(*, user_id: int, at: datetime.datetime, since: datetime.date):
    return (
        User.objects.filter(pk=user_id, date_joined__date__gte=since, date_joined__lte=at)
        .annotate(
            scoring=Exists(
                ConsentGrant.objects.current(at).filter(
                    user=OuterRef("pk"), purpose=ConsentPurpose.SCORING
                )
            )
        )
        .values("username", "scoring", "date_joined")
    )


CONSENTING = PreparedQuery(_consenting, user_id=int, at=datetime.datetime, since=datetime.date)


def test_rows_are_what_the_orm_reads_with_each_call_s_values():
    alice, bob = make_user("alice"), make_user("bob")
    grant(alice)
    now = timezone.now()
    today = timezone.localdate(now)
    for user in (alice, bob):
        expected = list(_consenting(user_id=user.pk, at=now, since=today))
        assert CONSENTING.rows(user_id=user.pk, at=now, since=today) == expected
    assert CONSENTING.rows(user_id=alice.pk, at=now, since=today)[0]["scoring"] is True
    assert CONSENTING.rows(user_id=bob.pk, at=now, since=today)[0]["scoring"] is False
    # Values change the answer: a later day, an earlier time.
    tomorrow = today + datetime.timedelta(days=1)
    assert CONSENTING.rows(user_id=alice.pk, at=now, since=tomorrow) == []
    an_hour_ago = now - datetime.timedelta(hours=1)
    assert CONSENTING.rows(user_id=alice.pk, at=an_hour_ago, since=today) == []


def test_a_value_worked_out_inside_the_query_is_refused():
    derived = PreparedQuery(
        lambda since: User.objects.filter(date_joined__date__gte=since - datetime.timedelta(1)),
        since=datetime.date,
    )
    with pytest.raises(ValueError, match="worked out"):
        derived.rows(since=timezone.localdate())


def test_a_value_the_query_does_not_use_is_refused():
    unused = PreparedQuery(lambda user_id: User.objects.values("pk"), user_id=int)
    with pytest.raises(ValueError, match="does not use"):
        unused.rows(user_id=1)
    with pytest.raises(TypeError, match="expected the values"):
        CONSENTING.rows(user_id=1)
