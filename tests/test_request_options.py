"""Per-call options on every method (extra_body, extra_query, extra_headers, timeout),
NOT_GIVEN, and with_options, over real sockets against the embedded server."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chatmini
from chatmini.resources import APIResource
from chatmini.testing import Reply

from .conftest import HI

OPTIONS = {
    "extra_body": {"top_k": 5, "guided_choice": ["a", "b"]},
    "extra_query": {"tenant": "acme", "debug": True},
    "extra_headers": {"X-Trace": "t-1"},
    "timeout": 3.0,
}

# Every method, called with the options; each sends one request.
METHODS = {
    "chat": lambda c, o: c.chat.completions.create(model="m", messages=HI, **o),
    "chat stream": lambda c, o: c.chat.completions.create(
        model="m", messages=HI, stream=True, **o).get_final_completion(),
    "chat stream helper": lambda c, o: _drain_helper(c, o),
    "embeddings": lambda c, o: c.embeddings.create(model="text-embedding-3-small", input="x", **o),
    "moderations": lambda c, o: c.moderations.create(input="x", **o),
    "completions": lambda c, o: c.completions.create(model="m", prompt="x", **o),
    "completions stream": lambda c, o: c.completions.create(
        model="m", prompt="x", stream=True, **o).get_final_completion(),
    "models.list": lambda c, o: c.models.list(**o),
    "models.retrieve": lambda c, o: c.models.retrieve("gpt-4o", **o),
    "post": lambda c, o: c.post("/fine_tuning/jobs", json={"a": 1}, **o),
}


def _drain_helper(client, options):
    with client.chat.completions.stream(model="m", messages=HI, **options) as stream:
        return stream.get_final_completion()


@pytest.mark.parametrize("method", METHODS)
def test_every_method_takes_the_per_call_options(client, server, method):
    METHODS[method](client, dict(OPTIONS))
    (sent,) = server.requests
    assert sent.path.endswith("?tenant=acme&debug=true")
    assert sent.headers["X-Trace"] == "t-1"
    assert sent.headers["Authorization"].startswith("Bearer ")  # defaults are kept
    if sent.method == "POST":
        assert sent.json["top_k"] == 5 and sent.json["guided_choice"] == ["a", "b"]
        assert not {"extra_body", "extra_query", "extra_headers", "timeout"} & set(sent.json)
    else:  # a GET has no body to merge into: extra_body makes one, as in openai-python
        assert sent.json == OPTIONS["extra_body"]


def test_extra_body_wins_over_a_keyword_and_reaches_vllm_style_servers(client, server):
    client.chat.completions.create(model="m", messages=HI, temperature=1, top_k=3,
                                   extra_body={"temperature": 0, "chat_template_kwargs": {}})
    assert server.requests[0].json == {"model": "m", "messages": HI, "temperature": 0,
                                       "top_k": 3, "chat_template_kwargs": {}}


def test_extra_query_goes_after_the_default_query(make_client, server):
    client = make_client(default_query={"api-version": "1", "keep": "k"})
    client.models.list(extra_query={"api-version": "2", "list": ["a", "b"], "gone": None})
    client.models.list()
    assert server.requests[0].path == "/v1/models?api-version=2&keep=k&list=a&list=b"
    assert server.requests[1].path == "/v1/models?api-version=1&keep=k"


def test_extra_headers_override_and_none_removes_a_default(make_client, server):
    client = make_client(default_headers={"X-Team": "search", "X-Drop": "me"})
    client.models.list(extra_headers={"x-team": "ads", "X-Drop": None})
    headers = server.requests[0].headers
    assert headers["X-Team"] == "ads" and "X-Drop" not in headers


def test_timeout_is_per_call(make_client, server):
    client = make_client(max_retries=0, timeout=(2.0, 5.0))
    server.enqueue(Reply(delay=1.5))
    with pytest.raises(chatmini.APITimeoutError):
        client.chat.completions.create(model="m", messages=HI, timeout=0.3)
    assert client.chat.completions.create(model="m", messages=HI).choices  # default again


def test_not_given_arguments_are_left_out(client, server):
    client.chat.completions.create(model="m", messages=HI, tools=chatmini.NOT_GIVEN,
                                   temperature=chatmini.not_given, timeout=chatmini.NOT_GIVEN,
                                   extra_body=chatmini.NOT_GIVEN, user=None)
    client.embeddings.create(model="e", input="x", dimensions=chatmini.NOT_GIVEN)
    assert server.requests[0].json == {"model": "m", "messages": HI, "user": None}
    assert server.requests[1].json == {"model": "e", "input": "x", "encoding_format": "base64"}
    assert not chatmini.NOT_GIVEN and repr(chatmini.NOT_GIVEN) == "NOT_GIVEN"
    assert chatmini.not_given is chatmini.NOT_GIVEN


def test_omit_and_a_fresh_sentinel_leave_a_param_out_and_remove_a_header(make_client, server):
    """openai-python's ``omit`` (and ``Omit()``/``NotGiven()`` made anew) is the one sentinel."""
    client = make_client(default_headers={"X-Env": "dev", "X-Team": "search"})
    client.chat.completions.create(model="m", messages=HI, temperature=chatmini.omit,
                                   top_p=chatmini.NotGiven(), seed=chatmini.Omit(),
                                   extra_headers={"X-Env": chatmini.omit})
    sent = server.requests[0]
    assert sent.json == {"model": "m", "messages": HI}
    assert "X-Env" not in sent.headers and sent.headers["X-Team"] == "search"


def test_not_given_inside_a_value_is_a_clear_error(client):
    with pytest.raises(chatmini.InvalidRequestError, match="NOT_GIVEN is only understood"):
        client.chat.completions.create(model="m", messages=[{"role": chatmini.NOT_GIVEN}])


@pytest.mark.parametrize("name, value", [
    ("extra_body", [1]), ("extra_query", "a=b"), ("extra_headers", ["X"]),
])
def test_an_option_of_the_wrong_type_is_named(client, server, name, value):
    with pytest.raises(chatmini.InvalidRequestError, match=f"{name} must be a dict"):
        client.chat.completions.create(model="m", messages=HI, **{name: value})
    assert server.requests == []


def test_an_option_given_twice_is_refused(client):
    with pytest.raises(chatmini.InvalidRequestError, match="timeout was given twice"):
        client.request("POST", "/chat/completions", {"model": "m", "timeout": 1}, timeout=2)


def test_post_sends_its_document_as_it_is(client, server):
    document = {"timeout": 30, "extra_body": "literal"}  # keys of a document, not options
    assert client.post("/fine_tuning/jobs", json=document).json == document


def test_a_new_resource_gets_the_options_without_code_of_its_own(client, server):
    class Widgets(APIResource):
        def create(self, **params):
            return self._client.request("POST", "/widgets", params)

    Widgets(client).create(name="w", extra_body={"size": 2}, extra_query={"v": 1},
                           extra_headers={"X-W": "1"}, timeout=4)
    sent = server.requests[0]
    assert (sent.path, sent.json, sent.headers["X-W"]) == (
        "/v1/widgets?v=1", {"name": "w", "size": 2}, "1")
    raw = Widgets(client).with_raw_response.create(name="r")
    assert raw.status_code == 200 and raw.parse().json == {"name": "r"}


def test_with_options_is_a_copy_sharing_the_pool(make_client, server):
    client = make_client(max_retries=0, default_headers={"X-A": "a"})
    other = client.with_options(max_retries=2, timeout=9.0, default_headers={"X-B": "b"},
                                default_query={"q": "1"})
    server.enqueue(Reply(status=500))
    assert other.chat.completions.create(model="m", messages=HI).choices  # retried
    assert other.chat.completions._client is other and client.chat.completions._client is client
    assert (other.max_retries, other.timeout, client.max_retries) == (2, chatmini.Timeout(9.0), 0)
    assert other.session is client.session and other.plugin_host is client.plugin_host
    sent = server.requests[-1]
    assert sent.headers["X-A"] == "a" and sent.headers["X-B"] == "b"
    assert sent.path == "/v1/chat/completions?q=1"
    server.enqueue(Reply(status=500))
    with pytest.raises(chatmini.InternalServerError):
        client.chat.completions.create(model="m", messages=HI)  # the original is unchanged
    assert "X-B" not in server.requests[-1].headers
    assert server.connections_opened == 1  # one pool for both
    assert client.copy(timeout=1.0).timeout == chatmini.Timeout(1.0)


def test_with_options_checks_its_values(client):
    with pytest.raises(chatmini.InvalidRequestError, match="max_retries"):
        client.with_options(max_retries=-1)
    with pytest.raises(chatmini.InvalidRequestError, match="timeout"):
        client.with_options(timeout="soon")


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(min_size=1), st.text(), max_size=5))
def test_any_extra_query_reaches_the_url_intact(query):
    client = chatmini.Client(api_key="k", base_url="http://127.0.0.1:9/v1")
    url = client.build_request("GET", "/models", extra_query=query).url
    sent = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    assert sent == list(query.items())


def _resource_methods(client):
    """Every public method of every resource of a Client (nested ones too)."""
    import inspect

    seen = []
    stack = [getattr(client, name) for name in ("chat", "completions", "embeddings", "models",
                                                 "moderations", "responses", "files", "batches")]
    while stack:
        resource = stack.pop()
        for name, member in inspect.getmembers(resource):
            if name.startswith("_") or name.startswith("with_"):
                continue
            if isinstance(member, APIResource):
                stack.append(member)
            elif inspect.ismethod(member):
                seen.append((f"{type(resource).__name__}.{name}", member))
    return seen


def test_every_resource_method_takes_the_four_per_call_options(client):
    """openai-python's rule: extra_headers, extra_query, extra_body and timeout on every
    method (named, or through **params, which the Client takes them out of)."""
    import inspect

    lacking = []
    for name, method in _resource_methods(client):
        params = inspect.signature(method).parameters
        if any(p.kind is p.VAR_KEYWORD for p in params.values()):
            continue
        missing = {"extra_headers", "extra_query", "extra_body", "timeout"} - set(params)
        if missing:
            lacking.append((name, sorted(missing)))
    assert lacking == []
    assert len(_resource_methods(client)) >= 20


def test_options_reach_the_server_on_stored_responses_files_and_batches(client, server):
    response = client.responses.create(model="m", input="hi", tools=chatmini.NOT_GIVEN,
                                       instructions=chatmini.NOT_GIVEN)
    assert server.requests[-1].json == {"model": "m", "input": "hi"}
    client.responses.retrieve(response.id, extra_query={"q": "1"}, extra_headers={"X-A": "1"})
    assert server.requests[-1].path.endswith("?q=1") and server.requests[-1].headers["X-A"] == "1"
    list(client.responses.input_items.list(response.id, extra_query={"q": "2"}))
    assert "q=2" in server.requests[-1].path
    uploaded = client.files.create(file=b"x", purpose="batch", extra_query={"q": "3"})
    assert server.requests[-1].path.endswith("?q=3")
    client.files.retrieve(uploaded.id, extra_query={"q": "4"})
    assert server.requests[-1].path.endswith("?q=4")
    list(client.batches.list(extra_query={"q": "5"}))
    assert "q=5" in server.requests[-1].path


def test_responses_have_the_raw_response_views(client, server):
    raw = client.responses.with_raw_response.create(model="m", input="hi")
    assert raw.status_code == 200 and raw.parse().output_text == "echo: hi"
    with client.responses.with_streaming_response.create(model="m", input="hi") as streamed:
        assert streamed.parse().output_text == "echo: hi"
    stored = raw.parse()
    page = client.responses.input_items.with_raw_response.list(stored.id)
    assert page.status_code == 200


def test_parse_without_a_format_given_is_a_plain_call(client, server):
    reply = client.chat.completions.parse(model="m", messages=HI,
                                          response_format=chatmini.NOT_GIVEN)
    assert "response_format" not in server.requests[-1].json
    assert reply.choices[0].message.parsed is None
