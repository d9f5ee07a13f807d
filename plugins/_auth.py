"""What ``Client(auth=...)`` accepts: an auth plugin, or any callable returning a token; with
nothing given, OAuth2 settings from the environment (CHATMINI_OAUTH_TOKEN_URL and friends)."""

from __future__ import annotations

from typing import Any

from chatmini.errors import InvalidRequestError

from .token_provider import TokenProvider


def auth_plugin(auth: Any) -> Any:
    """The plugin to register for ``auth`` (None: OAuth2 from the environment)."""
    if auth is None:
        from .oauth2 import OAuth2ClientCredentials

        return OAuth2ClientCredentials.from_env()
    if any(name.startswith("chatmini_") for name in dir(auth)):
        return auth  # already a plugin (OAuth2ClientCredentials, TokenProvider, your own)
    if callable(auth):
        return TokenProvider(auth)
    raise InvalidRequestError(
        f"auth= takes an auth plugin or a callable returning a token, not {type(auth).__name__}"
        " (for a fixed key use api_key=)"
    )
