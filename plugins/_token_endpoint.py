"""One OAuth2 token endpoint over HTTP (RFC 6749 §5): form POST, retries, errors, parsing.

Requests go through chatmini's transport (a small Session of its own unless one is given), so
proxies, CA bundles and timeouts behave as for API calls; 5xx, 429 and connection failures are
retried with the RetryPolicy's backoff. Every failure is a chatmini error naming the endpoint
and the server's ``error``/``error_description``; no secret ever goes into a message.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import TYPE_CHECKING, Any, Iterable, Mapping, NoReturn, Optional
from urllib.parse import parse_qsl, urlencode

from chatmini.credentials import credential_problem
from chatmini.errors import APIConnectionError, AuthenticationError, ChatminiError, excerpt
from chatmini.redaction import (
    REDACTED,
    Secrets,
    header_secrets,
    redact_fields,
    redact_url,
    scrub_text,
)
from chatmini.request import Request
from chatmini.retry import AttemptFailed, RetryPolicy, drive
from chatmini.timeouts import TimeoutLike, check_timeout
from chatmini.transport import HTTPTransport, build_session, close_session

from ._jwt_claims import jwt_expiry
from ._token_cache import MAX_LIFETIME, Token, finite_seconds

if TYPE_CHECKING:
    import requests

logger = logging.getLogger("chatmini.auth")
FORM = "application/x-www-form-urlencoded"
# A run this long in a 2xx answer that is not a JSON object may be an issued token: not shown.
_OPAQUE_RUN = re.compile(r"[\w.~+/=-]{16,}")


class TokenEndpoint:
    """POSTs token requests to ``url`` and turns answers into Tokens or chatmini errors."""

    def __init__(
        self,
        url: str,
        *,
        timeout: TimeoutLike,
        retry: RetryPolicy,
        default_lifetime: float,
        session: Optional[requests.Session] = None,
    ) -> None:
        self.url = url
        self.timeout = check_timeout(timeout)
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
        """Send one grant and return its Token; ``secrets`` (and the client credentials in
        ``headers``) are scrubbed from any message and error body, in every encoding.

        ``keep_refresh_token`` is kept when a refresh answer does not issue a new one (§6).
        """
        hidden = Secrets.of([*secrets, *header_secrets(headers)])
        response = self._post(form, headers, hidden)
        payload = self._payload(response, hidden)
        token = self._token(payload, response, hidden)
        if token.refresh_token is None and keep_refresh_token:
            token.refresh_token = keep_refresh_token
        return token

    def close(self) -> None:
        """Close the Session this endpoint created and its connections (a Session passed in
        is left alone); it opens new ones if used again."""
        if self._transport is not None and self._session is None:
            close_session(self._transport.session)

    # -- HTTP ------------------------------------------------------------------------------

    def _post(
        self, form: Mapping[str, str], headers: Mapping[str, str], hidden: Secrets
    ) -> requests.Response:
        """POST the form, retrying 5xx/429/connection failures; a final 4xx/5xx raises."""
        if self._transport is None:
            self._transport = HTTPTransport(self._session or build_session(4), self.url)
        transport = self._transport
        body = urlencode(form).encode()
        all_headers = {"Accept": "application/json", "Content-Type": FORM, **headers}
        deadline = self.timeout.deadline()  # a total covers the token request's retries too

        def attempt(number: int, retries: int) -> requests.Response:
            request = Request("POST", self.url, dict(all_headers), body, endpoint=self.url,
                              timeout=self.timeout, deadline=deadline)
            self.requests_sent += 1
            try:
                response = transport.send(request)
            except APIConnectionError as exc:
                raise AttemptFailed(type(exc)(
                    f"OAuth2 token endpoint {self.shown_url} failed: {hidden.scrub(exc.message)}"
                )) from None
            if response.status_code >= 300:
                raise AttemptFailed(self._status_failure(response, hidden), response)
            return response

        def retrying(failure: ChatminiError, policy: RetryPolicy) -> None:
            logger.info("retrying OAuth2 token request to %s after %s", self.shown_url, failure)

        return drive(self.retry, "POST", self.url, attempt, on_retry=retrying, deadline=deadline)

    def _status_failure(self, response: requests.Response, hidden: Secrets) -> ChatminiError:
        """The AuthenticationError for a non-2xx answer, with the server's error fields."""
        body = self._clean(_decoded(response), hidden)
        fields = body if isinstance(body, dict) else {}
        error = fields.get("error")
        if isinstance(error, dict):  # some gateways answer in OpenAI's error shape
            fields, error = error, error.get("code") or error.get("type")
        description = fields.get("error_description") or fields.get("message")
        if error:
            detail = f"{error}: {description}" if description else str(error)
        else:
            detail = _describe_body(body, response)
        failure = AuthenticationError(
            self._message(f"answered HTTP {response.status_code}: {detail}", hidden),
            response=response, body=body,
        )
        if error:
            failure.code = hidden.scrub(str(error))  # e.g. invalid_client, invalid_grant
        return failure

    # -- parsing ---------------------------------------------------------------------------

    def _payload(self, response: requests.Response, hidden: Secrets) -> dict[str, Any]:
        """The answer's fields: a JSON object, or a form-encoded body (as some providers send)."""
        body = _decoded(response)
        if not isinstance(body, dict):  # an issued token may be anywhere in it: no long runs
            text = self._clean(body, hidden)
            text = _OPAQUE_RUN.sub(REDACTED, text if isinstance(text, str) else json.dumps(text))
            shown = _describe_body(text, response)
            raise AuthenticationError(
                self._message(f"answered HTTP {response.status_code} with no JSON object: "
                              f"{shown}", hidden),
                response=response, body=None,  # never keep a body that may hold a token
            )
        return body

    def _clean(self, body: Any, hidden: Secrets) -> Any:
        """A body fit to show: known secrets in every encoding, then any secret-named field
        (tokens the server issued, an echoed client secret), replaced; before any cut."""
        if isinstance(body, str):
            return scrub_text(body, hidden)
        return redact_fields(hidden.scrub_body(body))

    def _message(self, text: str, hidden: Secrets) -> str:
        return scrub_text(f"OAuth2 token endpoint {self.shown_url} {text}", hidden)

    @property
    def shown_url(self) -> str:
        """The token URL as messages and logs show it (credential parameters redacted)."""
        return redact_url(self.url)

    def _token(
        self, payload: dict[str, Any], response: requests.Response, hidden: Secrets
    ) -> Token:
        """A Token from a successful answer (§5.1): expiry from expires_in, JWT exp, or default."""
        value = payload.get("access_token")
        kind = payload.get("token_type")
        if not isinstance(value, str) or not value.strip():
            self._unusable("no access_token", payload, response, hidden)
        problem = credential_problem(value.strip())
        if problem is not None:
            self._unusable(f"an access_token that {problem}", payload, response, hidden)
        value = value.strip()
        if kind is not None and str(kind).lower() != "bearer":
            self._unusable(f"token_type {str(kind)[:40]!r} (only Bearer is supported)",
                           payload, response, hidden)
        now = time.time()
        lifetime = _seconds(payload.get("expires_in"))
        expires_at = now + lifetime if lifetime is not None else jwt_expiry(value)
        if expires_at is None:
            expires_at = now + self.default_lifetime
        refresh = payload.get("refresh_token")
        refresh = refresh if isinstance(refresh, str) and refresh else None
        logger.debug(
            "OAuth2 token from %s, expires in %.0f s%s", self.shown_url, expires_at - now,
            ", with a refresh token" if refresh else "",
        )
        return Token(value, expires_at, refresh, obtained_at=now)

    def _unusable(
        self, problem: str, payload: dict[str, Any], response: requests.Response,
        hidden: Secrets,
    ) -> NoReturn:
        names = excerpt(", ".join(sorted(map(str, payload))) or "none", 200)
        raise AuthenticationError(
            self._message(f"answered with {problem}; fields: {names}", hidden),
            response=response, body=None,  # never keep a body that may hold a token
        )

    def __repr__(self) -> str:
        return f"<TokenEndpoint {self.shown_url}>"


def _decoded(response: requests.Response) -> Any:
    """The body as JSON, as a dict of form fields (``application/x-www-form-urlencoded``), or
    as text ("" when empty); never raises."""
    content = response.content or b""
    text = content.decode("utf-8", "replace")
    try:
        return json.loads(text) if text else ""
    except (ValueError, RecursionError):
        pass
    kind = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind == FORM or (kind in ("", "text/plain") and text.startswith("access_token=")):
        return dict(parse_qsl(text.strip(), keep_blank_values=True))
    return text


def _describe_body(body: Any, response: requests.Response) -> str:
    """The content type and an excerpt of an (already scrubbed) body."""
    kind = response.headers.get("content-type", "no content type")
    if body == "" or body is None:
        return f"{kind}: (empty body)"
    text = body if isinstance(body, str) else json.dumps(body)
    return f"{kind}: {excerpt(text, 120)}"


def _seconds(value: Any) -> Optional[float]:
    """``expires_in`` as seconds: a number or a numeric string (Azure AD v1 sends strings);
    None (ignored) when negative or not a finite number, at most MAX_LIFETIME."""
    seconds = finite_seconds(value)
    return None if seconds is None or seconds < 0 else min(seconds, MAX_LIFETIME)
