"""Azure OpenAI: deployment or v1 URLs, ``api-version`` query, ``api-key`` or Entra ID tokens.

``AzureClient`` is a Client whose settings are spelled the Azure way (openai-python's
``AzureOpenAI`` names); everything else, plugins and retries included, is the plain Client.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Mapping, Optional
from urllib.parse import quote

from .client import Client
from .credentials import optional_credential
from .errors import InvalidRequestError

ENV_ENDPOINT = "AZURE_OPENAI_ENDPOINT"
ENV_API_KEY = "AZURE_OPENAI_API_KEY"
ENV_API_VERSION = "OPENAI_API_VERSION"


class AzureClient(Client):
    """A Client for Azure OpenAI.

    ``azure_endpoint`` (AZURE_OPENAI_ENDPOINT) is the resource URL. With ``azure_deployment``
    calls go to ``/openai/deployments/{deployment}/...`` and need ``api_version``
    (OPENAI_API_VERSION), sent as ``?api-version=``; without, to the ``/openai/v1/`` API, where
    the model names the deployment. Authenticate with ``api_key`` (AZURE_OPENAI_API_KEY, sent as
    ``api-key``) or ``azure_ad_token_provider`` (e.g. azure-identity's
    ``get_bearer_token_provider``), or any other ``auth=`` credential.
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
        options.setdefault("base_url", endpoint and azure_base_url(endpoint, azure_deployment))
        options.setdefault("api_key_header", "api-key")
        super().__init__(
            api_key, auth=auth, default_query=query or None, api_version=version,
            api_version_header=None, **options,
        )
        self.azure_deployment = azure_deployment


def azure_base_url(endpoint: str, deployment: Optional[str] = None) -> str:
    """``{endpoint}/openai/deployments/{deployment}``, or ``{endpoint}/openai/v1``."""
    root = endpoint.rstrip("/")
    for suffix in ("/openai/v1", "/openai"):
        if root.endswith(suffix):
            root = root[: -len(suffix)]
            break
    if deployment:
        return f"{root}/openai/deployments/{quote(deployment, safe='')}"
    return f"{root}/openai/v1"
