"""Who made a request, as recorded on consent records and counted by the per-address
limits: channel, address and client."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest


@dataclass(frozen=True)
class Client:
    channel: str  # ConsentGrant.Channel value
    ip: str | None = None
    user_agent: str = ""


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The client's address. Behind a reverse proxy REMOTE_ADDR is the proxy itself, so
    CLIENT_IP_HEADER names the header the proxy overwrites with the address it saw (nginx:
    `proxy_set_header X-Real-IP $remote_addr`); never a header a client can set past the
    proxy, such as the left end of X-Forwarded-For."""
    if settings.CLIENT_IP_META_KEY:
        forwarded = _valid_ip(request.META.get(settings.CLIENT_IP_META_KEY, ""))
        if forwarded:
            return forwarded
    return _valid_ip(request.META.get("REMOTE_ADDR") or "")


def client_from_request(request: HttpRequest, *, channel: str) -> Client:
    return Client(
        channel=channel,
        ip=client_ip(request),
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
