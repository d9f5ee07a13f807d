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
