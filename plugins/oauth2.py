"""OAuth2 client credentials (RFC 6749 §4.4) as a built-in plugin, with refresh and single flight.

``Client(auth=OAuth2ClientCredentials(token_url, client_id, client_secret))`` sends
``Authorization: Bearer <access token>`` on every attempt; the token is cached, refreshed before
it expires (with the refresh_token grant when one was issued, else client credentials again),
fetched once when many threads need it, and replaced once on a 401 from the API.
"""

from __future__ import annotations

import base64
import logging
import os
import warnings
from typing import TYPE_CHECKING, Any, Mapping, Optional, Union
from urllib.parse import quote_plus

from chatmini.errors import AuthenticationError, InsecureTransportWarning, InvalidRequestError
from chatmini.hookspecs import hookimpl
from chatmini.redaction import describe_secret, redact_url
from chatmini.retry import RetryPolicy
from chatmini.timeouts import TimeoutLike
from chatmini.urls import check_http_url, key_stays_private

from ._token_cache import Token, TokenCache
from ._token_endpoint import TokenEndpoint
from .token_auth import TokenAuth

if TYPE_CHECKING:
    import requests

logger = logging.getLogger("chatmini.auth")

ENV_TOKEN_URL = "CHATMINI_OAUTH_TOKEN_URL"
ENV_CLIENT_ID = "CHATMINI_OAUTH_CLIENT_ID"
ENV_CLIENT_SECRET = "CHATMINI_OAUTH_CLIENT_SECRET"
ENV_SCOPE = "CHATMINI_OAUTH_SCOPE"
AUTH_METHODS = ("basic", "post")


class OAuth2ClientCredentials(TokenAuth):
    """Bearer tokens from an OAuth2 token endpoint with the client credentials grant.

    ``auth_method="basic"`` (default) authenticates the client with HTTP Basic, ``"post"``
    with ``client_id``/``client_secret`` form fields. Expiry comes from ``expires_in``, else
    the JWT ``exp`` claim, else ``default_lifetime``; the token is refreshed ``skew`` seconds
    early. The token endpoint gets ``timeout`` and ``max_retries`` (or a ``retry`` policy).
    """

    chatmini_plugin_name = "oauth2"

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        scope: Union[str, list[str], tuple[str, ...], None] = None,
        audience: Optional[str] = None,
        extra_params: Optional[Mapping[str, str]] = None,
        auth_method: str = "basic",
        skew: float = 60.0,
        default_lifetime: float = 3600.0,
        timeout: TimeoutLike = (5.0, 30.0),
        max_retries: int = 2,
        retry: Optional[RetryPolicy] = None,
        session: Optional[requests.Session] = None,
    ) -> None:
        self.token_url = check_http_url(token_url, "token_url")
        if auth_method not in AUTH_METHODS:
            raise InvalidRequestError(f"auth_method must be 'basic' or 'post', not {auth_method!r}")
        # form-encoded before they are sent, so any character goes; a newline from a file not
        client_id = client_id.strip() if isinstance(client_id, str) else client_id
        client_secret = client_secret.strip() if isinstance(client_secret, str) else client_secret
        if not client_id or not client_secret:
            raise InvalidRequestError("OAuth2 needs a client_id and a client_secret")
        if not key_stays_private(self.token_url):
            warnings.warn(
                f"OAuth2 client secret will be sent unencrypted to {redact_url(self.token_url)}; "
                "use https.",
                InsecureTransportWarning, stacklevel=2,
            )
        self.client_id = client_id
        self._client_secret = client_secret
        self.scope = " ".join(scope) if isinstance(scope, (list, tuple)) else scope
        self.audience = audience
        self.extra_params = dict(extra_params or {})
        self.auth_method = auth_method
        self.endpoint = TokenEndpoint(
            self.token_url, timeout=timeout, default_lifetime=default_lifetime, session=session,
            retry=retry if retry is not None else RetryPolicy(max_retries),
        )
        super().__init__(TokenCache(self._fetch, skew=skew))

    @classmethod
    def from_env(cls, **options: Any) -> OAuth2ClientCredentials:
        """Settings from CHATMINI_OAUTH_TOKEN_URL, _CLIENT_ID, _CLIENT_SECRET and _SCOPE.

        Keyword ``options`` override the environment and pass any other setting.
        """
        found = {
            "token_url": os.environ.get(ENV_TOKEN_URL),
            "client_id": os.environ.get(ENV_CLIENT_ID),
            "client_secret": os.environ.get(ENV_CLIENT_SECRET),
            "scope": os.environ.get(ENV_SCOPE) or None,
        }
        settings = {**found, **options}
        names = {"token_url": ENV_TOKEN_URL, "client_id": ENV_CLIENT_ID,
                 "client_secret": ENV_CLIENT_SECRET}
        missing = [env for key, env in names.items() if not settings.get(key)]
        if missing:
            raise InvalidRequestError(f"OAuth2 settings missing: set {', '.join(missing)}")
        return cls(**settings)

    def close(self) -> None:
        """Close the token endpoint's own connections (reopened if a token is needed again)."""
        self.endpoint.close()

    @hookimpl
    def chatmini_client_close(self) -> None:
        self.close()  # the Client closes: so do the token endpoint's connections

    # -- grants ----------------------------------------------------------------------------

    def _fetch(self, previous: Optional[Token]) -> Token:
        """The refresh_token grant when a refresh token is held, falling back to client creds."""
        refresh = previous.refresh_token if previous is not None else None
        if refresh:
            try:
                return self._grant({"grant_type": "refresh_token", "refresh_token": refresh},
                                   keep_refresh_token=refresh)
            except AuthenticationError as exc:  # rejected (expired, revoked): start over
                logger.info("refresh_token grant refused (%s); using client credentials",
                            exc.code or exc.status_code)
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        if self.audience:
            form["audience"] = self.audience
        form.update(self.extra_params)
        return self._grant(form)

    def _grant(self, form: dict[str, str], keep_refresh_token: Optional[str] = None) -> Token:
        headers: dict[str, str] = {}
        if self.auth_method == "basic":  # §2.3.1: form-encode each part, then base64
            pair = f"{quote_plus(self.client_id)}:{quote_plus(self._client_secret)}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            form = {**form, "client_id": self.client_id, "client_secret": self._client_secret}
        logger.debug("requesting an OAuth2 token from %s (%s)", redact_url(self.token_url),
                     form["grant_type"])
        return self.endpoint.request_token(
            form, headers, secrets=(self._client_secret, keep_refresh_token),
            keep_refresh_token=keep_refresh_token,
        )

    def __repr__(self) -> str:
        return (
            f"<OAuth2ClientCredentials token_url={redact_url(self.token_url)!r} "
            f"client_id={self.client_id!r} "
            f"scope={self.scope!r} client_secret={describe_secret(self._client_secret)} "
            f"cache={self.cache!r}>"
        )
