"""The court list moved from benefits down to scoring (benefits 0009, scoring 0010): the
rows stay, the tables are named scoring_*, and the content types move with the models,
so the permissions that admin groups hold keep pointing at them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from scoring.models import CourtListEntry, CourtListImport, CourtListOverride

BEFORE = [
    ("benefits", "0008_court_list_snapshot_and_corrections"),
    ("scoring", "0009_dispute_evidence_sealed"),
]
AFTER = [("scoring", "0010_court_list_from_benefits")]
MODELS = ("courtlistimport", "courtlistentry", "courtlistoverride")


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_the_court_list_keeps_its_rows_and_permissions_when_it_moves_to_scoring():
    old = _migrate(BEFORE)
    try:
        user = old.get_model("accounts", "User").objects.create(username="staff")
        record = old.get_model("benefits", "CourtListImport").objects.create(
            file_name="court.csv", imported_by=user, rows_total=2, rows_added=1
        )
        old.get_model("benefits", "CourtListEntry").objects.create(
            id_number_hash="a" * 64, entry_hash="b" * 64, source=record
        )
        old.get_model("benefits", "CourtListOverride").objects.create(
            id_number_hash="c" * 64, entry_hash="d" * 64
        )
        old_types = old.get_model("contenttypes", "ContentType").objects
        types_before = {
            model: old_types.get_or_create(app_label="benefits", model=model)[0].pk
            for model in MODELS
        }
        permission, _made = old.get_model("auth", "Permission").objects.get_or_create(
            content_type_id=types_before["courtlistimport"],
            codename="add_courtlistimport",
            defaults={"name": "Can add court list import"},
        )
        old.get_model("auth", "Group").objects.create(name="court list").permissions.add(permission)
        tables = connection.introspection.table_names()
        assert {f"benefits_{model}" for model in MODELS} <= set(tables)

        _migrate(AFTER)
        ContentType.objects.clear_cache()

        tables = connection.introspection.table_names()
        assert {f"scoring_{model}" for model in MODELS} <= set(tables)
        assert not {f"benefits_{model}" for model in MODELS} & set(tables)
        entry = CourtListEntry.objects.select_related("source").get()
        assert (entry.id_number_hash, entry.entry_hash) == ("a" * 64, "b" * 64)
        assert entry.source.file_name == "court.csv"
        assert entry.source.imported_by_id == user.pk
        assert CourtListImport.objects.get().rows_added == 1
        assert CourtListOverride.objects.get().entry_hash == "d" * 64
        # The same content type rows, relabelled: what pointed at them still does.
        for model, pk in types_before.items():
            assert ContentType.objects.get(pk=pk).natural_key() == ("scoring", model)
        assert not ContentType.objects.filter(app_label="benefits", model__in=MODELS).exists()
        moved = Permission.objects.get(pk=permission.pk)
        assert moved.content_type == ContentType.objects.get_for_model(CourtListImport)
        assert Group.objects.get(name="court list").permissions.get() == moved
        # A new import continues the old numbering (the sequence moved with the table).
        assert CourtListImport.objects.create(file_name="next.csv").pk > record.pk
    finally:
        _migrate(_latest())
        ContentType.objects.clear_cache()
