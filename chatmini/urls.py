"""Base URLs: what a Client accepts, and whether a secret sent to one stays on a private path.

Shared by the Client (API keys) and the OAuth2 plugin (client secrets), which both warn before
a secret travels in clear text to another machine.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Optional
from urllib.parse import SplitResult, quote, urlsplit

from .errors import InvalidRequestError
from .redaction import redact_url


def check_http_url(url: str, what: str = "base_url") -> str:
    """``url`` (without surrounding whitespace) when it is an http(s) URL with a well-formed
    host and no userinfo; else an InvalidRequestError that shows the URL with any credential in
    it redacted.

    A ``user:password@`` in the URL is refused rather than used: it would show wherever the URL
    does (reprs, messages, logs), and sending it as Basic auth would silently compete with
    ``api_key``. Credentials go in ``api_key=``, ``auth=`` or a header.
    """
    if not isinstance(url, str):
        raise InvalidRequestError(f"{what} must be a string, not {type(url).__name__}")
    url = url.strip()  # a URL read from a file or an environment variable keeps its newline
    try:
        parts = urlsplit(url)
    except ValueError:  # brackets that hold no IPv6 address, or are not closed
        parts = None
    if parts is not None and parts.scheme in ("http", "https") and (
            _CONTROL.search(url) is not None):  # urlsplit drops tabs and line breaks silently
        raise InvalidRequestError(
            f"{what} contains a line break, tab or control character: {redact_url(url)!r}")
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        if parts is None and url.startswith(("http://", "https://")):
            raise InvalidRequestError(f"{what} has a malformed host (an IPv6 address in "
                                      f"brackets that does not parse): {redact_url(url)!r}")
        raise InvalidRequestError(
            f"{what} must be an http:// or https:// URL, not {redact_url(url)!r}"
        )
    if "@" in parts.netloc:
        raise InvalidRequestError(
            f"{what} must not carry credentials (user:password@host): {redact_url(url)!r}; "
            "pass the key with api_key= or auth=, or a header with default_headers="
        )
    problem = host_problem(parts)
    if problem is not None:
        raise InvalidRequestError(
            f"{what} has a malformed host ({problem}): {redact_url(url)!r}")
    return url


_HOST_CHARACTERS = re.compile(r"[A-Za-z0-9._-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def host_problem(parts: SplitResult) -> Optional[str]:
    """What is wrong with the host and port of a URL that has no userinfo, or None. A host is
    an IP address (IPv6 in brackets) or a DNS name: labels of 1 to 63 letters, digits, hyphens
    or underscores (or an internationalised name), 253 characters at most; a port 1 to 65535."""
    try:
        port = parts.port
    except ValueError:
        return "the port is not a number from 0 to 65535"
    if port == 0:
        return "port 0"
    host = parts.hostname or ""
    if not host:
        return "no host name"
    if parts.netloc.startswith("["):
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return "not an IPv6 address inside the brackets"
        return None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return "not a valid internationalised domain name"
    if not _HOST_CHARACTERS.fullmatch(host):
        return "a character that cannot be in a host name"
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    if len(host) > 253 or any(not 0 < len(label) <= 63 for label in labels):
        return "an empty label or one longer than 63 characters, or over 253 in all"
    if any(label[0] == "-" or label[-1] == "-" for label in labels):
        return "a label that starts or ends with a hyphen"
    return None


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
