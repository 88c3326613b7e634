"""Token authentication for the user API: knox's, noting when each token was last used."""

from __future__ import annotations

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication

from accounts import services


class TokenAuthentication(KnoxTokenAuthentication):
    """`Authorization: Token <token>`; a valid token's sign-in gets its "last used"
    (written at most every few minutes)."""

    def validate_user(self, auth_token):
        user, token = super().validate_user(auth_token)
        services.api_token_touch(token=token)
        return user, token


class TokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme of this class: knox's, under the same name."""

    target_class = TokenAuthentication
