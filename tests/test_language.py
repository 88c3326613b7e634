"""Which language a page speaks (the README's "Language"): the browser decides between
Chinese and English, zh-Hans otherwise, and a choice made with the switch sticks. And the
Chinese copy itself: 您 throughout, full-width punctuation, Django's password rules in
the portal's words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils import translation

from accounts.models import User
from tests.test_translations import parse_po

ZH_PO = Path(__file__).resolve().parent.parent / "locale/zh_Hans/LC_MESSAGES/django.po"
CJK = "\u3400-\u9fff\uff01-\uff5e\u3000-\u303f"
# Placeholders and markup are not prose: %(name)s, %d, {name}, <tags>.
NOT_PROSE = re.compile(r"%\([^)]*\)[sdf]|%[sd]|\{[^}]*\}|<[^>]+>")
HALF_WIDTH_BESIDE_CJK = re.compile(rf"[{CJK}]\s*[,()]|[,()]\s*[{CJK}]")


def _lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("zh", "zh-hans"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-hans"),
        ("zh-TW", "zh-hans"),
        ("fr", "zh-hans"),
        ("fr-FR,fr;q=0.9", "zh-hans"),
        ("", "zh-hans"),
    ],
)
def test_first_visit_follows_the_browser_for_zh_and_en_else_zh_hans(client, db, accept, expected):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=accept)

    assert response.status_code == 200
    assert _lang(response) == expected


def test_a_choice_once_made_sticks(client, db):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "en"
    assert int(cookie["max-age"]) >= 60 * 60 * 24 * 365  # outlives the browser session

    assert _lang(client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")) == "en"

    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert _lang(client.get("/", HTTP_ACCEPT_LANGUAGE="en")) == "zh-hans"


def _zh_msgstrs():
    for entry in parse_po(ZH_PO):
        if entry.is_header:
            continue
        for text in entry.msgstr.values():
            yield entry, text


def test_zh_translations_say_nin_not_ni():
    offending = [entry.where for entry, text in _zh_msgstrs() if "你" in text]

    assert offending == []


def test_zh_translations_use_full_width_punctuation_between_chinese():
    offending = [
        (entry.where, text)
        for entry, text in _zh_msgstrs()
        if HALF_WIDTH_BESIDE_CJK.search(NOT_PROSE.sub("", text))
    ]

    assert offending == []


@pytest.mark.parametrize("password", ["123", "1234567890123", "password123", "zhangwei12345"])
def test_password_rules_speak_the_portals_chinese(password):
    user = User(username="zhangwei12345")
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        password_validation.validate_password(password, user=user)
    messages = refused.value.messages

    assert messages
    for message in messages:
        assert re.search(r"[\u4e00-\u9fff]", message), message  # translated
        assert "你" not in message
        assert message.endswith("。")


def test_password_help_texts_say_nin():
    with translation.override("zh-hans"):
        texts = password_validation.password_validators_help_texts()

    assert texts
    assert all("您" in text and "你" not in text for text in texts)


def test_zh_amounts_carry_the_yuan_sign():
    offending = [
        (entry.where, text)
        for entry, text in _zh_msgstrs()
        if re.search(r"\d\s*万?元", NOT_PROSE.sub("", text))
    ]

    assert offending == []
