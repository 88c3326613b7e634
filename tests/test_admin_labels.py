"""The admin speaks the portal's name and the reader's language: Django's "Django 管理"
replaced, the sign-in apps' models (axes, knox) named in Chinese, every admin page
rendering, and none of it a change that migrations see."""

from __future__ import annotations

import io

import pytest
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.admin.utils import label_for_field
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from knox.models import AuthToken

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def test_the_admin_carries_the_portals_name_not_djangos(admin_client, client):
    index = admin_client.get("/admin/", **ZH).content.decode()
    login = client.get("/admin/login/", **ZH).content.decode()
    english = admin_client.get("/admin/", **EN).content.decode()

    assert "芝麻门户管理后台" in index
    assert "<title>管理后台 | 芝麻门户</title>" in index
    assert "芝麻门户管理后台" in login
    assert "Django" not in index.split("<body", 1)[1]
    assert "Sesame Portal administration" in english


def test_the_sign_in_apps_are_named_in_chinese_on_the_index(admin_client):
    page = admin_client.get("/admin/", **ZH).content.decode()

    for label in ("登录防护", "登录尝试", "登录失败记录", "登录日志", "API 令牌"):
        assert label in page
    for english in ("Axes", "Knox", "Access attempts", "Auth tokens"):
        assert english not in page


def test_knox_tokens_columns_are_labelled_in_chinese(admin_client, admin_user):
    AuthToken.objects.create(user=admin_user)

    page = admin_client.get("/admin/knox/authtoken/", **ZH).content.decode()

    for label in ("令牌摘要", "用户", "创建时间", "到期时间", "选择 API 令牌 来修改"):
        assert label in page
    assert "auth token" not in page.lower()


def test_axes_attempts_columns_are_labelled_in_chinese(admin_client):
    AccessAttempt.objects.create(
        username="someone",
        ip_address="10.0.0.1",
        user_agent="test",
        http_accept="*/*",
        path_info="/accounts/login/",
        get_data="",
        post_data="",
        failures_since_start=2,
    )

    page = admin_client.get("/admin/axes/accessattempt/", **ZH).content.decode()

    agent = "用户代理（浏览器）"  # noqa: RUF001
    for label in ("尝试时间", "IP 地址", agent, "路径", "登录失败次数", "状态"):
        assert label in page
    for english in ("Attempt Time", "IP Address", "User Agent", "Failed Logins", "Status"):
        assert english not in page


def test_derived_field_names_of_our_models_are_translated(admin_client):
    page = admin_client.get("/admin/scoring/scoresnapshot/", **ZH).content.decode()

    assert "模型版本" in page  # ScoreSnapshot.model_version, declared without a name
    with translation.override("zh-hans"):
        labels = {
            str(label_for_field(name, model, model_admin))
            for model, model_admin in admin.site._registry.items()
            for name in model_admin.list_display
            if name != "action_checkbox"
        }
    assert {"user", "run", "model version", "Pk"}.isdisjoint(labels)
    assert {"用户", "模型版本"} <= labels


def test_every_admin_list_renders_in_chinese(admin_client):
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")

        response = admin_client.get(url, **ZH)

        assert response.status_code == 200, url


def test_labelling_the_admin_changes_no_migration():
    out = io.StringIO()

    call_command("makemigrations", "--check", "--dry-run", stdout=out)

    assert "No changes detected" in out.getvalue()
