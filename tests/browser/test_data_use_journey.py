"""Alerts the moment data is used, in a real Chromium at 375 px, in Chinese and English: a
partner queries the score through the API, the person finds the alert in the
notification list, then the reminder that the authorisation ends soon, and renews it
(the new code shown once; the old one refused, the new one answered)."""

from __future__ import annotations

import datetime
import json
import urllib.error
import urllib.request

from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import ConsentGrant
from benefits.services.data_use import authorizations_expiring_remind
from benefits.services.partner_access import api_key_create
from tests.browser.helpers import (
    DIMENSIONS,
    SCORE,
    assert_no_horizontal_scroll,
    log_in,
    ready_user,
    snapshot_store,
)
from tests.factories import authorize, make_id_number, make_partner

LANG_SWITCH = "header .lang-switch button"
PURPOSE = "押金减免 deposit waiver"


def _score_call(live_server, api_key: str, token: str) -> int:
    """The partner's server asks for the score: no browser, only the key."""
    request = urllib.request.Request(  # noqa: S310 - http to the live server
        f"{live_server.url}/api/v1/partner/authorizations/{token}/score/",
        headers={"Authorization": f"Api-Key {api_key}", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            json.loads(response.read())
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_data_use_alert_and_an_expiry_reminder_renewed(page, live_server, screenshot):
    user = ready_user("alerted", id_number=make_id_number(sequence="652"))
    snapshot_store(user, SCORE, DIMENSIONS)
    partner = make_partner()
    _key, api_key = api_key_create(partner=partner, label="browser test")
    grant, old_token = authorize(user, partner, "score", days=3, purpose=PURPOSE)
    ConsentGrant.objects.filter(pk=grant.pk).update(
        granted_at=timezone.now() - datetime.timedelta(days=27)
    )

    assert _score_call(live_server, api_key, old_token) == 200
    assert authorizations_expiring_remind() == [grant.authorization.pk]

    # Chinese: the alert and the reminder in the notification list.
    log_in(page, live_server, "alerted")
    page.goto(live_server.url + "/accounts/notifications/")
    items = page.locator("main ul.notifications > li")
    expect(items).to_have_count(2)
    expect(items.filter(has_text=f"为“{PURPOSE}”查询了您的信用分")).to_have_count(1)
    expect(items.filter(has_text="披露内容：信用分")).to_have_count(1)  # noqa: RUF001
    expect(items.filter(has_text=f"您对{partner.name}的授权将于")).to_have_count(1)
    expect(page.locator("main input[name=data_use_alerts][value=each]")).to_be_checked()
    assert_no_horizontal_scroll(page)
    screenshot(page, "data-use-notifications-zh")

    page.locator("main a", has_text="续期或让它到期").click()
    expect(page.locator("main h1")).to_have_text(f"您对{partner.name}的授权即将到期")
    expect(page.locator("main button[value=renew]")).to_have_text("续期")
    expect(page.locator("main button[value=lapse]")).to_have_text("让它到期")
    assert_no_horizontal_scroll(page)
    screenshot(page, "authorization-expiring-zh")

    # English: the same list, then the reminder's page, renewed.
    page.locator(LANG_SWITCH).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("main h1")).to_have_text(
        f"Your authorisation of {partner.display_name} ends soon"
    )
    assert_no_horizontal_scroll(page)
    screenshot(page, "authorization-expiring-en")
    page.goto(live_server.url + "/accounts/notifications/")
    expect(
        items.filter(has_text=f"checked your score for “{PURPOSE}”. Disclosed: score, band")
    ).to_have_count(1)
    expect(page.locator("main")).to_contain_text("When a partner uses my data, tell me")
    assert_no_horizontal_scroll(page)
    screenshot(page, "data-use-notifications-en")

    page.locator("main a", has_text="Renew or let it lapse").click()
    page.locator("main button[value=renew]").click()
    expect(page.locator("main h1")).to_have_text(f"{partner.display_name} is authorised")
    new_token = page.locator("#partner-code").inner_text().strip()
    assert new_token
    assert new_token != old_token
    assert_no_horizontal_scroll(page)
    screenshot(page, "authorization-renewed-en")

    assert _score_call(live_server, api_key, old_token) == 403
    assert _score_call(live_server, api_key, new_token) == 200
