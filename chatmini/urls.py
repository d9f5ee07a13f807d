"""Base URLs: what a Client accepts, and whether a secret sent to one stays on a private path.

Shared by the Client (API keys) and the OAuth2 plugin (client secrets), which both warn before
a secret travels in clear text to another machine.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import quote, urlsplit

from .errors import InvalidRequestError


def check_base_url(url: str) -> str:
    """The base URL without a trailing slash; a clear error when it is not http(s)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidRequestError(f"base_url must be an http:// or https:// URL, not {url!r}")
    return url.rstrip("/")


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
