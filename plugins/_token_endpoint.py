"""One OAuth2 token endpoint over HTTP (RFC 6749 §5): form POST, retries, errors, parsing.

Requests go through chatmini's transport (a small Session of its own unless one is given), so
proxies, CA bundles and timeouts behave as for API calls; 5xx, 429 and connection failures are
retried with the RetryPolicy's backoff. Every failure is a chatmini error naming the endpoint
and the server's ``error``/``error_description``; no secret ever goes into a message.
"""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any, Iterable, Mapping, NoReturn, Optional
from urllib.parse import urlencode

from chatmini.errors import APIConnectionError, AuthenticationError, ChatminiError, excerpt
from chatmini.redaction import scrub_values
from chatmini.request import Request
from chatmini.retry import AttemptFailed, RetryPolicy, drive
from chatmini.timeouts import Timeout
from chatmini.transport import HTTPTransport, build_session

from ._jwt_claims import jwt_expiry
from ._token_cache import Token

if TYPE_CHECKING:
    import requests

logger = logging.getLogger("chatmini.auth")
FORM = "application/x-www-form-urlencoded"


class TokenEndpoint:
    """POSTs token requests to ``url`` and turns answers into Tokens or chatmini errors."""

    def __init__(
        self,
        url: str,
        *,
        timeout: Timeout,
        retry: RetryPolicy,
        default_lifetime: float,
        session: Optional[requests.Session] = None,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.retry = retry
        self.default_lifetime = default_lifetime
        self._session = session
        self._transport: Optional[HTTPTransport] = None
        self.requests_sent = 0

    def request_token(
        self,
        form: Mapping[str, str],
        headers: Mapping[str, str],
        secrets: Iterable[Optional[str]] = (),
        keep_refresh_token: Optional[str] = None,
    ) -> Token:
        """Send one grant and return its Token; ``secrets`` are scrubbed from any message.

        ``keep_refresh_token`` is kept when a refresh answer does not issue a new one (§6).
        """
        hidden = [s for s in secrets if s]
        response = self._post(form, headers, hidden)
        payload = self._payload(response, hidden)
        token = self._token(payload, response)
        if token.refresh_token is None and keep_refresh_token:
            token.refresh_token = keep_refresh_token
        return token

    def close(self) -> None:
        """Close the Session this endpoint created (a Session passed in is left alone)."""
        if self._transport is not None and self._session is None:
            self._transport.session.close()

    # -- HTTP ------------------------------------------------------------------------------

    def _post(
        self, form: Mapping[str, str], headers: Mapping[str, str], hidden: list[str]
    ) -> requests.Response:
        """POST the form, retrying 5xx/429/connection failures; a final 4xx/5xx raises."""
        if self._transport is None:
            self._transport = HTTPTransport(self._session or build_session(4), self.url)
        transport = self._transport
        body = urlencode(form).encode()
        all_headers = {"Accept": "application/json", "Content-Type": FORM, **headers}

        def attempt(number: int, retries: int) -> requests.Response:
            request = Request("POST", self.url, dict(all_headers), body,
                              endpoint=self.url, timeout=self.timeout)
            self.requests_sent += 1
            try:
                response = transport.send(request)
            except APIConnectionError as exc:
                raise AttemptFailed(type(exc)(
                    f"OAuth2 token endpoint {self.url} failed: {exc.message}"
                )) from None
            if response.status_code >= 300:
                raise AttemptFailed(self._status_failure(response, hidden), response)
            return response

        def retrying(failure: ChatminiError, policy: RetryPolicy) -> None:
            logger.info("retrying OAuth2 token request to %s after %s", self.url, failure)

        return drive(self.retry, "POST", self.url, attempt, on_retry=retrying)

    def _status_failure(self, response: requests.Response, hidden: list[str]) -> ChatminiError:
        """The AuthenticationError for a non-2xx answer, with the server's error fields."""
        body = _json_or_text(response.content)
        fields = body if isinstance(body, dict) else {}
        error = fields.get("error")
        if isinstance(error, dict):  # some gateways answer in OpenAI's error shape
            fields, error = error, error.get("code") or error.get("type")
        description = fields.get("error_description") or fields.get("message")
        if error:
            detail = f"{error}: {description}" if description else str(error)
        else:
            detail = _describe_body(response.content, response)
        message = f"OAuth2 token endpoint {self.url} answered HTTP {response.status_code}: {detail}"
        failure = AuthenticationError(
            scrub_values(message, hidden), response=response, body=body
        )
        if error:
            failure.code = str(error)  # e.g. invalid_client, invalid_grant
        return failure

    # -- parsing ---------------------------------------------------------------------------

    def _payload(self, response: requests.Response, hidden: list[str]) -> dict[str, Any]:
        body = _json_or_text(response.content)
        if not isinstance(body, dict):
            message = (
                f"OAuth2 token endpoint {self.url} answered HTTP {response.status_code} with "
                f"no JSON object: {_describe_body(response.content, response)}"
            )
            raise AuthenticationError(scrub_values(message, hidden), response=response, body=None)
        return body

    def _token(self, payload: dict[str, Any], response: requests.Response) -> Token:
        """A Token from a successful answer (§5.1): expiry from expires_in, JWT exp, or default."""
        value = payload.get("access_token")
        kind = payload.get("token_type")
        if not isinstance(value, str) or not value:
            self._unusable("no access_token", payload, response)
        if kind is not None and str(kind).lower() != "bearer":
            self._unusable(f"token_type {str(kind)[:40]!r} (only Bearer is supported)",
                           payload, response)
        now = time.time()
        lifetime = _seconds(payload.get("expires_in"))
        expires_at = now + lifetime if lifetime is not None else jwt_expiry(value)
        if expires_at is None:
            expires_at = now + self.default_lifetime
        refresh = payload.get("refresh_token")
        refresh = refresh if isinstance(refresh, str) and refresh else None
        logger.debug(
            "OAuth2 token from %s, expires in %.0f s%s", self.url, expires_at - now,
            ", with a refresh token" if refresh else "",
        )
        return Token(value, expires_at, refresh, obtained_at=now)

    def _unusable(
        self, problem: str, payload: dict[str, Any], response: requests.Response
    ) -> NoReturn:
        raise AuthenticationError(
            f"OAuth2 token endpoint {self.url} answered with {problem}; fields: "
            f"{', '.join(sorted(map(str, payload))) or 'none'}",
            response=response, body=None,  # never keep a body that may hold a token
        )

    def __repr__(self) -> str:
        return f"<TokenEndpoint {self.url}>"


def _json_or_text(content: bytes) -> Any:
    try:
        return json.loads(content) if content else None
    except ValueError:
        return None


def _describe_body(content: bytes, response: requests.Response) -> str:
    kind = response.headers.get("content-type", "no content type")
    text = excerpt(content.decode("utf-8", "replace"), 120) if content else "(empty body)"
    return f"{kind}: {text}"


def _seconds(value: Any) -> Optional[float]:
    """``expires_in`` as seconds: a number or a numeric string (Azure AD v1 sends strings)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds == seconds and seconds != float("inf") else None
