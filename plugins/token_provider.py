"""Any callable that returns a bearer token as the credential (e.g. azure-identity's
``get_bearer_token_provider``), with the shared cache and single flight when it gives an expiry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Optional

from chatmini.credentials import clean_credential
from chatmini.errors import AuthenticationError, ChatminiError, InvalidRequestError, excerpt

from ._token_cache import Token, TokenCache, finite_seconds
from .token_auth import TokenAuth

EXPECTED = "a token string, (token, expires_at), or an object with .token and .expires_on"


class TokenProvider(TokenAuth):
    """Calls ``provider()`` for tokens and sends them as ``Authorization: Bearer <token>``.

    A plain string is used for one request (the provider is asked again next time: it is
    expected to cache, as azure-identity's does); a ``(token, expires_at)`` pair or an object
    with ``.token`` and ``.expires_on`` (azure-identity's AccessToken) is cached until ``skew``
    seconds before ``expires_at`` (seconds since the epoch, or an aware datetime).
    """

    chatmini_plugin_name = "token_provider"

    def __init__(
        self,
        provider: Callable[[], Any],
        *,
        skew: float = 60.0,
        header: str = "Authorization",
        scheme: str = "Bearer",
    ) -> None:
        if not callable(provider):
            raise InvalidRequestError(
                f"provider must be callable (returning a token), not {type(provider).__name__}")
        self.provider = provider
        super().__init__(TokenCache(self._fetch, skew=skew), header=header, scheme=scheme)

    def _fetch(self, previous: Optional[Token]) -> Token:
        name = getattr(self.provider, "__qualname__", type(self.provider).__name__)
        try:
            result = self.provider()
        except ChatminiError:
            raise
        except Exception as exc:
            raise AuthenticationError(
                f"Token provider {name} failed: {type(exc).__name__}: {excerpt(str(exc))}",
                response=None,
            ) from exc
        token = as_token(result)
        if token is None:
            raise AuthenticationError(
                f"Token provider {name} returned {type(result).__name__}; expected {EXPECTED}",
                response=None,
            )
        token.value = clean_credential(
            token.value, f"The token from provider {name}", _auth_error
        )
        return token


def _auth_error(message: str) -> AuthenticationError:
    return AuthenticationError(message, response=None)


def as_token(result: Any) -> Optional[Token]:
    """A Token from what a provider returned, or None when it is not one of the known shapes."""
    if isinstance(result, str):
        return Token(result) if result else None
    value = getattr(result, "token", None)
    if value is not None:
        expires = getattr(result, "expires_on", None)
    elif isinstance(result, tuple) and len(result) == 2:
        value, expires = result
    else:
        return None
    if not isinstance(value, str) or not value:
        return None
    if isinstance(expires, datetime):
        expires = expires.timestamp()
    if expires is None:
        return Token(value)
    if isinstance(expires, bool) or not isinstance(expires, (int, float)):
        return None
    return Token(value, finite_seconds(expires))  # NaN, inf or 400 digits: an unknown expiry
