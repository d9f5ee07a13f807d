"""The Client's settings, call shape and response objects, over real sockets."""

from __future__ import annotations

import warnings

import pytest

import chatmini
from chatmini.testing import Reply

from .conftest import HI, SECRET_KEY


def test_chat_completion_round_trip(client, server):
    r = client.chat.completions.create(model="gpt-4o-mini", messages=HI)
    assert isinstance(r, chatmini.ChatCompletion)
    assert r.choices[0].message.content == "echo: hi"
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    assert r._request_id.startswith("req_")
    sent = server.requests[-1]
    assert sent.method == "POST" and sent.path == "/v1/chat/completions"
    assert sent.json == {"model": "gpt-4o-mini", "messages": HI}
    assert sent.headers.get("authorization") == f"Bearer {SECRET_KEY}"
    assert sent.headers.get("content-type") == "application/json"


def test_unknown_params_pass_through_untouched(client, server):
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    client.chat.completions.create(
        model="m", messages=HI, tools=tools, response_format={"type": "json_object"}, n=2,
        some_future_field={"nested": [1, 2]},
    )
    body = server.requests[-1].json
    assert body["tools"] == tools and body["n"] == 2
    assert body["some_future_field"] == {"nested": [1, 2]}


def test_environment_defaults(monkeypatch, server):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url + "/")
    monkeypatch.setenv("OPENAI_ORG_ID", "org-1")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-1")
    with chatmini.Client() as client:
        assert client.base_url == server.base_url
        client.chat.completions.create(model="m", messages=HI)
    headers = server.requests[-1].headers
    assert headers.get("authorization") == "Bearer sk-env"
    assert headers.get("openai-organization") == "org-1"
    assert headers.get("openai-project") == "proj-1"


def test_default_base_url_is_openai():
    client = chatmini.Client(api_key="k")
    assert client.base_url == "https://api.openai.com/v1"
    assert client.timeout == chatmini.Timeout(connect=5.0, read=600.0)


def test_per_call_headers_and_timeout_override(make_client, server):
    client = make_client(default_headers={"X-Team": "a"}, max_retries=0)
    client.chat.completions.create(model="m", messages=HI, extra_headers={"X-Trace": "t1"})
    headers = server.requests[-1].headers
    assert headers.get("x-team") == "a" and headers.get("x-trace") == "t1"
    server.enqueue(Reply(delay=1.0))
    with pytest.raises(chatmini.APITimeoutError):
        client.chat.completions.create(model="m", messages=HI, timeout=0.2)


def test_caller_authorization_header_wins(client, server):
    client.chat.completions.create(
        model="m", messages=HI, extra_headers={"authorization": "Bearer other"}
    )
    assert server.requests[-1].headers.get("authorization") == "Bearer other"


def test_api_key_header_mode(make_client, server):
    client = make_client(api_key_header="api-key")
    client.chat.completions.create(model="m", messages=HI)
    headers = server.requests[-1].headers
    assert headers.get("api-key") == SECRET_KEY
    assert headers.get("authorization") is None


@pytest.mark.parametrize("name", [None, "", "X\r\nY", "Authorization\n", "x goog", 5])
@pytest.mark.parametrize("api_key", [SECRET_KEY, None])
def test_an_invalid_api_key_header_is_refused_at_construction(server, name, api_key):
    with pytest.raises(chatmini.InvalidRequestError, match="api_key_header=.*not a valid header"):
        chatmini.Client(api_key=api_key, base_url=server.base_url, api_key_header=name)
    assert server.requests == []


def test_no_key_sends_no_auth_header(make_client, server):
    client = make_client(api_key=None)
    client.chat.completions.create(model="m", messages=HI)
    assert server.requests[-1].headers.get("authorization") is None


def test_models_list(client):
    models = client.models.list()
    ids = [m.id for m in models.data]
    assert "gpt-4o-mini" in ids
    assert [m.id for m in models] == ids and len(models) == len(ids)


def test_escape_hatch_posts_any_path(client, server):
    r = client.post("/fine_tuning/jobs", json={"model": "e", "input": "x"})  # echoed
    assert r.path == "/v1/fine_tuning/jobs" and r.json == {"model": "e", "input": "x"}
    assert client.get("/models").object == "list"
    server.enqueue(Reply(status=404))
    with pytest.raises(chatmini.NotFoundError):
        client.post("responses", json={})


def test_default_query_is_appended(make_client, server):
    client = make_client(default_query={"api-version": "2024-10-21"})
    client.chat.completions.create(model="m", messages=HI)
    assert server.requests[-1].path == "/v1/chat/completions?api-version=2024-10-21"


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"model": "", "messages": HI}, "model"),
        ({"model": 3, "messages": HI}, "model"),
        ({"model": "m", "messages": []}, "at least one"),
        ({"model": "m", "messages": "hi"}, "list"),
        ({"model": "m", "messages": HI, "metadata": object()}, "JSON"),
    ],
)
def test_bad_call_arguments_raise_invalid_request(client, server, kwargs, words):
    with pytest.raises(chatmini.InvalidRequestError, match=words):
        client.chat.completions.create(**kwargs)
    assert server.requests == []


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"base_url": "ftp://x"}, "base_url"),
        ({"base_url": "localhost:8000"}, "base_url"),
        ({"timeout": -1}, "timeout"),
        ({"timeout": (1, 2, 3)}, "timeout"),
        ({"timeout": "5"}, "timeout"),
        ({"max_retries": -1}, "max_retries"),
    ],
)
def test_bad_client_settings_raise_invalid_request(kwargs, words):
    with pytest.raises(chatmini.InvalidRequestError, match=words):
        chatmini.Client(api_key="k", **kwargs)


def test_invalid_request_error_is_also_value_error():
    with pytest.raises(ValueError):
        chatmini.Client(base_url="nope")


def test_warns_once_when_key_would_travel_in_clear():
    with pytest.warns(chatmini.InsecureTransportWarning, match="unencrypted"):
        chatmini.Client(api_key="k", base_url="http://example.com/v1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chatmini.Client(api_key="k", base_url="http://127.0.0.1:9/v1")
        chatmini.Client(api_key="k", base_url="http://localhost:9/v1")
        chatmini.Client(api_key="k", base_url="http://[::1]:9/v1")
        chatmini.Client(api_key="k", base_url="https://example.com/v1")
        chatmini.Client(api_key=None, base_url="http://example.com/v1")


def test_close_and_context_manager(make_client):
    client = make_client()
    with client as same:
        assert same is client
        same.models.list()
    # the pool was released: the adapter has no live pools left
    assert not client.session.get_adapter(client.base_url).poolmanager.pools


def test_ask_helper_returns_text(client, server):
    assert chatmini.ask("hello", client=client, model="m") == "echo: hello"
    assert server.requests[-1].json["messages"] == [{"role": "user", "content": "hello"}]
    chatmini.ask("q", client=client, system="be brief")
    assert server.requests[-1].json["messages"][0] == {"role": "system", "content": "be brief"}


def test_ask_uses_default_client_from_environment(monkeypatch, server):
    from chatmini import module_client  # ask() shares the module-level client (issue 14)

    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("CHATMINI_MODEL", "env-model")
    monkeypatch.setattr(module_client, "_client", None)
    assert chatmini.ask("x") == "echo: x"
    assert server.requests[-1].json["model"] == "env-model"
    module_client._client.close()


def test_max_retries_and_a_retry_policy_that_disagree_are_refused():
    with pytest.raises(chatmini.InvalidRequestError, match="max_retries=5 and retry="):
        chatmini.Client(api_key="k", max_retries=5, retry=chatmini.RetryPolicy(1))
    client = chatmini.Client(api_key="k", max_retries=1, retry=chatmini.RetryPolicy(1))
    assert client.max_retries == 1
    assert chatmini.Client(api_key="k", retry=chatmini.RetryPolicy(4)).max_retries == 4


def test_pool_size_reported_is_the_sessions_own():
    import requests
    from requests.adapters import HTTPAdapter

    session = requests.Session()
    session.mount("https://", HTTPAdapter(pool_maxsize=10))
    client = chatmini.Client(api_key="k", session=session)
    assert client.pool_maxsize == 10  # not the default 32 the adapter does not have
    with pytest.raises(chatmini.InvalidRequestError, match="pool_maxsize=20 and session="):
        chatmini.Client(api_key="k", session=session, pool_maxsize=20)
    assert chatmini.Client(api_key="k", session=session, pool_maxsize=10).pool_maxsize == 10
    assert chatmini.Client(api_key="k").pool_maxsize == 32
    with pytest.raises(chatmini.InvalidRequestError, match="pool_maxsize must be"):
        chatmini.Client(api_key="k", pool_maxsize=0)
