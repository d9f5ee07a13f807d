"""Bearer-token authentication through the public hooks, for credentials that expire.

``TokenAuth`` puts the cache's current token on every attempt (so a retry after expiry carries
a fresh one) and, on a 401 from the API, drops that token and replays the call once. The OAuth2
and token-provider plugins are TokenAuth with their own way of fetching a token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from chatmini.credentials import header_name
from chatmini.errors import ChatminiError
from chatmini.hookspecs import hookimpl

from ._token_cache import Token, TokenCache

if TYPE_CHECKING:
    import requests

    from chatmini.request import Request

# Keys in request.context (per call, shared by its attempts).
TOKEN_KEY = "chatmini.auth.token"  # the Token the latest attempt carried
FAILED_KEY = "chatmini.auth.failed"  # getting a token failed: the error is final
REPLAYED_KEY = "chatmini.auth.replayed"  # the call was already replayed after a 401


class TokenAuth:
    """A plugin sending ``<header>: <scheme> <token>`` from a TokenCache on every attempt.

    It answers ``chatmini_authenticate``, so it replaces API-key auth (the default, registered
    ``trylast``) on its Client; a header the caller set explicitly (``extra_headers``) wins.
    """

    chatmini_plugin_name = "token_auth"

    def __init__(
        self, cache: TokenCache, *, header: str = "Authorization", scheme: str = "Bearer"
    ) -> None:
        self.cache = cache
        self.header = header_name(header, "header")
        self._wanted = header.lower()
        self._prefix = f"{scheme} " if scheme else ""

    def token(self) -> Token:
        """The current token, fetched or refreshed if needed (single flight across threads)."""
        return self.cache.get()

    @hookimpl
    def chatmini_authenticate(self, request: Request) -> str:
        wanted = self._wanted
        if any(name.lower() == wanted for name in request.headers):
            return self.header
        try:
            token = self.cache.get()
        except ChatminiError:
            request.context[FAILED_KEY] = True
            raise
        request.context[TOKEN_KEY] = token
        request.headers[self.header] = self._prefix + token.value
        return self.header

    @hookimpl
    def chatmini_retry_decision(
        self, request: Request, response: Optional[requests.Response], error: ChatminiError
    ) -> Optional[str]:
        context = request.context
        if context.pop(FAILED_KEY, False):
            return "raise"  # the token endpoint was already retried; do not retry the call
        token = context.get(TOKEN_KEY)
        if token is None or response is None or response.status_code != 401:
            return None
        if context.get(REPLAYED_KEY):
            return "raise"  # a fresh token was refused too: replay once, never in a loop
        context[REPLAYED_KEY] = True
        self.cache.invalidate(token)
        return "replay"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} header={self.header!r} cache={self.cache!r}>"
