"""Limits that messages and pages quote (the minimum age, the days to answer a dispute, the
largest upload, the score's range and bands) come from the constants that enforce them."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation

from accounts import resident_id
from scoring.services import disputes
from sesame_portal import uploads
from sesame_portal.errors import ServiceError
from tests.factories import make_id_number

CHINESE_BANDS = "分段：350–549 较差，550–599 中等，600–649 良好，650–699 优秀，700–950 极好。"  # noqa: RUF001
ENGLISH_BANDS = (
    "Bands: 350–549 poor, 550–599 fair, 600–649 good, 650–699 very good, 700–950 excellent."  # noqa: RUF001
)


def test_the_score_range_and_bands_read_as_they_always_have(db):
    chinese = Client().get("/score/how-it-works/").content.decode()
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get("/score/how-it-works/").content.decode()

    assert "信用分范围为 350 至 950" in chinese
    assert CHINESE_BANDS in chinese
    assert "Your score runs from 350 to 950." in english
    assert ENGLISH_BANDS in english


def test_the_minimum_age_message_quotes_the_minimum_age(monkeypatch):
    monkeypatch.setattr(resident_id, "MINIMUM_AGE", 18)
    today = datetime.date(2026, 3, 1)

    with translation.override("en"), pytest.raises(ServiceError) as refused:
        resident_id.parse_resident_id(make_id_number(birth="20090301"), today=today)

    assert refused.value.message == "You must be at least 18 years old to use Sesame Portal."


def test_the_upload_limit_message_quotes_the_upload_limit(monkeypatch):
    monkeypatch.setattr(uploads, "EVIDENCE_MAX_MB", 1)
    monkeypatch.setattr(uploads, "EVIDENCE_MAX_BYTES", 1024 * 1024)
    upload = SimpleUploadedFile("receipt.pdf", b"%PDF-" + b"0" * 1024 * 1024)

    with translation.override("zh-hans"), pytest.raises(ServiceError) as refused:
        uploads.evidence_content_type(upload)

    assert refused.value.message == "文件超过 1 MB。"


def test_the_records_page_quotes_the_days_a_dispute_is_answered_in(owner, monkeypatch):
    monkeypatch.setattr(disputes, "ANSWER_WITHIN", datetime.timedelta(days=30))
    client = Client()
    client.force_login(owner)

    page = client.get("/score/records/").content.decode()

    assert "我们将在 30 天内答复" in page


def test_texts_that_quote_a_constant_follow_the_language_they_are_shown_in():
    """A lazy translation's own % formats at import, in zh-Hans, for good."""
    from django.utils import translation

    from benefits.models import Benefit
    from scoring.forms import DisputeForm

    texts = [
        lambda: Benefit._meta.get_field("min_score").help_text,
        lambda: DisputeForm.base_fields["attachment"].help_text,
    ]
    for text in texts:
        with translation.override("en"):
            english = str(text())
        with translation.override("zh-hans"):
            chinese = str(text())
        assert english != chinese
        assert english.isascii()
