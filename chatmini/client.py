"""The Client: settings resolved once, a pooled Session, a plugin host, and openai-python's shape.

One Client is safe to share between threads: its Session's connection pool is thread-safe,
its settings are read-only after construction, and its plugins are required to be thread-safe.
"""

from __future__ import annotations

import os
import warnings
from functools import partial
from typing import Any, Iterable, Mapping, Optional, Union
from urllib.parse import urlencode, urlsplit

import requests
from urllib3.util.request import ACCEPT_ENCODING

from .errors import (
    APIResponseValidationError,
    InsecureTransportWarning,
    InvalidRequestError,
    safe_excerpt,
    stream_error,
)
from .jsoncodec import encode_body, loads
from .objects import APIResponseObject
from .pipeline import send_call
from .pluginhost import PluginHost
from .redaction import describe_secret
from .request import Request
from .resources import Chat, Models
from .retry import RetryPolicy
from .stats import StatsReport
from .streaming import Stream
from .timeouts import DEFAULT_TIMEOUT, Timeout, check_timeout, for_stream
from .transport import HTTPTransport, close_session, pooled_session
from .urls import check_base_url, key_stays_private
from .version import __version__

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024  # decoded; far above any real API answer
OAUTH_ENV = "CHATMINI_OAUTH_TOKEN_URL"


class Client:
    """A blocking client for OpenAI-compatible APIs: ``client.chat.completions.create(...)``.

    ``api_key`` defaults to OPENAI_API_KEY, ``base_url`` to OPENAI_BASE_URL then OpenAI's;
    ``timeout`` is seconds or a (connect, read) pair; ``stream_idle_timeout`` replaces the read
    timeout for streams (the longest silence allowed between two events); ``slow_call_rules``
    alert when calls get slow (see ``client.stats()``). ``plugins`` are
    registered after the built-ins; ``disabled_plugins`` blocks plugins by name. ``auth``
    replaces the API key with an expiring credential (an OAuth2ClientCredentials or any callable
    returning a token; OAuth2 from CHATMINI_OAUTH_* when set). ``api_version`` is sent in the
    ``api_version_header`` header. ``verify`` is a CA bundle path, or False to skip certificate
    checks (default: REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, SSL_CERT_FILE, else certifi's);
    a body larger than ``max_response_bytes`` (decoded; None: no limit) fails the call.
    """

    def __init__(
        self,
        api_key: Optional[str] = None,
        *,
        base_url: Optional[str] = None,
        organization: Optional[str] = None,
        project: Optional[str] = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        max_retries: Optional[int] = None,
        retry: Optional[RetryPolicy] = None,
        pool_maxsize: Optional[int] = None,
        default_headers: Optional[Mapping[str, str]] = None,
        default_query: Optional[Mapping[str, str]] = None,
        stream_idle_timeout: Optional[float] = None,
        api_key_header: str = "Authorization",
        auth: Any = None,
        api_version: Optional[str] = None,
        api_version_header: Optional[str] = "OpenAI-Version",
        plugins: Iterable[Any] = (),
        disabled_plugins: Iterable[str] = (),
        load_entry_points: Optional[bool] = None,
        session: Optional[requests.Session] = None,
        slow_call_rules: Iterable[Any] = (),
        verify: Union[bool, str, None] = None,
        max_response_bytes: Optional[int] = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        if auth is not None and api_key is not None:
            raise InvalidRequestError("Pass either api_key= or auth=, not both")
        self.auth: Any = None
        if auth is not None or (api_key is None and os.environ.get(OAUTH_ENV)):
            from .plugins._auth import auth_plugin  # only loaded when a credential is used

            self.auth = auth_plugin(auth)  # answers chatmini_authenticate: it is the credential
            plugins = [*plugins, self.auth]
        if api_key is None and self.auth is None:
            api_key = os.environ.get("OPENAI_API_KEY")
        self.api_key = api_key
        url = base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        self.base_url = check_base_url(url)
        self.organization = organization or os.environ.get("OPENAI_ORG_ID")
        self.project = project or os.environ.get("OPENAI_PROJECT_ID")
        self.timeout = check_timeout(timeout)
        max_retries_given = max_retries is not None
        max_retries = DEFAULT_MAX_RETRIES if max_retries is None else max_retries
        if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
            raise InvalidRequestError(f"max_retries must be an integer >= 0, not {max_retries!r}")
        if max_response_bytes is not None and (
            not isinstance(max_response_bytes, int) or isinstance(max_response_bytes, bool)
            or max_response_bytes <= 0
        ):
            raise InvalidRequestError(
                f"max_response_bytes must be an integer > 0 or None, not {max_response_bytes!r}"
            )
        self.retry = retry if retry is not None else RetryPolicy(max_retries)
        self.max_retries = int(self.retry.total or 0)
        if retry is not None and max_retries_given and max_retries != self.max_retries:
            raise InvalidRequestError(
                f"max_retries={max_retries} and retry= (a policy of {self.max_retries} retries) "
                "disagree: pass one of them"
            )
        self.stream_idle_timeout = stream_idle_timeout
        self.api_key_header = api_key_header
        self.api_version = api_version
        if api_version and api_version_header:
            default_headers = {api_version_header: api_version, **(default_headers or {})}
        self.default_headers = self._base_headers(default_headers)
        self._query_suffix = "?" + urlencode(dict(default_query)) if default_query else ""
        self.session, self.pool_maxsize = pooled_session(session, pool_maxsize, self.base_url)
        self.verify = verify
        self.max_response_bytes = max_response_bytes
        if self.api_key and not key_stays_private(self.base_url):
            warnings.warn(
                f"API key will be sent unencrypted to {urlsplit(self.base_url).netloc}; "
                "use https for hosts other than this machine.",
                InsecureTransportWarning,
                stacklevel=2,
            )
        self.plugin_host = PluginHost(  # slow-call rules are plugins of the timing hook
            self._builtin_plugins(), [*slow_call_rules, *plugins], disabled_plugins,
            load_entry_points,
        )
        self.chat = Chat(self)
        self.models = Models(self)
        self.plugin_host.client_init(self)

    def _base_headers(self, extra: Optional[Mapping[str, str]]) -> dict[str, str]:
        headers = {
            "Accept": "application/json",
            "Accept-Encoding": ACCEPT_ENCODING,  # only what urllib3 can decode here
            "Content-Type": "application/json",
            "User-Agent": f"chatmini/{__version__}",
        }
        if self.organization:
            headers["OpenAI-Organization"] = self.organization
        if self.project:
            headers["OpenAI-Project"] = self.project
        headers.update(extra or {})
        return headers

    def _builtin_plugins(self) -> list[tuple[str, Any]]:
        from .plugins.api_key import ApiKeyAuth  # built-ins live in plugins/, like any plugin
        from .plugins.call_log import CallLog
        from .plugins.timing import TimingPlugin

        builtins: list[tuple[str, Any]] = [("transport", HTTPTransport(
            self.session, self.base_url, self.verify, self.max_response_bytes
        ))]
        if self.api_key:  # the default credential: any credential plugin replaces it
            builtins.append(("api_key", ApiKeyAuth(self.api_key, header=self.api_key_header)))
        builtins += [("timing", TimingPlugin()), ("logging", CallLog())]
        return builtins

    @property
    def plugin_manager(self) -> Any:
        """This Client's pluggy PluginManager (register, unregister, list plugins)."""
        return self.plugin_host.pm

    # -- calls -------------------------------------------------------------------------------

    def build_request(
        self,
        method: str,
        path: str,
        params: Optional[Mapping[str, Any]] = None,
        *,
        stream: bool = False,
        timeout: Timeout = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> Request:
        """The Request for one call, before any plugin has seen it (no credential yet)."""
        if not path.startswith("/"):
            path = "/" + path
        headers = dict(self.default_headers)
        if extra_headers:
            headers.update(extra_headers)
        body = None
        if params is not None:
            try:
                body = encode_body(params)
            except (TypeError, ValueError, RecursionError) as exc:
                raise InvalidRequestError(f"Request body is not JSON-serialisable: {exc}") from None
        if stream:
            headers["Accept"] = "text/event-stream"
        timeout = self.timeout if timeout is None else check_timeout(timeout)
        if stream:
            timeout = for_stream(timeout, self.stream_idle_timeout)
        return Request(
            method, self.base_url + path + self._query_suffix, headers, body,
            params=dict(params) if params is not None else None, endpoint=path,
            stream=stream, timeout=timeout,
        )

    def request(
        self,
        method: str,
        path: str,
        params: Optional[Mapping[str, Any]] = None,
        *,
        cast: type[APIResponseObject] = APIResponseObject,
        **options: Any,
    ) -> Any:
        """Send any call through the whole pipeline (plugins, retries, errors) and decode it.

        ``options`` are those of ``build_request``: ``stream``, ``timeout``, ``extra_headers``.
        """
        call = self.build_request(method, path, params, **options)
        if call.stream:
            return send_call(self, call, self._open_stream)
        return send_call(self, call, partial(decode_body, cast=cast, client=self))

    def _open_stream(self, response: requests.Response, request: Request) -> Stream:
        return Stream(self, request, response)

    def post(self, path: str, json: Optional[Mapping[str, Any]] = None, **options: Any) -> Any:
        """POST any JSON to any path of the API (``/embeddings``, ``/responses``, ...)."""
        return self.request("POST", path, json if json is not None else {}, **options)

    def get(self, path: str, **options: Any) -> Any:
        """GET any path of the API through the same pipeline."""
        return self.request("GET", path, None, **options)

    def stats(self) -> StatsReport:
        """Latency per model and endpoint so far (calls, errors, p50/p90/p99, TTFT); print it.

        Asked of the plugins (``chatmini_stats``; the built-in ``timing`` plugin answers). With
        no plugin keeping statistics, a warning says so and the report is empty.
        """
        report = self.plugin_host.stats(self)
        if report is None:
            warnings.warn(
                "client.stats(): no plugin keeps call statistics (is the built-in 'timing' "
                "plugin blocked?); the report is empty.",
                stacklevel=2,
            )
            return StatsReport([])
        return report  # type: ignore[no-any-return]

    # -- lifetime ----------------------------------------------------------------------------

    def close(self) -> None:
        """Close pooled connections. The Client must not be used afterwards."""
        close_session(self.session)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"<chatmini.Client base_url={self.base_url!r} "
            f"api_key={describe_secret(self.api_key)} max_retries={self.max_retries}"
            + (f" auth={type(self.auth).__name__}>" if self.auth is not None else ">")
        )


def decode_body(
    response: requests.Response,
    request: Request,
    *,
    cast: type[APIResponseObject],
    client: Optional[Client] = None,
) -> Any:
    """Parse a 2xx body into ``cast`` (JSON unless a ``chatmini_decode_body`` plugin decodes
    it); anything else is an APIResponseValidationError."""
    content = response.content
    data = None
    if client is not None and client.plugin_host.wants_decode_body():
        data = client.plugin_host.decode_body(request, response, client)
    if data is None:
        try:
            data = loads(content) if content else None
        except (ValueError, RecursionError):  # deeply nested JSON overflows the parser's stack
            data = _INVALID
    if data is _INVALID or (cast is not APIResponseObject and type(data) is not dict):
        kind = response.headers.get("content-type", "no content type")
        text = safe_excerpt(content.decode("utf-8", "replace"), request) if content else (
            "(empty body)"
        )
        raise APIResponseValidationError(
            f"Expected a JSON object from {request.endpoint} but got HTTP "
            f"{response.status_code} {kind}: {text}",
            response=response, body=content, request=request,
        )
    if type(data) is not dict:
        return data
    if data.get("error") and "choices" not in data and "data" not in data:
        raise stream_error(data, request)  # a gateway's 200 carrying an error object
    meta = {"request_id": response.headers.get("x-request-id"), "context": request.context}
    return cast(data, meta)


_INVALID = object()


