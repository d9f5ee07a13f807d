"""Azure OpenAI over real sockets (deployment and v1 paths, api-version, api-key or Entra ID
tokens), and ``api_version=`` sent as a header by the plain Client."""

from __future__ import annotations

import re
import time

import pytest

import chatmini
from chatmini.azure import azure_base_url
from chatmini.testing import Reply

from .auth_support import bearer_tokens, create, oauth_for

AZURE_KEY = "azure-UNIQUE-key-3c7d9e1f"
VERSION = "2024-10-21"


@pytest.fixture
def make_azure(server, request):
    """Build AzureClients for the server's root URL; each is closed after the test."""
    def make(**options):
        options.setdefault("azure_endpoint", server.url)
        options.setdefault("max_retries", 0)
        client = chatmini.AzureClient(**options)
        request.addfinalizer(client.close)
        return client

    return make


def test_deployment_url_with_api_version_and_api_key(make_azure, server):
    client = make_azure(api_key=AZURE_KEY, azure_deployment="gpt-4o prod", api_version=VERSION)
    assert create(client).choices[0].message.content == "echo: hi"
    (request,) = server.requests
    assert request.path == f"/openai/deployments/gpt-4o%20prod/chat/completions?api-version={VERSION}"
    assert request.headers["api-key"] == AZURE_KEY
    assert request.headers.get("Authorization") is None
    assert request.headers.get("OpenAI-Version") is None  # Azure versions by query, not header
    assert client.api_version == VERSION and client.azure_deployment == "gpt-4o prod"


def test_v1_path_from_the_environment(make_azure, server, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", server.url + "/")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", AZURE_KEY)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-for-azure-12345")
    client = make_azure(azure_endpoint=None)
    assert client.models.list().data
    client.get("/models/gpt-4o")
    assert [r.path for r in server.requests] == ["/openai/v1/models", "/openai/v1/models/gpt-4o"]
    assert {r.headers["api-key"] for r in server.requests} == {AZURE_KEY}


def test_api_version_from_the_environment_goes_in_the_query(make_azure, server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_VERSION", "2025-01-01-preview")
    client = make_azure(api_key=AZURE_KEY, azure_deployment="d")
    client.post("/embeddings", json={"model": "d", "input": "x"})
    assert server.requests[0].path == "/openai/deployments/d/embeddings?api-version=2025-01-01-preview"


def test_entra_id_token_provider(make_azure, server):
    calls = []

    def provider():
        calls.append(1)
        return (f"entra-{len(calls)}", time.time() + 3600)

    client = make_azure(azure_ad_token_provider=provider, azure_deployment="d", api_version=VERSION)
    server.enqueue(Reply(status=401, path="/chat/completions"))
    assert create(client).choices
    assert create(client).choices
    assert bearer_tokens(server) == ["entra-1", "entra-2", "entra-2"]  # 401: new token, replay
    assert all(r.headers.get("api-key") is None for r in server.requests)


def test_an_oauth2_credential_against_a_server_requiring_tokens(make_azure, server):
    server.tokens.configure(require=True, lifetime=600)
    oauth = oauth_for(server)
    client = make_azure(azure_ad_token_provider=lambda: (oauth.token().value,
                                                         oauth.token().expires_at))
    assert create(client).choices
    client = make_azure(auth=oauth, azure_deployment="d", api_version=VERSION)
    assert create(client).choices
    assert [r.path.split("?")[0] for r in server.requests] == [
        "/openai/v1/chat/completions", "/openai/deployments/d/chat/completions"]
    assert bearer_tokens(server) == server.tokens.issued * 2


@pytest.mark.parametrize("options, message", [
    ({}, "needs api_key= (or AZURE_OPENAI_API_KEY) or azure_ad_token_provider="),
    ({"api_key": "k", "azure_endpoint": None}, "needs azure_endpoint="),
    ({"api_key": "k", "azure_deployment": "d"}, "need api_version="),
    ({"api_key": "k", "azure_ad_token_provider": lambda: "t"}, "not both"),
    ({"auth": lambda: "t", "azure_ad_token_provider": lambda: "t"}, "not both"),
])
def test_missing_or_conflicting_settings_fail_clearly(make_azure, options, message):
    with pytest.raises(chatmini.InvalidRequestError, match=re.escape(message)):
        make_azure(**options)


@pytest.mark.parametrize("endpoint, deployment, expected", [
    ("https://r.openai.azure.com", "d", "https://r.openai.azure.com/openai/deployments/d"),
    ("https://r.openai.azure.com/", None, "https://r.openai.azure.com/openai/v1"),
    ("https://r.openai.azure.com/openai/v1/", None, "https://r.openai.azure.com/openai/v1"),
    ("https://r.openai.azure.com/openai", "a/b", "https://r.openai.azure.com/openai/deployments/a%2Fb"),
])
def test_base_urls(endpoint, deployment, expected):
    assert azure_base_url(endpoint, deployment) == expected


def test_api_version_header_on_the_plain_client(make_client, server):
    make_client(api_version="2024-06-01").models.list()
    make_client(api_version="v2", api_version_header="X-API-Version").models.list()
    make_client().models.list()
    headers = [r.headers for r in server.requests]
    assert headers[0]["OpenAI-Version"] == "2024-06-01"
    assert headers[1]["X-API-Version"] == "v2" and headers[1].get("OpenAI-Version") is None
    assert headers[2].get("OpenAI-Version") is None
    client = make_client(api_version="v3", default_headers={"OpenAI-Version": "override"})
    client.models.list()
    assert server.requests[-1].headers["OpenAI-Version"] == "override"


# -- routing as openai-python's AzureOpenAI (issue 14) ----------------------------------------

def azure_calls(client):
    """The same calls on either SDK's Azure client."""
    client.chat.completions.create(model="chat-dep", messages=[{"role": "user", "content": "x"}])
    client.embeddings.create(model="emb-dep", input="x")
    client.completions.create(model="instruct-dep", prompt="x")
    client.models.list()


@pytest.mark.parametrize("options", [{}, {"azure_deployment": "fixed"}])
def test_routes_as_the_official_azure_client(make_azure, server, options):
    openai = pytest.importorskip("openai")
    sdk = openai.AzureOpenAI(api_key=AZURE_KEY, azure_endpoint=server.url, api_version=VERSION,
                             max_retries=0, **options)
    azure_calls(sdk)
    theirs = [r.path for r in server.requests]
    server.reset()
    azure_calls(make_azure(api_key=AZURE_KEY, api_version=VERSION, **options))
    assert [r.path for r in server.requests] == theirs
    dep = options.get("azure_deployment")
    assert theirs == [
        f"/openai/deployments/{dep or 'chat-dep'}/chat/completions?api-version={VERSION}",
        f"/openai/deployments/{dep or 'emb-dep'}/embeddings?api-version={VERSION}",
        f"/openai/deployments/{dep or 'instruct-dep'}/completions?api-version={VERSION}",
        f"/openai/models?api-version={VERSION}",
    ]


def test_the_model_names_the_deployment_as_one_path_segment(make_azure, server):
    client = make_azure(api_key=AZURE_KEY, api_version=VERSION)
    client.chat.completions.create(model="team/gpt 4o", messages=[{"role": "user", "content": "x"}])
    assert server.requests[0].path.startswith("/openai/deployments/team%2Fgpt%204o/chat/")
    assert server.requests[0].json["model"] == "team/gpt 4o"  # the body keeps it, as openai's


def test_v1_when_asked_by_the_endpoint(make_azure, server):
    client = make_azure(api_key=AZURE_KEY, azure_endpoint=server.url + "/openai/v1/",
                        api_version="preview")
    client.chat.completions.create(model="dep", messages=[{"role": "user", "content": "x"}])
    client.models.list()
    assert [r.path for r in server.requests] == [
        "/openai/v1/chat/completions?api-version=preview", "/openai/v1/models?api-version=preview"]
