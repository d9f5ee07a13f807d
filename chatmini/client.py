"""The Client: settings resolved once, a pooled Session, a plugin host, and openai-python's shape.

One Client is safe to share between threads: its Session's connection pool is thread-safe,
its settings are read-only after construction, and its plugins are required to be thread-safe.
"""

from __future__ import annotations

import copy
import os
import warnings
from typing import Any, Iterable, Mapping, Optional, Sequence, Union
from urllib.parse import urlsplit

import requests
from urllib3.util.request import ACCEPT_ENCODING

from .calls import PostParser, StreamFactory, answer, build_request, stream_class
from .credentials import header_name, header_problem, optional_credential
from .errors import InsecureTransportWarning, InvalidRequestError
from .objects import APIResponseObject
from .options import (
    NOT_GIVEN,
    checked_headers,
    checked_mapping,
    given,
    merge_headers,
    query_suffix,
    take_options,
)
from .pipeline import send_call
from .pluginhost import PluginHost
from .raw_responses import RawResponseViews, take_mode
from .redaction import describe_secret
from .request import Request
from .resources import (
    APIResource,
    Batches,
    Chat,
    Completions,
    Embeddings,
    Files,
    Models,
    Moderations,
    Responses,
)
from .retry import RetryPolicy
from .stats import StatsReport
from .timeouts import DEFAULT_TIMEOUT, Timeout, TimeoutLike, call_timeout, client_timeout
from .transport import HTTPTransport, close_session, pooled_session
from .transport.session import KeepAliveSetting
from .urls import check_base_url, key_stays_private
from .version import __version__

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024  # decoded; far above any real API answer
OAUTH_ENV = "CHATMINI_OAUTH_TOKEN_URL"


class Client(RawResponseViews):
    """A blocking client for OpenAI-compatible APIs: ``client.chat.completions.create(...)``.

    ``api_key`` defaults to OPENAI_API_KEY, ``base_url`` to OPENAI_BASE_URL then OpenAI's;
    ``timeout`` is seconds, a (connect, read) pair or a ``chatmini.Timeout`` (which can also
    set a ``total`` deadline per call); ``stream_idle_timeout`` replaces the read timeout for
    streams (the longest silence allowed between two events); ``tcp_keepalive`` (default on:
    probes after 60 s idle) keeps long silent calls' connections alive; ``slow_call_rules``
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
        timeout: TimeoutLike = DEFAULT_TIMEOUT,
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
        tcp_keepalive: KeepAliveSetting = None,
    ) -> None:
        if auth is not None and api_key is not None:
            raise InvalidRequestError("Pass either api_key= or auth=, not both")
        self.auth: Any = None
        if auth is not None or (api_key is None and os.environ.get(OAUTH_ENV)):
            from .plugins._auth import auth_plugin  # only loaded when a credential is used

            self.auth = auth_plugin(auth)  # answers chatmini_authenticate: it is the credential
            plugins = [*plugins, self.auth]
        source = "api_key"
        if api_key is None and self.auth is None:
            api_key, source = os.environ.get("OPENAI_API_KEY"), "OPENAI_API_KEY"
        self.api_key = optional_credential(api_key, source)
        url = base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        self.base_url = check_base_url(url)
        self.organization = organization or os.environ.get("OPENAI_ORG_ID")
        self.project = project or os.environ.get("OPENAI_PROJECT_ID")
        self.timeout: Timeout = client_timeout(timeout, stream_idle_timeout)
        max_retries_given = max_retries is not None
        max_retries = _checked_retries(DEFAULT_MAX_RETRIES if max_retries is None else max_retries)
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
        self.stream_idle_timeout = self.timeout.stream_idle
        self.api_key_header = header_name(api_key_header, "api_key_header")
        self.api_version = api_version
        if api_version and api_version_header:
            default_headers = {api_version_header: api_version, **(default_headers or {})}
        self.default_headers = self._base_headers(default_headers)
        self.default_query = dict(checked_mapping("default_query", default_query) or {})
        self.query_suffix = query_suffix(self.default_query)  # the URL's, unless a call adds
        self.session, self.pool_maxsize = pooled_session(
            session, pool_maxsize, self.base_url, tcp_keepalive
        )
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
        self.completions = Completions(self)
        self.embeddings = Embeddings(self)
        self.models = Models(self)
        self.moderations = Moderations(self)
        self.responses = Responses(self)
        self.files = Files(self)
        self.batches = Batches(self)
        self.plugin_host.client_init(self)

    def _base_headers(self, extra: Optional[Mapping[str, str]]) -> dict[str, str]:
        headers = {
            "Accept": "application/json",
            "Accept-Encoding": ACCEPT_ENCODING,  # only what urllib3 can decode here
            "Content-Type": "application/json",
            "User-Agent": f"chatmini/{__version__}",
        }
        for what, name, value in (("organization", "OpenAI-Organization", self.organization),
                                  ("project", "OpenAI-Project", self.project)):
            if value:
                problem = header_problem(name, value)
                if problem is not None:
                    raise InvalidRequestError(f"{what} {problem}; it cannot be sent in the "
                                              f"{name} header")
                headers[name] = value
        if extra is None:
            return headers
        return merge_headers(headers, checked_headers("default_headers", extra))

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

    def build_request(self, method: str, path: str, body: Any = None, **options: Any) -> Request:
        """The Request for one call, before any plugin has seen it (no credential yet);
        ``options``: ``stream``, ``timeout``, ``extra_headers``, ``extra_query``, ``extra_body``."""
        return build_request(self, method, path, body, **options)

    def url_for(self, path: str, params: Optional[Mapping[str, Any]]) -> str:
        """The URL of an API path (without query); AzureClient routes by deployment here."""
        return self.base_url + path

    def request(
        self,
        method: str,
        path: str,
        params: Optional[Mapping[str, Any]] = None,
        **options: Any,
    ) -> Any:
        """Send a resource method's call through the whole pipeline and decode its answer.

        ``params`` are the method's keyword arguments: ``extra_headers``, ``extra_query``,
        ``extra_body`` and ``timeout`` among them are the call's options, NOT_GIVEN ones are
        dropped, and the rest is the JSON body. ``options`` are ``send``'s.
        """
        if params is not None:
            params, taken = take_options(params)
            for name, value in taken.items():
                if given(options.get(name)) is not None:
                    raise InvalidRequestError(f"{name} was given twice: pass it once")
                options[name] = value
        return self.send(method, path, params, **options)

    def send(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        cast: type[APIResponseObject] = APIResponseObject,
        stream: bool = False,
        stream_cls: Optional[StreamFactory] = None,
        post_parser: Optional[PostParser] = None,
        **options: Any,
    ) -> Any:
        """Send ``body`` as it is, through the whole pipeline (plugins, retries, errors).

        The answer becomes ``cast`` (then ``post_parser(obj, response, request)``), or a
        ``stream_cls`` stream (by default a ResponseStream for the Responses API's paths, a
        chat Stream for any other); ``options`` are ``timeout``,
        ``extra_headers``, ``extra_query`` and ``extra_body``.
        """
        call = build_request(self, method, path, body, stream=stream, **options)
        decode = answer(self, call, take_mode(), cast=cast,
                        stream_cls=stream_cls or stream_class(call.endpoint),
                        post_parser=post_parser)
        return send_call(self, call, decode)

    def post(self, path: str, json: Union[Mapping[str, Any], Sequence[Any], None] = None,
             **options: Any) -> Any:
        """POST a JSON document to any path of the API (``options`` as for ``send``): an object
        (a dict; ``{}`` when None), or an array (a list or tuple) for the endpoints that take
        one, in which case plugins see no ``request.params``. Anything else is refused."""
        if json is None:
            json = {}
        elif not isinstance(json, (Mapping, list, tuple)):
            raise InvalidRequestError(
                f"json must be a JSON object (a dict) or array (a list), not "
                f"{type(json).__name__}; nothing was sent")
        return self.send("POST", path, json, **options)

    def get(self, path: str, **options: Any) -> Any:
        """GET any path of the API through the same pipeline."""
        return self.send("GET", path, None, **options)

    # -- variants ----------------------------------------------------------------------------

    def with_options(
        self,
        *,
        timeout: Any = NOT_GIVEN,
        max_retries: Any = NOT_GIVEN,
        default_headers: Optional[Mapping[str, str]] = None,
        default_query: Optional[Mapping[str, Any]] = None,
    ) -> Client:
        """A copy sharing this Client's connection pool, plugins and credential, with another
        ``timeout`` or ``max_retries``, or more ``default_headers``/``default_query``:
        ``client.with_options(timeout=5).chat.completions.create(...)`` (also ``copy``)."""
        clone = copy.copy(self)
        if given(timeout) is not None:
            clone.timeout = call_timeout(timeout, self.timeout)
        if given(max_retries) is not None:
            clone.retry = self.retry.new(total=_checked_retries(max_retries))
            clone.max_retries = max_retries
        if default_headers:
            clone.default_headers = merge_headers(
                self.default_headers, checked_headers("default_headers", default_headers))
        if default_query:
            clone.default_query = {**self.default_query,
                                   **(checked_mapping("default_query", default_query) or {})}
            clone.query_suffix = query_suffix(clone.default_query)
        for name, value in vars(self).items():  # resources answer for the copy, not for self
            if isinstance(value, APIResource):
                setattr(clone, name, type(value)(clone))
        return clone

    copy = with_options

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
        """Close pooled connections, and what plugins hold for this Client (the OAuth2 token
        endpoint's connections: ``chatmini_client_close``). Do not use the Client afterwards."""
        try:
            self.plugin_host.client_close(self)
        finally:
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


def _checked_retries(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidRequestError(f"max_retries must be an integer >= 0, not {value!r}")
    return value
