"""Who made a request, as recorded on consent records: channel, address and client."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.http import HttpRequest


@dataclass(frozen=True)
class Client:
    channel: str  # ConsentGrant.Channel value
    ip: str | None = None
    user_agent: str = ""


def client_from_request(request: HttpRequest, *, channel: str) -> Client:
    # REMOTE_ADDR is the proxy in production; SECURE_PROXY_SSL_HEADER deployments put a
    # trusted proxy in front that overwrites it, so we do not parse X-Forwarded-For here.
    return Client(
        channel=channel,
        ip=request.META.get("REMOTE_ADDR") or None,
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
    )


# Checked in order: the first that matches names the browser (Edge and Opera also say
# "Chrome", Chrome also says "Safari").
_BROWSERS = (
    ("SesameApp", re.compile(r"SesameApp")),
    ("WeChat", re.compile(r"MicroMessenger")),
    ("Edge", re.compile(r"Edg(e|A|iOS)?/")),
    ("Opera", re.compile(r"OPR/|Opera")),
    ("Samsung Internet", re.compile(r"SamsungBrowser/")),
    ("Firefox", re.compile(r"Firefox/|FxiOS/")),
    ("Chrome", re.compile(r"Chrome/|CriOS/")),
    ("Safari", re.compile(r"Safari/")),
)
_SYSTEMS = (
    ("iPhone", re.compile(r"iPhone")),
    ("iPad", re.compile(r"iPad")),
    ("iOS", re.compile(r"\biOS\b")),
    ("HarmonyOS", re.compile(r"HarmonyOS|OpenHarmony")),
    ("Android", re.compile(r"Android")),
    ("Windows", re.compile(r"Windows")),
    ("macOS", re.compile(r"Mac OS X|Macintosh")),
    ("ChromeOS", re.compile(r"CrOS")),
    ("Linux", re.compile(r"Linux")),
)
_FIRST_PRODUCT = re.compile(r"[A-Za-z][\w.\-]{0,39}")


def device_label(user_agent: str) -> str:
    """A short, coarse name for the device a request came from ("Chrome / Android"): enough
    for a person to recognise their phone in a list, too coarse to track them. The raw
    User-Agent is never kept beside it. An empty string when nothing is recognised."""
    user_agent = user_agent or ""
    browser = next((name for name, pattern in _BROWSERS if pattern.search(user_agent)), "")
    system = next((name for name, pattern in _SYSTEMS if pattern.search(user_agent)), "")
    if not browser and not system:
        # A script or a library ("curl/8.5", "okhttp/4.12"): its own name, without version.
        match = _FIRST_PRODUCT.match(user_agent.strip())
        return match.group(0) if match else ""
    return " / ".join(part for part in (browser, system) if part)
