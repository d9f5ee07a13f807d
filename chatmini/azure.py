"""Azure OpenAI: deployment or v1 URLs, ``api-version`` query, ``api-key`` or Entra ID tokens.

``AzureClient`` is a Client whose settings are spelled the Azure way (openai-python's
``AzureOpenAI`` names); everything else, plugins and retries included, is the plain Client.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Mapping, Optional

from .client import Client
from .credentials import optional_credential
from .errors import InvalidRequestError
from .urls import path_segment

ENV_ENDPOINT = "AZURE_OPENAI_ENDPOINT"
ENV_API_KEY = "AZURE_OPENAI_API_KEY"
ENV_API_VERSION = "OPENAI_API_VERSION"
DEPLOYMENT_PATHS = frozenset((  # openai-python's per-deployment endpoints
    "/completions", "/chat/completions", "/embeddings", "/audio/transcriptions",
    "/audio/translations", "/audio/speech", "/images/generations", "/images/edits",
))


class AzureClient(Client):
    """A Client for Azure OpenAI, routed as openai-python's ``AzureOpenAI`` routes.

    ``azure_endpoint`` (AZURE_OPENAI_ENDPOINT) is the resource URL; ``api_version``
    (OPENAI_API_VERSION) is sent as ``?api-version=``. With ``azure_deployment``, calls go to
    ``/openai/deployments/{deployment}/...``; without, the ``model`` of each call names the
    deployment on that same classic path. Without ``api_version``, or with an endpoint ending in
    ``/openai/v1``, calls go to the ``/openai/v1/`` API, where the model is sent in the body.
    Endpoints that are not per deployment (``/models``, ``/responses``, ...) go to
    ``/openai/...``. Authenticate with ``api_key`` (AZURE_OPENAI_API_KEY, sent as ``api-key``)
    or ``azure_ad_token_provider`` (e.g. azure-identity's ``get_bearer_token_provider``), or
    any other ``auth=`` credential.
    """

    def __init__(
        self,
        api_key: Optional[str] = None,
        *,
        azure_endpoint: Optional[str] = None,
        azure_deployment: Optional[str] = None,
        api_version: Optional[str] = None,
        azure_ad_token_provider: Optional[Callable[[], Any]] = None,
        auth: Any = None,
        default_query: Optional[Mapping[str, str]] = None,
        **options: Any,
    ) -> None:
        if azure_ad_token_provider is not None and auth is not None:
            raise InvalidRequestError("Pass either azure_ad_token_provider= or auth=, not both")
        auth = auth if auth is not None else azure_ad_token_provider
        if auth is not None and api_key is not None:
            raise InvalidRequestError("Pass either api_key= or a token credential, not both")
        if auth is None:
            if not api_key:
                api_key = optional_credential(os.environ.get(ENV_API_KEY), ENV_API_KEY)
            if not api_key:
                raise InvalidRequestError(
                    f"Azure OpenAI needs api_key= (or {ENV_API_KEY}) or azure_ad_token_provider="
                )
        endpoint = azure_endpoint or os.environ.get(ENV_ENDPOINT)
        if not endpoint and "base_url" not in options:
            raise InvalidRequestError(f"Azure OpenAI needs azure_endpoint= (or {ENV_ENDPOINT})")
        version = api_version or os.environ.get(ENV_API_VERSION)
        if azure_deployment and not version:
            raise InvalidRequestError(
                f"Deployment URLs need api_version= (or {ENV_API_VERSION}), e.g. '2024-10-21'"
            )
        query = dict(default_query or {})
        if version:
            query["api-version"] = version
        self._root = azure_root(endpoint) if endpoint else None
        v1 = not version or bool(endpoint and endpoint.rstrip("/").endswith("/openai/v1"))
        if endpoint and v1:
            options.setdefault("base_url", azure_base_url(endpoint))
        elif endpoint:
            options.setdefault("base_url", azure_base_url(endpoint, azure_deployment, v1=False))
        options.setdefault("api_key_header", "api-key")
        super().__init__(
            api_key, auth=auth, default_query=query or None, api_version=version,
            api_version_header=None, **options,
        )
        self.azure_deployment = azure_deployment
        self._route_by_model = not v1 and "/deployments/" not in self.base_url + "/"

    def url_for(self, path: str, params: Optional[Mapping[str, Any]]) -> str:
        """Per-deployment endpoints by deployment (the call's model when none is set); the
        others on the resource's ``/openai`` root, as openai-python does."""
        if path not in DEPLOYMENT_PATHS:
            if self.azure_deployment and self._root is not None:
                return f"{self._root}/openai{path}"
            return self.base_url + path
        if self._route_by_model and params is not None:
            model = params.get("model")
            if isinstance(model, str) and model:
                return f"{self.base_url}/deployments/{path_segment(model)}{path}"
        return self.base_url + path


def azure_root(endpoint: str) -> str:
    """The resource URL without a trailing ``/openai`` or ``/openai/v1``."""
    root = endpoint.rstrip("/")
    for suffix in ("/openai/v1", "/openai"):
        if root.endswith(suffix):
            return root[: -len(suffix)]
    return root


def azure_base_url(endpoint: str, deployment: Optional[str] = None, *, v1: bool = True) -> str:
    """``{endpoint}/openai/deployments/{deployment}``, else ``{endpoint}/openai/v1`` (or the
    classic ``{endpoint}/openai`` with ``v1=False``)."""
    root = azure_root(endpoint)
    if deployment:
        return f"{root}/openai/deployments/{path_segment(deployment)}"
    return f"{root}/openai/v1" if v1 else f"{root}/openai"
