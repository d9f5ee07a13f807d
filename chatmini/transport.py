"""The transport: one pooled requests.Session per Client, and the built-in ``transport`` plugin.

Environment-derived settings (proxies, CA bundle) are resolved once per Client rather than
on every call, as ``Session.request`` would (about 150 µs a call); attempts go straight to the
mounted adapter with a cheaply built PreparedRequest. Redirects are not followed: an API that
redirects a POST elsewhere is answered with the 3xx as an error, and the key never travels.
"""

from __future__ import annotations

import os
from datetime import timedelta
from time import perf_counter
from typing import TYPE_CHECKING, Any, Optional, Union

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_environ_proxies
from urllib3.util.retry import Retry

from .body import read_body
from .errors import APIConnectionError, APITimeoutError, InvalidRequestError
from .hookspecs import hookimpl
from .redaction import redact_url

if TYPE_CHECKING:
    from .client import Client
    from .request import Request

Verify = Union[bool, str]
CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")
NO_ADAPTER_RETRIES = Retry(0, read=False, redirect=False)
DEFAULT_POOL_MAXSIZE = 32


def build_session(pool_maxsize: int) -> requests.Session:
    """A Session whose http and https adapters keep up to ``pool_maxsize`` connections per host."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_maxsize=pool_maxsize, max_retries=NO_ADAPTER_RETRIES)
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
            pools = getattr(manager, "pools", None)
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


class HTTPTransport:
    """The built-in ``transport`` plugin: sends each attempt through the Session's adapter."""

    def __init__(
        self,
        session: requests.Session,
        base_url: str,
        verify: Optional[Verify] = None,
        max_response_bytes: Optional[int] = None,
    ) -> None:
        self.session = session
        self.proxies, self.verify, self.cert = environment_settings(session, base_url, verify)
        self.max_response_bytes = max_response_bytes

    @hookimpl(trylast=True)
    def chatmini_send(self, request: Request, client: Client) -> requests.Response:
        return self.send(request)

    def send(self, request: Request) -> requests.Response:
        """Send one attempt; a non-stream body is read here, so its failures are the attempt's."""
        prepared = requests.PreparedRequest()
        prepared.method = request.method
        prepared.url = request.url
        headers = CaseInsensitiveDict(request.headers)
        body = request.body
        if body is not None:
            headers["Content-Length"] = str(len(body))
        prepared.headers = headers
        prepared.body = body
        prepared.hooks = {"response": []}
        try:
            adapter = self.session.get_adapter(request.url)
            start = perf_counter()
            response = adapter.send(
                prepared,
                stream=request.stream,
                timeout=request.timeout,
                verify=self.verify,
                cert=self.cert,
                proxies=self.proxies,
            )
            response.elapsed = timedelta(seconds=perf_counter() - start)  # as Session.send does
            if not request.stream:  # read inside the error translation, bounded
                read_body(response, request, self.max_response_bytes)
        except (requests.exceptions.RequestException, OSError) as exc:  # OSError: a CA path
            raise translate_exception(exc, request) from exc
        return response


def translate_exception(exc: BaseException, request: Optional[Request]) -> APIConnectionError:
    """The chatmini error for a requests/urllib3 failure, with a message that names the cause."""
    target = f"{request.method} {redact_url(request.url)}" if request is not None else (
        "the request"
    )
    if isinstance(exc, requests.exceptions.Timeout) or _is_timeout(exc):
        kind = "connect" if isinstance(exc, requests.exceptions.ConnectTimeout) else "read"
        return APITimeoutError(f"Request timed out ({kind} timeout) on {target}.", request=request)
    if isinstance(exc, requests.exceptions.SSLError):
        if "CERTIFICATE_VERIFY" in str(exc):
            return APIConnectionError(
                f"TLS certificate verification failed for {target}: {_reason(exc)} (a private "
                "CA? pass Client(verify='ca.pem') or set REQUESTS_CA_BUNDLE or SSL_CERT_FILE)",
                request=request,
            )
        return APIConnectionError(f"TLS handshake failed for {target}: {_reason(exc)}",
                                  request=request)
    if isinstance(exc, requests.exceptions.ProxyError):
        return APIConnectionError(f"Proxy error on {target}: {_reason(exc)}", request=request)
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        message = f"Response body cut off on {target}: {_reason(exc)}"
    elif isinstance(exc, requests.exceptions.ContentDecodingError):
        message = f"Response body could not be decoded on {target}."
    elif isinstance(exc, requests.exceptions.InvalidURL):
        message = f"Invalid URL in {target}."
    else:
        message = f"Connection error on {target}: {_reason(exc)}"
    return APIConnectionError(message, request=request)


def _is_timeout(exc: BaseException) -> bool:
    return "timed out" in str(exc).lower() and "read" in str(exc).lower()


def _reason(exc: BaseException) -> str:
    """The innermost cause's text, shortened: urllib3's wrapper messages repeat the URL."""
    inner: BaseException = exc
    while True:
        nxt = getattr(inner, "reason", None) or inner.__cause__ or inner.__context__
        if not isinstance(nxt, BaseException) or nxt is inner:
            break
        inner = nxt
    text = str(inner) or type(inner).__name__
    return text if len(text) <= 200 else text[:197] + "..."
