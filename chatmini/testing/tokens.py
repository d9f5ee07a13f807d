"""The test server's OAuth2 token endpoint (POST /oauth/token) and its bearer-token check.

It issues short-lived access tokens (opaque or JWT, optionally with refresh tokens), records
every token request, can be scripted to fail with the same ``Reply`` objects as the API side,
and, with ``require=True``, makes the API answer 401 unless a valid, unexpired token is sent.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from email.message import Message
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from .replies import Reply, error_payload

__all__ = ["TokenIssuer", "TokenRequest"]

TOKEN_PATH = "/oauth/token"
SETTINGS = ("client_id", "client_secret", "lifetime", "jwt", "expires_in", "refresh_tokens",
            "require", "prefix")


@dataclass(frozen=True)
class TokenRequest:
    """One request to the token endpoint: its grant, how the client authenticated, its form."""

    grant_type: str | None
    client_auth: str | None  # "basic", "post", "both" or None
    client_id: str | None
    client_secret: str | None
    form: dict[str, str]


class TokenIssuer:
    """Issues and checks access tokens; configure with ``server.tokens.configure(...)``.

    ``lifetime`` seconds per access token; ``jwt`` issues JWTs with an ``exp`` claim;
    ``expires_in=False`` leaves ``expires_in`` out of answers; ``refresh_tokens`` issues (and
    rotates) refresh tokens; ``require`` makes the API side demand a valid bearer token.
    """

    path = TOKEN_PATH

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.client_id = "chatmini-test-client"
        self.client_secret = "chatmini-test-secret"
        self.lifetime = 3600.0
        self.jwt = False
        self.expires_in = True
        self.refresh_tokens = False
        self.require = False
        self.prefix = "tok"
        self._access: dict[str, float] = {}
        self._refresh: set[str] = set()
        self._issued: list[str] = []
        self._queue: deque[Reply] = deque()
        self._requests: list[TokenRequest] = []

    def configure(self, **settings: Any) -> TokenIssuer:
        """Change settings (see the class docstring); returns self."""
        for name, value in settings.items():
            if name not in SETTINGS:
                raise TypeError(f"unknown token setting {name!r}; known: {', '.join(SETTINGS)}")
            setattr(self, name, value)
        return self

    def enqueue(self, *replies: Reply) -> None:
        """Script the next token answers; a Reply with no body and status 200 issues a token
        normally (after its ``delay``), an error status without a body gets an OAuth error."""
        with self._lock:
            self._queue.extend(replies)

    @property
    def requests(self) -> list[TokenRequest]:
        """Every token request received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def calls(self) -> int:
        """How many token requests arrived."""
        with self._lock:
            return len(self._requests)

    @property
    def grants(self) -> list[str | None]:
        """The ``grant_type`` of each token request, in arrival order."""
        return [r.grant_type for r in self.requests]

    @property
    def issued(self) -> list[str]:
        """Every access and refresh token issued so far (for tests that they never leak)."""
        with self._lock:
            return list(self._issued)

    def revoke_access_tokens(self) -> None:
        """Make every issued access token invalid (the API then answers 401)."""
        with self._lock:
            self._access.clear()

    def revoke_refresh_tokens(self) -> None:
        """Make every issued refresh token invalid (the refresh grant then fails)."""
        with self._lock:
            self._refresh.clear()

    def reset(self) -> None:
        """Forget requests, scripted replies and tokens (settings stay)."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self._access.clear()
            self._refresh.clear()
            self._issued.clear()

    # -- the API side ----------------------------------------------------------------------

    def refuses(self, authorization: str | None) -> bool:
        """True when tokens are required and ``authorization`` is not a valid bearer token."""
        if not self.require:
            return False
        scheme, _, value = (authorization or "").partition(" ")
        with self._lock:
            expiry = self._access.get(value) if scheme.lower() == "bearer" else None
        return expiry is None or expiry <= time.time()

    @staticmethod
    def unauthorized() -> Reply:
        """The API's answer to a missing, unknown or expired token."""
        return Reply(status=401, body=error_payload(401, "Invalid or expired access token."),
                     headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})

    # -- the token endpoint ----------------------------------------------------------------

    def take(self, body: bytes, headers: Message) -> tuple[TokenRequest, Reply | None]:
        """Record a token request and pop the next scripted reply, if any."""
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        basic = _basic_credentials(headers.get("Authorization"))
        posted = form.get("client_secret") is not None
        method = "both" if basic and posted else "basic" if basic else "post" if posted else None
        client_id, secret = basic or (form.get("client_id"), form.get("client_secret"))
        record = TokenRequest(form.get("grant_type"), method, client_id, secret, form)
        with self._lock:
            self._requests.append(record)
            reply = self._queue.popleft() if self._queue else None
        if reply is not None and reply.status >= 400 and reply.body is None:
            code = "server_error" if reply.status >= 500 else "invalid_request"
            reply = replace(reply, body={"error": code, "error_description": "scripted failure"})
        return record, reply

    def answer(self, request: TokenRequest) -> tuple[int, dict[str, Any]]:
        """(status, JSON body) for a token request: a new token or an RFC 6749 §5.2 error."""
        if request.client_auth == "both":
            return _oauth_error(400, "invalid_request", "use one client authentication method")
        if (request.client_id, request.client_secret) != (self.client_id, self.client_secret):
            return _oauth_error(401, "invalid_client", "unknown client or wrong secret")
        if request.grant_type == "refresh_token":
            with self._lock:
                known = request.form.get("refresh_token") in self._refresh
                self._refresh.discard(request.form.get("refresh_token", ""))  # rotation
            if not known:
                return _oauth_error(400, "invalid_grant", "refresh token is invalid or expired")
        elif request.grant_type != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type", str(request.grant_type))
        return 200, self._issue(request)

    def _issue(self, request: TokenRequest) -> dict[str, Any]:
        now = time.time()
        serial = f"{self.prefix}-{len(self._issued) + 1}-{secrets.token_hex(8)}"
        if self.jwt:
            expiry = float(int(now + self.lifetime))
            claims = {"sub": request.client_id, "iat": int(now), "exp": int(expiry), "jti": serial}
            value = ".".join([_b64({"alg": "none", "typ": "JWT"}), _b64(claims), _b64(serial)])
        else:
            expiry, value = now + self.lifetime, serial
        payload: dict[str, Any] = {"access_token": value, "token_type": "Bearer"}
        if self.expires_in:
            payload["expires_in"] = self.lifetime
        if request.form.get("scope"):
            payload["scope"] = request.form["scope"]
        with self._lock:
            self._access[value] = expiry
            self._issued.append(value)
            if self.refresh_tokens:
                refresh = f"{self.prefix}-refresh-{secrets.token_hex(8)}"
                self._refresh.add(refresh)
                self._issued.append(refresh)
                payload["refresh_token"] = refresh
        return payload


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(client_id, client_secret) from an HTTP Basic header (RFC 6749 §2.3.1), or None."""
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (unquote_plus(user), unquote_plus(password)) if sep else None


def _oauth_error(status: int, error: str, description: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": error, "error_description": description}


def _b64(value: Any) -> str:
    raw = value.encode() if isinstance(value, str) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
