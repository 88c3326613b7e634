"""Who made a request, as recorded on consent records and counted by the per-address
limits: channel, address and client."""

from __future__ import annotations

import ipaddress
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
