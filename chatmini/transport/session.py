"""The Client's pooled Session: built once, its pool size known, its settings resolved once.

Environment-derived settings (proxies, CA bundle) are resolved once per Client rather than
on every call, as ``Session.request`` would (about 150 µs a call). Its adapter (``adapter``)
makes the connections of ``connection`` (1xx skipped, reads bounded by deadlines, one write)
with TCP keepalive on:
a reasoning model may send nothing for minutes, and NAT gateways and load balancers drop idle
connections silently, leaving the call to hang until its read timeout.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any, Optional, Union

import requests
from requests.utils import get_environ_proxies
from urllib3.connection import HTTPConnection
from urllib3.util.retry import Retry

from ..errors import InvalidRequestError
from ..redaction import redact_url
from .adapter import APIAdapter

Verify = Union[bool, str]
CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")
NO_ADAPTER_RETRIES = Retry(0, read=False, redirect=False)
DEFAULT_POOL_MAXSIZE = 32
# urllib3 makes a pool's queue with one slot per connection when it first opens the pool (at a
# host's first call): 10**9 slots would hang that call for minutes and take gigabytes.
MAX_POOL_MAXSIZE = 10_000


class RedactURLs(logging.Filter):
    """Redacts credentials in URLs (``?api-key=...``) from urllib3's DEBUG records, which log
    each request's path and query and each retry's URL."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        clean = redact_url(text)
        if clean != text:
            record.msg, record.args = clean, None
        return True


URLLIB3_LOGGERS = ("urllib3.connectionpool", "urllib3.connection", "urllib3.poolmanager",
                   "urllib3.util.retry")
_REDACT_URLS = RedactURLs()


def redact_urllib3_logs() -> None:
    """Put the URL filter on urllib3's loggers (once per process; a record costs nothing
    until DEBUG is on for them)."""
    for name in URLLIB3_LOGGERS:
        logger = logging.getLogger(name)
        if _REDACT_URLS not in logger.filters:
            logger.addFilter(_REDACT_URLS)


class TCPKeepAlive:
    """TCP keepalive for chatmini's connections: after ``idle`` seconds without traffic the
    system sends a probe every ``interval`` seconds, and drops the connection after ``count``
    unanswered ones. Options a platform lacks are left to its defaults."""

    __slots__ = ("idle", "interval", "count")

    def __init__(self, idle: float = 60.0, interval: float = 15.0, count: int = 4) -> None:
        for name, value in (("idle", idle), ("interval", interval), ("count", count)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                1 <= value <= 86400
            ):
                raise InvalidRequestError(
                    f"TCPKeepAlive {name} must be a number from 1 to 86400, not {value!r}"
                )
        self.idle, self.interval, self.count = int(idle), int(interval), int(count)

    def socket_options(self) -> list[tuple[int, int, int]]:
        """The setsockopt triples: SO_KEEPALIVE, then idle (TCP_KEEPIDLE, macOS's
        TCP_KEEPALIVE), interval and count where the platform has them."""
        options = [(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]
        idle = getattr(socket, "TCP_KEEPIDLE", None) or getattr(socket, "TCP_KEEPALIVE", None)
        for option, value in ((idle, self.idle),
                              (getattr(socket, "TCP_KEEPINTVL", None), self.interval),
                              (getattr(socket, "TCP_KEEPCNT", None), self.count)):
            if option is not None:
                options.append((socket.IPPROTO_TCP, option, value))
        return options

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TCPKeepAlive) and (self.idle, self.interval, self.count) == (
            other.idle, other.interval, other.count)

    def __hash__(self) -> int:
        return hash((self.idle, self.interval, self.count))

    def __repr__(self) -> str:
        return f"TCPKeepAlive(idle={self.idle}, interval={self.interval}, count={self.count})"


DEFAULT_KEEPALIVE = TCPKeepAlive()
KeepAliveSetting = Union[bool, TCPKeepAlive, None]


def keepalive_setting(value: KeepAliveSetting) -> Optional[TCPKeepAlive]:
    """The keepalive to use for ``tcp_keepalive=`` (None or True: the defaults, False: none)."""
    if value is True or value is None:
        return DEFAULT_KEEPALIVE
    if value is False:
        return None
    if isinstance(value, TCPKeepAlive):
        return value
    raise InvalidRequestError(
        f"tcp_keepalive must be True, False or a TCPKeepAlive, not {type(value).__name__}"
    )


def build_session(
    pool_maxsize: int, keepalive: Optional[TCPKeepAlive] = DEFAULT_KEEPALIVE
) -> requests.Session:
    """A Session whose http and https adapters (``APIAdapter``) keep up to ``pool_maxsize``
    connections per host, with ``keepalive`` (None: off)."""
    redact_urllib3_logs()
    session = requests.Session()
    options = list(HTTPConnection.default_socket_options)
    if keepalive is not None:
        options += keepalive.socket_options()
    adapter = APIAdapter(options, pool_maxsize=pool_maxsize, max_retries=NO_ADAPTER_RETRIES)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def pooled_session(
    session: Optional[requests.Session], pool_maxsize: Optional[int], url: str,
    keepalive: KeepAliveSetting = None,
) -> tuple[requests.Session, Optional[int]]:
    """The Client's Session and the pool size it really has for ``url``.

    Without ``session`` a new one pools ``pool_maxsize`` (default 32) connections with TCP
    ``keepalive`` (default on). A given
    Session keeps its own adapters: its pool size is read from the adapter mounted for ``url``
    (None when that adapter does not say), and a ``pool_maxsize`` that disagrees is an error.
    """
    redact_urllib3_logs()  # a Session passed in logs through urllib3 too
    if session is None:
        size = DEFAULT_POOL_MAXSIZE if pool_maxsize is None else pool_maxsize
        if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= (
                MAX_POOL_MAXSIZE):
            raise InvalidRequestError(
                f"pool_maxsize must be an integer from 1 to {MAX_POOL_MAXSIZE:,} (urllib3 "
                f"makes a slot per connection when it opens a pool), not {_shown(size)}"
            )
        return build_session(size, keepalive_setting(keepalive)), size
    if keepalive is not None:
        raise InvalidRequestError(
            "tcp_keepalive= and session= disagree: keepalive is set on chatmini's own Session; "
            "a Session you pass keeps its adapters (mount one with socket_options)"
        )
    try:
        adapter = session.get_adapter(url)
    except requests.exceptions.InvalidSchema:
        adapter = None
    real = getattr(adapter, "_pool_maxsize", None)
    real = real if isinstance(real, int) else None
    if pool_maxsize is not None and pool_maxsize != real:
        raise InvalidRequestError(
            f"pool_maxsize={pool_maxsize} and session= (whose adapter for {redact_url(url)} "
            f"pools {real if real is not None else 'an unknown number of'} connections) "
            "disagree: mount an HTTPAdapter(pool_maxsize=...) on the session, or pass one of them"
        )
    return session, real


def _shown(value: Any) -> str:
    """``value`` for a message: a huge integer (too long to print, even) by its size."""
    if isinstance(value, int) and not -10**12 < value < 10**12:
        return f"an integer of about 10**{int(value.bit_length() * 0.30103)}"
    return repr(value)


def close_session(session: requests.Session) -> None:
    """Close ``session`` and its pooled connections now. urllib3 2's ``PoolManager.clear()``
    only forgets its pools: their sockets stay open while any response still refers to one."""
    for adapter in set(session.adapters.values()):
        managers = [getattr(adapter, "poolmanager", None)]
        managers += list(getattr(adapter, "proxy_manager", {}).values())
        for manager in managers:
            pools: Any = getattr(manager, "pools", None)
            for key in list(pools.keys()) if pools is not None else ():
                pool = pools.get(key)
                if pool is not None:
                    pool.close()
    session.close()


def environment_settings(
    session: requests.Session, url: str, verify: Optional[Verify] = None
) -> tuple[dict[str, str], Verify, Any]:
    """Proxies, verify and cert for ``url``, merged as ``Session.request`` would (done once).

    ``verify`` (the Client argument) wins; else the Session's, where True means the first of
    REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, SSL_CERT_FILE that is set (requests itself ignores
    SSL_CERT_FILE: it always passes certifi's bundle), else certifi's bundle.
    """
    proxies: dict[str, str] = {}
    source = "verify="
    if verify is None:
        verify = session.verify
        source = "session.verify"
    if session.trust_env:
        proxies.update(get_environ_proxies(url))
        if verify is True:
            for name in CA_BUNDLE_VARIABLES:
                if os.environ.get(name):
                    verify, source = os.environ[name], name
                    break
    proxies.update(session.proxies or {})
    if isinstance(verify, str) and url.startswith("https:") and not os.path.exists(verify):
        raise InvalidRequestError(f"CA bundle from {source} does not exist: {verify!r}")
    return proxies, verify, session.cert
