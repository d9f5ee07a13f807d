"""Keeping secrets out of reprs, logs and messages: one place that knows what is secret."""

from __future__ import annotations

from typing import Mapping

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
    for name, value in headers.items():
        if name.lower() in SECRET_HEADERS and value:
            secret = value.split(" ", 1)[1] if value.lower().startswith("bearer ") else value
            if len(secret) >= 8 and secret in text:
                text = text.replace(secret, REDACTED)
    return text
