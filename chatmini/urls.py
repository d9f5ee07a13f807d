"""Base URLs: what a Client accepts, and whether a secret sent to one stays on a private path.

Shared by the Client (API keys) and the OAuth2 plugin (client secrets), which both warn before
a secret travels in clear text to another machine.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import quote, urlsplit

from .errors import InvalidRequestError
from .redaction import redact_url


def check_http_url(url: str, what: str = "base_url") -> str:
    """``url`` when it is an http(s) URL without userinfo; else an InvalidRequestError that
    shows the URL with any credential in it redacted.

    A ``user:password@`` in the URL is refused rather than used: it would show wherever the URL
    does (reprs, messages, logs), and sending it as Basic auth would silently compete with
    ``api_key``. Credentials go in ``api_key=``, ``auth=`` or a header.
    """
    if not isinstance(url, str):
        raise InvalidRequestError(f"{what} must be a string, not {type(url).__name__}")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidRequestError(
            f"{what} must be an http:// or https:// URL, not {redact_url(url)!r}"
        )
    if "@" in parts.netloc:
        raise InvalidRequestError(
            f"{what} must not carry credentials (user:password@host): {redact_url(url)!r}; "
            "pass the key with api_key= or auth=, or a header with default_headers="
        )
    return url


def check_base_url(url: str) -> str:
    """The base URL without a trailing slash; a clear error when it is not http(s) or carries
    credentials."""
    return check_http_url(url).rstrip("/")


def key_stays_private(url: str) -> bool:
    """True for https, and for plain http to loopback (where a key never leaves the machine)."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return True
    host = (parts.hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def path_segment(value: object) -> str:
    """``value`` percent-encoded as one URL path segment (``/`` too, as openai-python does), so
    an id like ``meta-llama/Llama-3`` or ``../x`` can never change which path is called."""
    text = str(value)
    if text in ("", ".", ".."):
        raise InvalidRequestError(f"{text!r} cannot name a resource in a URL path")
    return quote(text, safe="!$&'()*+,;=:@")
