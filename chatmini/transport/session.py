"""The Client's pooled Session: built once, its pool size known, its settings resolved once.

Environment-derived settings (proxies, CA bundle) are resolved once per Client rather than
on every call, as ``Session.request`` would (about 150 µs a call).
"""

from __future__ import annotations

import os
from typing import Any, Optional, Union

import requests
from requests.utils import get_environ_proxies
from urllib3.util.retry import Retry

from ..errors import InvalidRequestError
from ..redaction import redact_url
from .adapter import APIAdapter

Verify = Union[bool, str]
CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")
NO_ADAPTER_RETRIES = Retry(0, read=False, redirect=False)
DEFAULT_POOL_MAXSIZE = 32


def build_session(pool_maxsize: int) -> requests.Session:
    """A Session whose http and https adapters (``APIAdapter``) keep up to ``pool_maxsize``
    connections per host."""
    session = requests.Session()
    adapter = APIAdapter(pool_maxsize=pool_maxsize, max_retries=NO_ADAPTER_RETRIES)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def pooled_session(
    session: Optional[requests.Session], pool_maxsize: Optional[int], url: str
) -> tuple[requests.Session, Optional[int]]:
    """The Client's Session and the pool size it really has for ``url``.

    Without ``session`` a new one pools ``pool_maxsize`` (default 32) connections. A given
    Session keeps its own adapters: its pool size is read from the adapter mounted for ``url``
    (None when that adapter does not say), and a ``pool_maxsize`` that disagrees is an error.
    """
    if session is None:
        size = DEFAULT_POOL_MAXSIZE if pool_maxsize is None else pool_maxsize
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise InvalidRequestError(f"pool_maxsize must be an integer >= 1, not {size!r}")
        return build_session(size), size
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
