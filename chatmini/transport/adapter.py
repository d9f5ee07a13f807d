"""The HTTPAdapter mounted on the Sessions chatmini builds: requests' own, making chatmini's
connections, less the per-call work that an API client does not need.

Its pools (proxied ones too, but SOCKS) make the connections of ``connection``: interim (1xx)
answers skipped, reads bounded by deadlines, headers and a small body in one write, with the
socket options it is given (TCP keepalive). Measured per call on loopback, requests'
``HTTPAdapter.send`` spends more than urllib3 itself does: about 134,000 instructions finding
the connection pool (URL parsing, pool-key building and the PoolManager's lookup, every call),
47,000 computing the request target (the URL parsed three times) and 38,000 filling a cookie
jar from an answer that sets none. This subclass keeps the pool of each origin and the target
of each URL at hand (asking requests again when a pool was closed, and always when a proxy
applies) and builds the Response without the cookie jar: chatmini sends no cookies, so
``response.cookies`` stays empty (the ``Set-Cookie`` headers are still in
``response.headers``). A Session you pass keeps its own adapters; requests' documented
extension points (``init_poolmanager``, ``proxy_manager_for``,
``get_connection_with_tls_context``, ``request_url``, ``build_response``) are all that is
overridden, ``send`` is requests' own."""

from __future__ import annotations

from collections import OrderedDict
from datetime import timedelta
from typing import Any, Mapping, Optional

from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter
from requests.cookies import RequestsCookieJar
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from urllib3.connection import HTTPConnection

from .connection import POOL_CLASSES

KEPT = 64  # pools and targets remembered per adapter (one API uses a handful)


# requests' CaseInsensitiveDict keeps (name, value) under name.lower() in ``_store``
_STORED = type(getattr(CaseInsensitiveDict(), "_store", None)) is OrderedDict


def case_insensitive(headers: Mapping[str, Any]) -> CaseInsensitiveDict[Any]:
    """requests' CaseInsensitiveDict of ``headers`` (duplicate fields joined, as it does),
    built in C: its own constructor goes through ``MutableMapping.update``, about 20,000
    instructions for eight headers."""
    if not _STORED:  # not the requests this was written for: the slow way
        return CaseInsensitiveDict(headers)
    result: CaseInsensitiveDict[Any] = CaseInsensitiveDict.__new__(CaseInsensitiveDict)
    names = list(headers)
    result._store = OrderedDict(
        zip(map(str.lower, names), zip(names, map(headers.__getitem__, names)))
    )
    return result


_FIELDS = ("_content", "_content_consumed", "_next", "cookies", "elapsed", "encoding", "headers",
           "history", "raw", "reason", "request", "status_code", "url")
_KNOWN_RESPONSE = tuple(sorted(vars(Response()))) == _FIELDS  # what this was written for
_NO_TIME = timedelta(0)


def _response() -> Response:
    """An empty Response, as ``Response()`` makes it, for about half the work: its constructor
    builds a CaseInsensitiveDict the adapter replaces at once (through MutableMapping.update)."""
    if not _KNOWN_RESPONSE:  # another requests: its own constructor
        return Response()
    response = Response.__new__(Response)
    response._content, response._content_consumed, response._next = False, False, None
    response.status_code, response.headers, response.raw = None, None, None  # type: ignore
    response.url = response.encoding = response.reason = None  # type: ignore[assignment]
    response.request = None  # type: ignore[assignment]
    response.history, response.cookies, response.elapsed = [], RequestsCookieJar(), _NO_TIME
    return response


class APIAdapter(HTTPAdapter):
    """requests' HTTPAdapter whose pools (proxied ones too) make chatmini's connections
    (``connection``: bounded reads, 1xx skipped, one write) with ``socket_options`` (TCP
    keepalive on top of urllib3's defaults); the pool of each origin and the target of each URL
    kept, and no cookie jar filled from answers (see the module)."""

    __attrs__ = [*HTTPAdapter.__attrs__, "socket_options"]
    _pools: dict[tuple[str, Any, Any], Any]
    _targets: dict[str, str]

    def __init__(
        self, socket_options: Optional[list[tuple[int, int, int]]] = None, **kwargs: Any
    ) -> None:
        self.socket_options = (
            list(HTTPConnection.default_socket_options) if socket_options is None
            else socket_options
        )
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **pool_kwargs: Any) -> None:
        self._pools = {}  # a new PoolManager: none of the old pools are its own
        self._targets = {}
        pool_kwargs.setdefault("socket_options", self.socket_options)
        super().init_poolmanager(*args, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = POOL_CLASSES

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        fresh = proxy not in self.proxy_manager
        if fresh:
            proxy_kwargs.setdefault("socket_options", self.socket_options)
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if fresh and not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = POOL_CLASSES
        return manager

    def get_connection_with_tls_context(
        self, request: PreparedRequest, verify: Any, proxies: Optional[dict[str, str]] = None,
        cert: Any = None,
    ) -> Any:
        url = request.url or ""
        if proxies or not isinstance(url, str):
            return super().get_connection_with_tls_context(request, verify, proxies, cert)
        key = ("/".join(url.split("/", 3)[:3]), verify, cert)  # scheme://host:port
        pool = self._pools.get(key)
        if pool is None or pool.pool is None:  # not asked yet, or closed (evicted, cleared)
            pool = super().get_connection_with_tls_context(request, verify, proxies, cert)
            if len(self._pools) >= KEPT:
                self._pools.clear()
            self._pools[key] = pool
        return pool

    def request_url(self, request: PreparedRequest, proxies: Optional[dict[str, str]]) -> str:
        url = request.url
        if proxies or not isinstance(url, str):
            return super().request_url(request, proxies)
        target = self._targets.get(url)
        if target is None:
            target = super().request_url(request, proxies)
            if len(self._targets) >= KEPT:
                self._targets.clear()
            self._targets[url] = target
        return target

    def close(self) -> None:
        """Close the pools kept here too: urllib3 2's PoolManager only forgets the pools it
        evicts or clears, so one kept here may no longer be among its own."""
        for pool in list(self._pools.values()):
            pool.close()
        self._pools.clear()
        super().close()

    def build_response(self, req: PreparedRequest, resp: Any) -> Response:
        """requests' ``build_response`` without ``extract_cookies_to_jar``."""
        response = _response()
        response.status_code = getattr(resp, "status", None)  # type: ignore[assignment]
        response.headers = case_insensitive(getattr(resp, "headers", {}))
        response.encoding = get_encoding_from_headers(response.headers)
        response.raw = resp
        response.reason = resp.reason
        url = req.url
        response.url = url.decode("utf-8") if isinstance(url, bytes) else url  # type: ignore[assignment]
        response.request = req
        response.connection = self
        return response
