"""sesame_portal.prepared: a query built once and run with new values answers as the ORM
would, as dict rows or as the first row's model instance, and refuses a query that works
something out from its values."""

from __future__ import annotations

import datetime

import pytest
from django.db.models import Count, Exists, OuterRef
from django.forms.models import model_to_dict
from django.utils import timezone

from accounts.models import ConsentGrant, ConsentPurpose, User
from accounts.services import consent_revoke
from sesame_portal.prepared import PreparedQuery
from tests.factories import WEB, grant, make_user

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


def _latest_grant(*, user_id: int, purpose: str, at: datetime.datetime):
    """A queryset of a model with select_related objects (one of them, the revocation, a
    reverse one-to-one that may be missing) and annotations."""
    return (
        ConsentGrant.objects.select_related("user", "revocation")
        .filter(user_id=user_id, purpose=purpose, granted_at__lte=at)
        .annotate(
            grants_of_the_user=Count("user__consent_grants"),
            current=Exists(ConsentGrant.objects.current(at).filter(pk=OuterRef("pk"))),
        )
        .order_by("-granted_at", "-pk")
    )


LATEST_GRANT = PreparedQuery(_latest_grant, user_id=int, purpose=str, at=datetime.datetime)


def _seen(found: ConsentGrant) -> tuple:
    revocation = getattr(found, "revocation", None)
    return (
        found,
        model_to_dict(found),
        model_to_dict(found.user),
        revocation and model_to_dict(revocation),
        found.grants_of_the_user,
        found.current,
    )


@pytest.mark.parametrize("revoked", [False, True])
def test_first_is_the_instance_the_orm_builds(django_assert_num_queries, revoked):
    alice = make_user("alice")
    grant(alice, ConsentPurpose.SCORING, ConsentPurpose.UTILITY_BILLS)
    if revoked:
        scoring = ConsentGrant.objects.get(user=alice, purpose=ConsentPurpose.SCORING)
        consent_revoke(user=alice, grant_id=scoring.pk, client=WEB)
    now = timezone.now()

    for purpose in (ConsentPurpose.SCORING, ConsentPurpose.UTILITY_BILLS):
        expected = _latest_grant(user_id=alice.pk, purpose=purpose, at=now).first()
        with django_assert_num_queries(1):  # the related objects come with the row
            found = LATEST_GRANT.first(user_id=alice.pk, purpose=purpose, at=now)
            assert found.user.username == "alice"
            assert getattr(found, "revocation", None) is None or found.revocation.grant == found
        assert _seen(found) == _seen(expected)
        assert found.current is not (revoked and purpose == ConsentPurpose.SCORING)
    # Values change the answer: another purpose, an earlier time, another person.
    assert LATEST_GRANT.first(user_id=alice.pk, purpose="no such purpose", at=now) is None
    an_hour_ago = now - datetime.timedelta(hours=1)
    assert (
        LATEST_GRANT.first(user_id=alice.pk, purpose=ConsentPurpose.SCORING, at=an_hour_ago) is None
    )
    assert LATEST_GRANT.first(user_id=alice.pk + 1, purpose=ConsentPurpose.SCORING, at=now) is None


def test_first_needs_a_queryset_of_a_model():
    with pytest.raises(TypeError, match="model instance"):
        CONSENTING.first(user_id=1, at=timezone.now(), since=timezone.localdate())
