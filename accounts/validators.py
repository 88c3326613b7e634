"""Field rules shared by the profile pages and the profile API."""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Personal mailbox providers: an address there says nothing about an employer.
FREE_WEBMAIL_DOMAINS = frozenset(
    {
        "qq.com",
        "vip.qq.com",
        "foxmail.com",
        "163.com",
        "vip.163.com",
        "126.com",
        "yeah.net",
        "188.com",
        "sina.com",
        "sina.cn",
        "vip.sina.com",
        "sohu.com",
        "aliyun.com",
        "139.com",
        "189.cn",
        "wo.cn",
        "tom.com",
        "21cn.com",
        "2980.com",
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "live.cn",
        "msn.com",
        "yahoo.com",
        "yahoo.com.cn",
        "ymail.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "mail.com",
        "gmx.com",
        "gmx.net",
        "proton.me",
        "protonmail.com",
        "zoho.com",
        "yandex.com",
        "yandex.ru",
        "hey.com",
    }
)

_MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")


def validate_no_control_characters(value: str) -> None:
    """Refuse control and format characters (Unicode Cc and Cf): bidirectional overrides
    and isolates (U+202A to U+202E, U+2066 to U+2069) that make text read differently from what
    it says, zero-width characters, a byte order mark, terminal controls."""
    if any(unicodedata.category(char) in {"Cc", "Cf"} for char in value):
        raise ValidationError(_("Remove the invisible control characters."), code="control")


def validate_plain_text(value: str) -> None:
    """Refuse markup and control characters in free text: it is shown back to people
    and partners, and nobody's school or employer needs angle brackets."""
    if "<" in value or ">" in value:
        raise ValidationError(
            _("Use plain text: the characters < and > are not allowed."), code="markup"
        )
    validate_no_control_characters(value)


def validate_work_email_domain(value: str) -> None:
    domain = value.rsplit("@", 1)[-1].lower().strip()
    if domain in FREE_WEBMAIL_DOMAINS:
        raise ValidationError(
            _("%(domain)s is a personal mailbox. Enter the email address your employer gave you."),
            code="free_webmail",
            params={"domain": domain},
        )


def normalise_mobile(value: str) -> str:
    """Accept the ways people type a mainland mobile number: spaces, dashes, +86."""
    digits = re.sub(r"[\s\-()]", "", value)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if not _MOBILE_RE.fullmatch(digits):
        raise ValidationError(
            _("Enter an 11-digit mainland mobile number starting with 1."), code="phone"
        )
    return digits
