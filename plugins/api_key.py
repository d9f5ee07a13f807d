"""API-key authentication, the default credential: ``Authorization: Bearer <key>`` or a raw key
header such as Azure's ``api-key``. It puts the key on every attempt and never shows it; it is
registered ``trylast`` on ``chatmini_authenticate``, so any other credential plugin wins."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from chatmini.credentials import header_name, optional_credential
from chatmini.hookspecs import hookimpl
from chatmini.redaction import describe_secret

if TYPE_CHECKING:
    from chatmini.request import Request


class ApiKeyAuth:
    """Adds the key to each attempt; ``header="api-key"`` sends the bare key in that header."""

    def __init__(self, api_key: Optional[str], header: str = "Authorization") -> None:
        api_key = optional_credential(api_key, "api_key")  # no newline or quote reaches a header
        self._api_key = api_key
        self.header = header_name(header, "api_key_header")
        self._lower = header.lower()
        self._value = None
        if api_key:
            bearer = header.lower() == "authorization"
            self._value = f"Bearer {api_key}" if bearer else api_key

    @hookimpl(trylast=True)
    def chatmini_authenticate(self, request: Request) -> Optional[str]:
        if self._value is None:
            return None
        headers = request.headers
        if self.header not in headers and self._lower not in map(str.lower, headers):
            headers[self.header] = self._value  # a header the caller set (any case) wins
        return self.header

    def __repr__(self) -> str:
        return f"<ApiKeyAuth header={self.header!r} key={describe_secret(self._api_key)}>"
