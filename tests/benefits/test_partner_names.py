"""A partner's name in the page's language: the English one on English pages where the
partner has one, the Chinese name otherwise (and always on Chinese pages)."""

from __future__ import annotations

from django.utils import translation

from benefits.forms import PartnerConsentForm
from tests.factories import make_partner


def _partner(name: str, name_en: str = ""):
    partner = make_partner(name)
    partner.name_en = name_en
    partner.save(update_fields=["name_en"])
    return partner


def test_partner_name_follows_the_page_language(db):
    partner = _partner("青桔单车", "Qingju Bikes")

    with translation.override("en"):
        assert partner.display_name == "Qingju Bikes"
    with translation.override("zh-hans"):
        assert partner.display_name == "青桔单车"


def test_partner_without_an_english_name_keeps_its_name(db):
    partner = _partner("青桔单车")

    with translation.override("en"):
        assert partner.display_name == "青桔单车"


def test_partner_choice_is_named_in_the_page_language(db):
    _partner("青桔单车", "Qingju Bikes")

    with translation.override("en"):
        html = str(PartnerConsentForm()["partner"])

    assert "Qingju Bikes" in html
    assert "青桔单车" not in html
