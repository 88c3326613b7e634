"""The header and tab bar are drawn once per process for what they show (`{% kept %}`):
each page still gets its own current tab, its own language and the inbox count of the
moment."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.models import Notification
from sesame_portal.templatetags.kept import kept

pytestmark = pytest.mark.django_db


def _current_tab(page: str) -> str:
    return re.search(r'<a href="([^"]*)" aria-current="page">', page).group(1)


def test_the_tab_bar_marks_the_page_shown(owner):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(owner)
    for path in ("/benefits/", "/accounts/consents/", "/benefits/", "/"):
        assert _current_tab(client.get(path).content.decode()) == path
    assert 'aria-current="page"' not in client.get("/accounts/me/devices/").content.decode()


def test_the_header_shows_the_inbox_count_and_language_of_the_moment(owner):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(owner)
    assert "bell-count" not in client.get("/benefits/").content.decode()

    Notification.objects.create(user=owner, kind=Notification.Kind.NEW_SIGN_IN, params={})
    page = client.get("/benefits/").content.decode()
    assert '<span class="bell-count">1</span>' in page
    assert "Notifications: 1 new" in page
    assert ">Inbox<" in page

    chinese = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    chinese.force_login(owner)
    assert ">Inbox<" not in chinese.get("/benefits/").content.decode()


def test_a_kept_part_holds_nothing_but_the_values_it_was_given():
    part = kept("includes/tab_bar.html", path="/")
    assert "<nav" in part
    assert 'aria-current="page"' in part
    assert "csrf" not in part.lower()
    assert 'aria-current="page"' not in kept("includes/tab_bar.html", path="/elsewhere/")
