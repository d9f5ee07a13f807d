"""Keeping secrets out of reprs, logs, messages and error bodies: one place that knows what is
secret and how a secret can show.

The rule: no run of ``MIN_RUN`` (8) or more characters of a secret is ever shown, in any of the
encodings a server may echo it in (raw, URL-encoded, JSON-escaped, base64 as in an HTTP Basic
header). A run rather than the whole secret, because bodies get cut (by the server, or by an
excerpt) and a cut secret no longer matches itself. Secrets are the values of credential headers
(the well-known names, and whatever header the credential plugin said it set), credential-like
query parameters, and any value a caller of ``Secrets`` names (an OAuth2 client secret).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from functools import lru_cache
from typing import Any, Iterable, Iterator, Mapping, Optional, Union
from urllib.parse import quote, quote_plus, unquote_plus, urlsplit

SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "api-key", "x-api-key", "cookie", "set-cookie"}
)
REDACTED = "<redacted>"
MIN_RUN = 8  # shorter runs are not hidden (they would mangle ordinary words)


class Secrets:
    """Secret values in every encoding they may be echoed in; ``scrub`` replaces any run of
    ``MIN_RUN`` or more of their characters. Built once per set of values (cached)."""

    __slots__ = ("forms", "_grams", "_runs")

    def __init__(self, values: Iterable[Optional[str]] = ()) -> None:
        forms = {form for value in values if value for form in encodings(value)}
        self.forms = frozenset(form for form in forms if len(form) >= MIN_RUN)
        self._grams = frozenset(
            form[i:i + MIN_RUN] for form in self.forms for i in range(len(form) - MIN_RUN + 1)
        )
        alphabet = "".join(sorted(set("".join(self.forms))))
        self._runs = re.compile(f"[{re.escape(alphabet)}]{{{MIN_RUN},}}") if alphabet else None

    @staticmethod
    def of(values: Iterable[Optional[str]]) -> Secrets:
        """The (cached) Secrets of ``values``."""
        return _secrets(tuple(sorted({v for v in values if v and len(v) >= MIN_RUN})))

    def __bool__(self) -> bool:
        return bool(self.forms)

    def scrub(self, text: str) -> str:
        """``text`` with every run of ``MIN_RUN`` or more characters of a secret replaced."""
        runs = self._runs
        if runs is None or not text:
            return text
        grams, last = self._grams, 0
        parts: list[str] = []
        for match in runs.finditer(text):
            start, end = match.span()
            span_start = span_end = -1
            for i in range(start, end - MIN_RUN + 1):
                if text[i:i + MIN_RUN] in grams:
                    if i > span_end:  # a new span (not touching the last one)
                        if span_start >= 0:
                            parts += (text[last:span_start], REDACTED)
                            last = span_end
                        span_start = i
                    span_end = i + MIN_RUN
            if span_start >= 0:
                parts += (text[last:span_start], REDACTED)
                last = span_end
        if not parts:
            return text
        parts.append(text[last:])
        return "".join(parts)

    def scrub_body(self, body: Any) -> Any:
        """A body (text, bytes, or decoded JSON) with secrets scrubbed from every string in it."""
        if not self.forms or body is None:
            return body
        if isinstance(body, str):
            return self.scrub(body)
        if isinstance(body, (bytes, bytearray)):
            text = bytes(body).decode("utf-8", "surrogateescape")
            clean = self.scrub(text)
            return body if clean == text else clean.encode("utf-8", "surrogateescape")
        try:
            return self._scrub_json(body)
        except RecursionError:  # nested too deeply to walk: keep its scrubbed text instead
            return self.scrub(json.dumps(body))

    def _scrub_json(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, dict):
            return {self._scrub_json(k): self._scrub_json(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._scrub_json(v) for v in value]
        return value

    def __repr__(self) -> str:
        return f"<Secrets {len(self.forms)} forms>"


@lru_cache(maxsize=128)
def _secrets(values: tuple[str, ...]) -> Secrets:
    return Secrets(values)


NO_SECRETS = Secrets()


def encodings(value: str) -> Iterator[str]:
    """``value`` as a server may echo it: raw, URL-encoded, JSON-escaped, and base64 at each of
    the three alignments it can have inside a longer encoded string (``id:secret`` in a Basic
    header), standard and URL-safe alphabets."""
    yield value
    yield quote(value, safe="")
    yield quote_plus(value)
    yield json.dumps(value)[1:-1]
    raw = value.encode("utf-8", "surrogatepass")
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode()
        head = 4 if shift else 0  # the group holding the prefix depends on it
        tail = 4 if (shift + len(raw)) % 3 else 0  # the last group depends on what follows
        middle = encoded[head:len(encoded) - tail].rstrip("=")
        yield middle
        yield middle.replace("+", "-").replace("/", "_")


def header_secrets(headers: Mapping[str, str], credential_header: Optional[str] = None) -> (
    Iterator[str]
):
    """The secret values in ``headers``: the well-known credential headers and
    ``credential_header``, each whole, without its scheme, and a Basic password decoded."""
    wanted = None if credential_header is None else credential_header.lower()
    for name, value in headers.items():
        lowered = name.lower()
        if not isinstance(value, str) or not (lowered in SECRET_HEADERS or lowered == wanted):
            continue
        scheme, sep, rest = value.strip().partition(" ")
        if not sep:
            yield value
            continue
        yield rest.strip()  # the credential without its scheme ("Bearer ", "Basic ")
        if scheme.lower() == "basic":
            yield from _basic_password(rest.strip())


def _basic_password(encoded: str) -> Iterator[str]:
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return
    _, sep, password = decoded.partition(":")
    if sep:
        yield password
        yield unquote_plus(password)


def url_secrets(url: str) -> Iterator[str]:
    """Credential-like query parameter values (as sent and decoded) and a userinfo password."""
    if "=" in url:
        for match in _QUERY_PARAM.finditer(url):
            if secret_param(match[2]):
                yield match[3]
                yield unquote_plus(match[3])
    if "@" in url:
        try:
            password = urlsplit(url).password
        except ValueError:
            password = None
        if password:
            yield password
            yield unquote_plus(password)


def request_secrets(
    headers: Mapping[str, str], url: str, credential_header: Optional[str] = None
) -> Secrets:
    """Every secret one request carries (see ``header_secrets`` and ``url_secrets``)."""
    return Secrets.of([*header_secrets(headers, credential_header), *url_secrets(url)])


def scrub_exception_chain(error: BaseException, secrets: Secrets) -> None:
    """Scrub, in place, the messages of everything chained to ``error`` (causes, contexts,
    urllib3's ``reason``): a traceback prints them all, and requests' own messages repeat the
    URL with its query string. ``error`` itself is left alone (chatmini's own errors are
    scrubbed when they are made)."""
    stack = [error.__cause__, error.__context__]
    seen = {id(error)}
    while stack:
        exc = stack.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        exc.args = tuple(_scrubbed(arg, secrets, stack) for arg in exc.args)
        for name, value in list(vars(exc).items()):
            if isinstance(value, (str, bytes, BaseException)):
                try:
                    setattr(exc, name, _scrubbed(value, secrets, stack))
                except (AttributeError, TypeError):  # a read-only attribute: leave it
                    pass
        stack += [exc.__cause__, exc.__context__]


def _scrubbed(value: Any, secrets: Secrets, stack: list[Optional[BaseException]]) -> Any:
    if isinstance(value, str):
        return redact_url(secrets.scrub(value))
    if isinstance(value, bytes):
        return secrets.scrub_body(value)
    if isinstance(value, BaseException):
        stack.append(value)
    return value


def redact_headers(
    headers: Mapping[str, str], credential_header: Optional[str] = None
) -> dict[str, str]:
    """A copy of ``headers`` with credential-bearing values replaced, for logs and reprs."""
    wanted = None if credential_header is None else credential_header.lower()
    return {
        k: (REDACTED if k.lower() in SECRET_HEADERS or k.lower() == wanted else v)
        for k, v in headers.items()
    }


def describe_secret(secret: object) -> str:
    """How a secret shows in a repr: whether it is set, never any of its characters."""
    return "set" if secret else "unset"


def scrub(text: str, headers: Mapping[str, str]) -> str:
    """``text`` with any credential carried in ``headers`` replaced (servers echo keys back)."""
    return Secrets.of(header_secrets(headers)).scrub(text)


def scrub_values(text: str, secrets: Iterable[Optional[str]]) -> str:
    """``text`` with any run of 8 or more characters of each secret replaced."""
    return Secrets.of(secrets).scrub(text)


_SECRET_NAME = re.compile(
    r"(?:key|token|secret|passw(?:or)?d|pwd|sig|signature|credentials?|auth|code)$", re.IGNORECASE
)
_QUERY_PARAM = re.compile(r"(^|[?&;\s])([^=&#;?\s]+)=([^&#;?\s'\"<>]*)")
_SECRET_FIELD = re.compile(r"(?:token|secret|passw(?:or)?d|pwd|key|assertion)$", re.IGNORECASE)
_JSON_SECRET = re.compile(
    r'("[\w.-]*(?:api[_-]?key|secret|password|token|authorization)"\s*:\s*)"(?:[^"\\]|\\.)*"',
    re.IGNORECASE,
)
_TOKEN_LIKE = re.compile(r"(?i)\b(bearer|basic)\s+[\w.~+/=-]{8,}|\bsk-[\w-]{8,}")
_USERINFO = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://)[^/?#@\s]*@")


def secret_param(name: str) -> bool:
    """Whether a query parameter or form field of this name carries a credential: it ends in
    key, token, secret, password, sig, signature, auth, code (``api-key``, ``accessToken``,
    ``client_secret``, ``sig``; not ``max_tokens`` or ``api-version``)."""
    return bool(_SECRET_NAME.search(name))


def redact_fields(body: Any) -> Any:
    """Decoded JSON with the values of secret-named fields (``access_token``, ``refresh_token``,
    ``client_secret``, ``api_key``, ...) replaced: for answers that carry secrets nobody named
    in advance, such as a token endpoint's."""
    if isinstance(body, dict):
        return {
            k: REDACTED if isinstance(k, str) and _SECRET_FIELD.search(k) and v else
            redact_fields(v)
            for k, v in body.items()
        }
    if isinstance(body, list):
        return [redact_fields(v) for v in body]
    return body


def redact_url(url: str) -> str:
    """``url`` (or any text holding URLs) with credential-like query parameter values and
    userinfo (``user:password@``) replaced, for logs and reprs."""
    if "@" in url:
        url = _USERINFO.sub(lambda m: f"{m[1]}{REDACTED}@", url)
    if "=" not in url:
        return url
    return _QUERY_PARAM.sub(
        lambda m: f"{m[1]}{m[2]}={REDACTED}" if secret_param(m[2]) else m[0], url
    )


def scrub_text(text: str, secrets: Union[Secrets, Mapping[str, str]]) -> str:
    """A body or message fit for logs: the ``secrets`` (or those of credential ``headers``),
    secret-named JSON fields, bearer tokens, ``sk-`` keys and credential parameters replaced."""
    if not isinstance(secrets, Secrets):
        secrets = Secrets.of(header_secrets(secrets))
    text = _JSON_SECRET.sub(lambda m: f'{m[1]}"{REDACTED}"', text)  # whole values by name
    text = _TOKEN_LIKE.sub(lambda m: f"{m[1]} {REDACTED}" if m[1] else REDACTED, text)
    return secrets.scrub(redact_url(text))
