"""Who made a request, as recorded on consent records: channel, address and client."""

from __future__ import annotations

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
