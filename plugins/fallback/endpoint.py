"""One endpoint of a fallback set: where it is, its own credential, and how a request is
rewritten for it (base URL, extra headers, model name, Azure ``api-version``).

Each endpoint's credential is a credential plugin (the API-key plugin, OAuth2, a token
provider, your own) in a plugin manager of its own, asked only for that endpoint's attempts:
``chatmini_authenticate`` answers once per attempt, so a credential never reaches another
endpoint, and its ``chatmini_retry_decision`` (a 401 replayed with a fresh token) is heard for
its endpoint's failures only.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, Mapping, Optional
from urllib.parse import parse_qsl, urlencode, urlsplit

import pluggy

from chatmini import hookspecs
from chatmini.errors import InsecureTransportWarning, InvalidRequestError
from chatmini.jsoncodec import encode_body
from chatmini.redaction import describe_secret, redact_url
from chatmini.urls import check_base_url, key_stays_private

from .._auth import auth_plugin
from ..api_key import ApiKeyAuth

if TYPE_CHECKING:
    import requests

    from chatmini.client import Client
    from chatmini.errors import ChatminiError
    from chatmini.request import Request

API_VERSION = "api-version"


class Endpoint:
    """One place a call can go: ``base_url`` with its own credential and settings.

    ``api_key`` is sent in ``api_key_header`` (``"api-key"`` for Azure keys) as the API-key
    plugin sends it; ``auth`` is an expiring credential, as ``Client(auth=...)`` takes it (an
    ``OAuth2ClientCredentials``, a ``TokenProvider``, any callable returning a token, or your
    own credential plugin); with neither, no credential is sent there. ``headers`` are added to
    its requests; ``models`` maps the model a call names to this endpoint's name for it (an
    Azure deployment, a vLLM served name); ``api_version`` is sent as ``?api-version=``.
    ``weight`` is its share of calls when the fallback picks by weight; ``name`` labels it in
    responses, logs, metrics and ``client.stats()`` (default: the base URL's host and port).
    """

    def __init__(
        self,
        base_url: str,
        *,
        name: Optional[str] = None,
        api_key: Optional[str] = None,
        api_key_header: str = "Authorization",
        auth: Any = None,
        headers: Optional[Mapping[str, str]] = None,
        models: Optional[Mapping[str, str]] = None,
        api_version: Optional[str] = None,
        weight: float = 1.0,
    ) -> None:
        self.base_url = check_base_url(base_url)
        self.name = name or (urlsplit(self.base_url).netloc.rsplit("@", 1)[-1])
        if api_key is not None and auth is not None:
            raise InvalidRequestError(
                f"Endpoint {self.name!r}: pass either api_key= or auth=, not both"
            )
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight > 0:
            raise InvalidRequestError(f"Endpoint {self.name!r}: weight must be > 0, not {weight!r}")
        self.weight = float(weight)
        self.headers = dict(headers or {})
        self.models = dict(models or {})
        self.api_version = api_version
        self._api_key = api_key
        credential: Any = None
        if auth is not None:
            credential = auth_plugin(auth)
        elif api_key:
            credential = ApiKeyAuth(api_key, header=api_key_header)
            if not key_stays_private(self.base_url):
                warnings.warn(
                    f"API key of endpoint {self.name!r} will be sent unencrypted to "
                    f"{urlsplit(self.base_url).netloc}; use https for hosts other than this "
                    "machine.", InsecureTransportWarning, stacklevel=2,
                )
        self.credential = credential
        self._pm = pluggy.PluginManager(hookspecs.PROJECT)
        self._pm.add_hookspecs(hookspecs)
        if credential is not None:
            self._pm.register(credential)
            self._pm.check_pending()
        hook = self._pm.hook
        self._authenticate = hook.chatmini_authenticate
        self._retry_decision = hook.chatmini_retry_decision

    def rewrite(self, request: Request, client_base_url: str) -> None:
        """Point one attempt at this endpoint: URL, api-version, headers and model name."""
        url = request.url
        if not url.startswith(client_base_url):
            raise InvalidRequestError(  # its credential would go where nobody configured it
                f"fallback: the request URL {redact_url(url)} is not under the Client's "
                f"base_url {redact_url(client_base_url)}; another plugin moved it"
            )
        url = self.base_url + url[len(client_base_url):]
        if self.api_version is not None:
            url = with_query(url, API_VERSION, self.api_version)
        request.url = url
        if self.headers:
            request.headers.update(self.headers)
        params = request.params
        if self.models and params is not None:
            model = params.get("model")
            mapped = self.models.get(model) if isinstance(model, str) else None
            if mapped is not None and isinstance(request.body, bytes):
                request.params = {**params, "model": mapped}  # this attempt's copy only
                request.body = encode_body(request.params)  # lone surrogates escaped

    def authenticate(self, request: Request, client: Client) -> str:
        """Put this endpoint's credential on the attempt; the header's name, "" for none."""
        header: Optional[str] = self._authenticate(request=request, client=client)
        return header or ""

    def retry_decision(
        self,
        request: Request,
        response: Optional[requests.Response],
        error: ChatminiError,
        client: Client,
    ) -> Optional[str]:
        """What this endpoint's credential says about a failure (a 401: a fresh token)."""
        decision: Optional[str] = self._retry_decision(
            request=request, response=response, error=error, client=client
        )
        return decision

    def __repr__(self) -> str:
        kind = type(self.credential).__name__ if self.credential is not None else "none"
        return (f"<Endpoint {self.name!r} {redact_url(self.base_url)} credential={kind} "
                f"api_key={describe_secret(self._api_key)}>")


def with_query(url: str, name: str, value: str) -> str:
    """``url`` with the query parameter ``name`` set to ``value`` (replaced if present)."""
    base, _, query = url.partition("?")
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != name]
    return base + "?" + urlencode([*pairs, (name, value)])
