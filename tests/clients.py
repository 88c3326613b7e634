"""Django test clients as the page tests use them."""

from __future__ import annotations

from django.test import Client


def browser(user, language: str = "en") -> Client:
    """A client signed in as `user`, asking for pages in `language`."""
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client
