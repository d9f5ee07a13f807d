"""Keeping secrets out of reprs, logs and messages: one place that knows what is secret."""

from __future__ import annotations

import re
from typing import Iterable, Mapping, Optional

SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "api-key", "x-api-key", "cookie", "set-cookie"}
)
REDACTED = "<redacted>"


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` with credential-bearing values replaced, for logs and reprs."""
    return {k: (REDACTED if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}


def describe_secret(secret: object) -> str:
    """How a secret shows in a repr: whether it is set, never any of its characters."""
    return "set" if secret else "unset"


def scrub(text: str, headers: Mapping[str, str]) -> str:
    """``text`` with any credential carried in ``headers`` replaced (servers echo keys back)."""
    secrets = [
        value.split(" ", 1)[1] if value.lower().startswith("bearer ") else value
        for name, value in headers.items()
        if name.lower() in SECRET_HEADERS and value
    ]
    return scrub_values(text, secrets)


def scrub_values(text: str, secrets: Iterable[Optional[str]]) -> str:
    """``text`` with each secret of 8 or more characters replaced (shorter ones are not hidden
    reliably anyway, and would mangle ordinary words)."""
    for secret in secrets:
        if secret and len(secret) >= 8 and secret in text:
            text = text.replace(secret, REDACTED)
    return text


SECRET_PARAMS = frozenset({
    "api-key", "api_key", "apikey", "key", "token", "access_token", "refresh_token", "id_token",
    "client_secret", "secret", "password", "sig", "signature", "code",
})
_QUERY_PARAM = re.compile(r"([?&;])([^=&#;?]+)=([^&#;]*)")
_JSON_SECRET = re.compile(
    r'("[\w.-]*(?:api[_-]?key|secret|password|token|authorization)"\s*:\s*)"(?:[^"\\]|\\.)*"',
    re.IGNORECASE,
)
_TOKEN_LIKE = re.compile(r"(?i)\b(bearer|basic)\s+[\w.~+/=-]{8,}|\bsk-[\w-]{8,}")


def redact_url(url: str) -> str:
    """``url`` with the values of credential-like query parameters (``api-key=``, ``token=``,
    ``sig=``, ...) replaced, for logs and reprs."""
    if "=" not in url:
        return url
    return _QUERY_PARAM.sub(
        lambda m: f"{m[1]}{m[2]}={REDACTED}" if m[2].lower() in SECRET_PARAMS else m[0], url
    )


def scrub_text(text: str, headers: Mapping[str, str]) -> str:
    """A body or message fit for logs: credentials from ``headers``, secret-named JSON fields,
    bearer tokens, ``sk-`` keys and credential query parameters replaced."""
    text = scrub(text, headers)
    text = _JSON_SECRET.sub(lambda m: f'{m[1]}"{REDACTED}"', text)
    text = _TOKEN_LIKE.sub(lambda m: f"{m[1]} {REDACTED}" if m[1] else REDACTED, text)
    return redact_url(text)
