"""What makes the portal look and feel like one product, on every page: its own icons,
/favicon.ico, "Choose…" in select boxes, the page title following htmx step swaps, and
the Me page in sections with one language switch."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template, TemplateSyntaxError
from django.utils import translation

from accounts.forms import PROFILE_FORMS
from accounts.profile_sections import SECTIONS
from tests.clients import browser

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"
OLD_ICONS = "◎★✓☺"


def test_favicon_ico_leads_to_the_portals_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/favicon.svg"
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    assert icon["Content-Type"].startswith("image/svg+xml")


def test_no_template_draws_icons_with_text_characters():
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not any(char in text for char in OLD_ICONS), path


def test_the_tab_bar_draws_the_portals_inline_icons(owner):
    html = browser(owner).get("/accounts/me/").content.decode()
    tabbar = html[html.index('<nav class="tabbar"') :]
    tabbar = tabbar[: tabbar.index("</nav>")]
    icons = re.findall(r'<svg class="icon" aria-hidden="true" focusable="false"', tabbar)
    assert len(icons) == 4
    assert 'stroke="currentColor"' in tabbar


def test_an_unknown_icon_is_a_template_error():
    with pytest.raises(TemplateSyntaxError):
        Template('{% load icons %}{% icon "no-such-icon" %}').render(Context())


def test_me_is_in_sections_with_the_one_language_switch_in_the_top_bar(owner):
    html = browser(owner).get("/accounts/me/").content.decode()
    main = html[html.index("<main") : html.index("</main>")]
    headings = re.findall(r'<h2 id="me-[a-z]+">([^<]+)</h2>', main)
    assert headings == [
        "My score",
        "Benefits and partners",
        "My information and privacy",
        "Sign-in and security",
    ]
    assert 'name="language"' not in main
    assert html.count('action="/i18n/setlang/"') == 1
    links = ["/score/history/", "/benefits/vouchers/", "/accounts/me/data/"]
    for link in links:
        assert f'href="{link}"' in main


def test_me_sections_speak_chinese(owner):
    main = browser(owner, "zh-hans").get("/accounts/me/").content.decode()
    for heading in ("我的信用分", "权益与合作方", "我的信息与隐私", "登录与安全"):
        assert f">{heading}</h2>" in main


@pytest.mark.parametrize("form_class", PROFILE_FORMS.values(), ids=list(PROFILE_FORMS))
def test_no_profile_select_box_shows_dashes(form_class):
    with translation.override("en"):
        html = str(form_class(birth_date=None))
    assert "---------" not in html
    if "<select" in html:
        assert re.search(r'<option value=""[^>]*>Choose…</option>', html)


def test_every_profile_step_page_is_without_dashes(owner):
    client = browser(owner)
    for section in SECTIONS:
        html = client.get(f"/accounts/profile/{section.key}/").content.decode()
        assert "---------" not in html, section.key


def test_an_htmx_step_swap_carries_the_new_page_title(owner):
    client = browser(owner)
    section = SECTIONS[1]
    swap = client.get(f"/accounts/profile/{section.key}/", headers={"HX-Request": "true"})
    html = swap.content.decode()
    # At the top level of the fragment, where htmx takes it as the document's title.
    assert re.match(rf"\s*<title>{re.escape(str(section.title))} · Sesame Portal</title>", html)
    full = client.get(f"/accounts/profile/{section.key}/").content.decode()
    assert f"<title>{section.title} · Sesame Portal</title>" in full
