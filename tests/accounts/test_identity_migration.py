"""Identities verified before the mask was shortened: migration 0010 re-masks them and
encrypts their birth date, so a dump no longer rebuilds their numbers."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.crypto import birth_date_decrypt, encrypt_text, keyed_hash
from tests.factories import make_id_number
from tests.privacy import database_values, leaks_of

BEFORE = [("accounts", "0009_score_notifications_by_email")]
AFTER = [("accounts", "0010_identity_nothing_rebuilds_the_number")]
NUMBER = make_id_number("310101", "19850615", "222")


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_existing_identities_are_remasked_and_their_birth_date_encrypted():
    old = _migrate(BEFORE)
    user = old.get_model("accounts", "User").objects.create(username="before")
    old.get_model("accounts", "Identity").objects.create(
        user=user,
        full_name_encrypted=encrypt_text("王芳"),
        id_number_encrypted=encrypt_text(NUMBER),
        id_number_hash=keyed_hash(NUMBER),
        id_number_masked=f"{NUMBER[:6]}********{NUMBER[-4:]}",
        birth_date=datetime.date(1985, 6, 15),
        gender="F",
        region_code="310101",
        region_name="上海市黄浦区",
    )
    try:
        # The scan sees what the probe saw: the old mask and the plaintext date.
        assert leaks_of(NUMBER, database_values())
        new = _migrate(AFTER)
        identity = new.get_model("accounts", "Identity").objects.get(user_id=user.pk)

        assert identity.id_number_masked == f"3{'*' * 16}{NUMBER[-1]}"
        assert birth_date_decrypt(identity.birth_date_encrypted) == datetime.date(1985, 6, 15)
        assert not leaks_of(NUMBER, database_values())
    finally:
        _migrate(_latest())


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()
