"""benefits 0009-0010 move a sharing grant's partner and terms from the grant to its
authorisation, and accounts 0015 drops them from the grant; both ways, nothing is lost."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from benefits.credentials import TOKEN_KIND, credential_new, credential_prefix

BEFORE = [
    ("accounts", "0014_partner_authorisation_terms"),
    ("benefits", "0008_court_list_snapshot_and_corrections"),
]
AFTER = [("accounts", "0015_partner_terms_move_to_benefits")]
TERMS = ("scope", "stated_purpose", "identity_check", "use_limit", "max_queries")
AUTHORISED = {
    "scope": "score",
    "stated_purpose": "Deposit-free car rental",
    "identity_check": True,
    "use_limit": "queries",
    "max_queries": 3,
}
NEVER_AUTHORISED = {
    "scope": "eligibility",
    "stated_purpose": "Hotel stay without deposit",
    "identity_check": False,
    "use_limit": "",
    "max_queries": None,
}


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def _terms(row) -> dict:
    return {name: getattr(row, name) for name in TERMS}


@pytest.mark.django_db(transaction=True)
def test_the_partner_and_terms_move_to_the_authorisation_and_back():
    old = _migrate(BEFORE)
    ConsentGrant = old.get_model("accounts", "ConsentGrant")
    text = old.get_model("accounts", "ConsentText")
    user = old.get_model("accounts", "User").objects.create(username="before")
    partner = old.get_model("benefits", "Partner").objects.create(
        name="Deposit-free Rentals", category="car_rental", status="approved"
    )
    now = timezone.now()

    def grant(purpose: str, **fields):
        text_row = text.objects.get_or_create(
            purpose=purpose,
            version=1,
            defaults={"title_zh": "t", "title_en": "t", "body_zh": "b", "body_en": "b"},
        )[0]
        return ConsentGrant.objects.create(
            user=user, purpose=purpose, text=text_row, granted_at=now, channel="web", **fields
        )

    expires_at = now + datetime.timedelta(days=30)
    authorised = grant("partner_sharing", partner=partner, expires_at=expires_at, **AUTHORISED)
    _value, prefix, digest = credential_new(TOKEN_KIND)
    old.get_model("benefits", "PartnerAuthorization").objects.create(
        grant=authorised, partner=partner, prefix=prefix, token_hash=digest
    )
    # Written by accounts' consent service alone, as only a direct call could.
    never = grant("partner_sharing", partner=partner, expires_at=expires_at, **NEVER_AUTHORISED)
    scoring = grant("scoring")
    try:
        new = _migrate(AFTER)
        Authorization = new.get_model("benefits", "PartnerAuthorization")

        kept = Authorization.objects.get(grant_id=authorised.pk)
        assert (kept.partner_id, kept.prefix, kept.token_hash) == (partner.pk, prefix, digest)
        assert _terms(kept) == AUTHORISED
        added = Authorization.objects.get(grant_id=never.pk)
        assert added.partner_id == partner.pk
        assert _terms(added) == NEVER_AUTHORISED
        # A token nobody holds: its id is no token's id, and an empty hash matches none.
        assert credential_prefix(f"au_{added.prefix}_{'x' * 43}", TOKEN_KIND) is None
        assert added.token_hash == ""
        assert not Authorization.objects.filter(grant_id=scoring.pk).exists()
        field_names = {f.name for f in new.get_model("accounts", "ConsentGrant")._meta.fields}
        assert not field_names & {"partner", *TERMS}

        back = _migrate(BEFORE)
        Grant = back.get_model("accounts", "ConsentGrant")
        for row, terms in ((authorised, AUTHORISED), (never, NEVER_AUTHORISED)):
            restored = Grant.objects.get(pk=row.pk)
            assert restored.partner_id == partner.pk
            assert _terms(restored) == terms
        assert Grant.objects.get(pk=scoring.pk).partner_id is None
        Authorization = back.get_model("benefits", "PartnerAuthorization")
        assert list(Authorization.objects.values_list("grant_id", flat=True)) == [authorised.pk]
    finally:
        _migrate(_latest())
