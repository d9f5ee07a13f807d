"""A careless caller gets an InvalidRequestError naming the argument, at construction or at the
call, before anything is sent: header values with line breaks or outside Latin-1, a
``stream_idle_timeout`` that is not a positive finite number, an absurd ``pool_maxsize``, a
malformed host, a JSON body that is neither an object nor an array, ``messages=None``, NaN or
Infinity anywhere in the params. Valid input still goes through unchanged (over real sockets,
against the embedded server, which records what it received)."""

from __future__ import annotations

import json
import math
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chatmini
from chatmini.cli import main

from .conftest import HI, SECRET_KEY

HIDDEN = "sk-hidden-9f3b2a7c"  # a header value that must never show in a message


def call(client, **kw):
    return client.chat.completions.create(model="m", messages=HI, **kw)


# -- headers -------------------------------------------------------------------------------------

BAD_HEADERS = {
    "a line feed": ({"X-Key": HIDDEN + "\n"}, r"extra_headers\['X-Key'\] contains a line break"),
    "CRLF and an injected header": ({"X-Key": HIDDEN + "\r\nX-Evil: 1"}, "line break"),
    "a NUL": ({"X-Key": HIDDEN[:4] + "\x00" + HIDDEN[4:]}, "control character"),
    "a curly quote (not Latin-1)": ({"X-Key": "\u201c" + HIDDEN + "\u201d"},
                                    r"non-Latin-1 character \(U\+201C\)"),
    "an emoji": ({"X-Key": HIDDEN + "\U0001f600"}, "non-Latin-1 character"),
    "a space in the name": ({"X Key": HIDDEN}, "not a valid header name"),
    "a colon in the name": ({"X-Key:": HIDDEN}, "not a valid header name"),
    "an empty name": ({"": HIDDEN}, "not a valid header name"),
    "a float": ({"X-Key": 1.5}, "must be a string, not float"),
    "a list": ({"X-Key": [HIDDEN]}, "must be a string, not list"),
}


@pytest.mark.parametrize("case", BAD_HEADERS)
def test_bad_extra_headers_are_refused_naming_the_header_and_nothing_is_sent(client, server, case):
    headers, message = BAD_HEADERS[case]
    with pytest.raises(chatmini.InvalidRequestError, match=message) as info:
        call(client, extra_headers=headers)
    assert HIDDEN not in str(info.value) and server.requests == []
    with pytest.raises(chatmini.InvalidRequestError, match=message.replace("extra_", "default_")):
        chatmini.Client(api_key=SECRET_KEY, base_url=server.base_url, default_headers=headers)
    with pytest.raises(chatmini.InvalidRequestError, match="default_headers"):
        client.with_options(default_headers=headers)
    with pytest.raises(chatmini.InvalidRequestError, match="nothing was sent"):
        client.post("/echo", json={}, extra_headers=headers)
    assert server.requests == []


def test_organization_and_project_are_header_values_too(server):
    for name in ("organization", "project"):
        with pytest.raises(chatmini.InvalidRequestError, match=f"{name} contains a line break"):
            chatmini.Client(api_key=SECRET_KEY, base_url=server.base_url, **{name: "org-1\n"})


def test_none_removes_a_default_header_and_good_values_pass(make_client, server):
    client = make_client(default_headers={"X-Team": "a", "X-Gone": "b"})
    call(client, extra_headers={"x-gone": None, "X-Latin": "caf\u00e9", "X-Int": 7,
                                "X-Bytes": b"raw", "X-Padded": " v \t", "x-team": "c"})
    got = server.requests[-1].headers
    assert "X-Gone" not in got and got["X-Team"] == "c"  # one header per name, the call's
    assert (got["X-Latin"], got["X-Int"], got["X-Bytes"], got["X-Padded"]) == (
        "caf\u00e9", "7", "raw", "v")
    call(client, extra_headers={"User-Agent": None})
    assert not server.requests[-1].headers.get("User-Agent", "").startswith("chatmini/")


@pytest.fixture(scope="module")
def shared():
    from chatmini.testing import Server

    with Server() as srv, chatmini.Client(api_key=SECRET_KEY, base_url=srv.base_url,
                                          max_retries=0) as client:
        yield srv, client


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.text(max_size=12))
def test_any_header_value_is_refused_or_sent_as_it_is(shared, value):
    srv, client = shared
    before = len(srv.requests)
    try:
        call(client, extra_headers={"X-Any": value})
    except chatmini.InvalidRequestError as exc:
        assert "extra_headers['X-Any']" in str(exc) and len(srv.requests) == before
        assert any(c in "\r\n\x00" or ord(c) > 0xFF or (ord(c) < 0x20 and c != "\t")
                   or c == "\x7f" for c in value)
        return
    got = srv.requests[-1].headers.get("X-Any")
    assert (got or "") == value.strip(" \t")


# -- timeouts, pools, URLs -----------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, -1, 0.0, float("inf"), float("nan"), 1e308, True, "5",
                                   [5]], ids=repr)
def test_a_stream_idle_timeout_that_is_not_a_positive_finite_number_is_refused(value):
    with pytest.raises(chatmini.InvalidRequestError, match="stream_idle_timeout"):
        chatmini.Client(api_key=SECRET_KEY, stream_idle_timeout=value)
    with pytest.raises(chatmini.InvalidRequestError, match="stream_idle"):
        chatmini.Timeout(stream_idle=value)


@pytest.mark.parametrize("size", [10**9, 10**5000, 10_001, 0, -3, 2.0, True],
                         ids=["1e9", "1e5000", "10001", "0", "-3", "2.0", "True"])
def test_an_absurd_pool_maxsize_is_refused_at_once(size):
    start = time.monotonic()
    with pytest.raises(chatmini.InvalidRequestError, match="pool_maxsize must be an integer from "
                                                           "1 to 10,000"):
        chatmini.Client(api_key=SECRET_KEY, pool_maxsize=size)
    assert time.monotonic() - start < 5  # 10**9 used to hang the first call for minutes


def test_the_largest_pool_still_works(make_client, server):
    client = make_client(pool_maxsize=10_000)
    assert call(client).choices[0].message.content == "echo: hi"


def test_chatmini_batch_refuses_absurd_workers(server, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET_KEY)
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"model": "m", "messages": HI}) + "\n")
    code = main(["batch", str(source), "-o", str(tmp_path / "out.jsonl"), "--base-url",
                 server.base_url, "--workers", str(10**9)])
    assert code == 1 and "pool_maxsize must be an integer" in capsys.readouterr().err
    assert server.requests == []


MALFORMED_HOSTS = {
    "a space": "http://exa mple.com/v1",
    "an unclosed IPv6 bracket": "http://[::1/v1",
    "not an IPv6 address in brackets": "http://[zz]/v1",
    "a port out of range": "http://host:99999/v1",
    "a port that is not a number": "http://host:abc/v1",
    "port 0": "http://127.0.0.1:0/v1",
    "no host": "http://:80/v1",
    "an empty label": "http://a..b/v1",
    "a label too long": "http://" + "a" * 64 + ".example/v1",
    "a name too long": "http://" + ".".join(["a" * 60] * 5) + "/v1",
    "a label starting with a hyphen": "http://-x.example/v1",
    "a percent sign": "http://ex%41mple.com/v1",
    "a line break inside": "http://host\n.example/v1",
    "a NUL": "http://h\x00st/v1",
}


@pytest.mark.parametrize("url", MALFORMED_HOSTS.values(), ids=list(MALFORMED_HOSTS))
def test_a_malformed_host_is_refused_at_construction(url):
    with pytest.raises(chatmini.InvalidRequestError, match="base_url") as info:
        chatmini.Client(api_key=SECRET_KEY, base_url=url)
    assert not isinstance(info.value.__cause__, Exception) or isinstance(
        info.value.__cause__, chatmini.ChatminiError)
    with pytest.raises(chatmini.InvalidRequestError, match="token_url"):
        chatmini.OAuth2ClientCredentials(url, "id", "secret")


@pytest.mark.filterwarnings("ignore::chatmini.InsecureTransportWarning")
@pytest.mark.parametrize("url", [
    "http://localhost:8080/v1", "https://api.openai.com/v1", "http://[::1]:8080/v1",
    "http://[fe80::1%25eth0]:80/v1", "http://llm_server:8000/v1", "http://xn--mnchen-3ya.de/v1",
    "http://m\u00fcnchen.de/v1", "http://host.example./v1", " http://localhost:8080/v1\n",
])
def test_well_formed_hosts_are_accepted(url):
    assert chatmini.Client(api_key=SECRET_KEY, base_url=url).base_url == url.strip()


# -- bodies --------------------------------------------------------------------------------------


def test_a_json_array_body_is_sent_and_anything_else_but_an_object_is_refused(client, server):
    assert client.post("/echo", json=[1, {"a": 2}]).json == [1, {"a": 2}]
    assert client.post("/echo", json=("x",)).json == ["x"]
    assert server.requests[-1].json == ["x"]
    sent = len(server.requests)
    for value in ("text", 5, 1.5, True, {1, 2}):
        with pytest.raises(chatmini.InvalidRequestError, match="json must be a JSON object"):
            client.post("/echo", json=value)
    assert len(server.requests) == sent


@pytest.mark.parametrize("messages", [None, "hi", {"role": "user", "content": "hi"}, 5, []],
                         ids=repr)
def test_messages_that_are_not_a_list_of_messages_are_refused(client, server, messages):
    for create in (client.chat.completions.create,
                   lambda **kw: client.chat.completions.create(stream=True, **kw),
                   client.chat.completions.parse):
        with pytest.raises(chatmini.InvalidRequestError, match="messages must"):
            create(model="m", messages=messages)
    with pytest.raises(chatmini.InvalidRequestError, match="messages must"):
        with client.chat.completions.stream(model="m", messages=messages):
            pass
    assert server.requests == []


@pytest.mark.parametrize("messages", [[5], [HI[0], "hi"], [HI[0], None], [["user", "hi"]]],
                         ids=repr)
def test_a_message_that_is_not_an_object_is_named(client, server, messages):
    bad = next(i for i, m in enumerate(messages) if not isinstance(m, dict))
    with pytest.raises(chatmini.InvalidRequestError, match=rf"messages\[{bad}\] must be a"):
        client.chat.completions.create(model="m", messages=messages)
    assert server.requests == []


@pytest.mark.parametrize("stream", ["false", "yes", 1, 0, [], object()], ids=repr)
def test_stream_is_true_or_false(client, server, stream):
    """``stream="false"`` is truthy: it would stream (openai-python streams it)."""
    for create in (lambda **kw: client.chat.completions.create(model="m", messages=HI, **kw),
                   lambda **kw: client.completions.create(model="m", prompt="x", **kw),
                   lambda **kw: client.responses.create(model="m", input="x", **kw)):
        with pytest.raises(chatmini.InvalidRequestError, match="stream must be True or False"):
            create(stream=stream)
    assert server.requests == []
    assert client.chat.completions.create(model="m", messages=HI, stream=None).choices
    assert client.chat.completions.create(model="m", messages=HI,
                                          stream=chatmini.NOT_GIVEN).choices


def test_a_path_or_method_that_is_not_text_and_a_default_query_that_is_not_a_dict(
        make_client, server):
    client = make_client()
    with pytest.raises(chatmini.InvalidRequestError, match="path must be a string, not int"):
        client.get(5)
    with pytest.raises(chatmini.InvalidRequestError, match="method must be a string"):
        client.send(b"GET", "/models")
    for query in (5, [("a", "b")], "a=b"):
        with pytest.raises(chatmini.InvalidRequestError, match="default_query must be a dict"):
            make_client(default_query=query)
        with pytest.raises(chatmini.InvalidRequestError, match="default_query must be a dict"):
            client.with_options(default_query=query)
    assert server.requests == []


NOT_FINITE = {
    "temperature NaN": ({"temperature": float("nan")}, r"temperature \(nan\)"),
    "top_p Infinity": ({"top_p": float("inf")}, r"top_p \(inf\)"),
    "in a tool's schema": ({"tools": [{"type": "function", "function": {
        "name": "f", "parameters": {"type": "number", "maximum": -math.inf}}}]},
        r"tools\[0\]\.function\.parameters\.maximum \(-inf\)"),
    "in extra_body": ({"extra_body": {"logit_bias": {"50256": float("nan")}}},
                      r"logit_bias\.50256 \(nan\)"),
    "in metadata, a tuple": ({"metadata": {"w": (1.0, math.inf)}}, r"metadata\.w\[1\] \(inf\)"),
}


@pytest.mark.parametrize("case", NOT_FINITE)
def test_nan_and_infinity_are_refused_naming_where_they_are(client, server, case):
    params, where = NOT_FINITE[case]
    with pytest.raises(chatmini.InvalidRequestError,
                       match=where + " is not a finite number; JSON has no NaN"):
        call(client, **params)
    with pytest.raises(chatmini.InvalidRequestError, match="not a finite number"):
        call(client, stream=True, **params)
    assert server.requests == []


def test_nan_in_a_raw_post_and_next_to_objects_passed_back(client, server):
    with pytest.raises(chatmini.InvalidRequestError, match=r"\[1\]\.x \(nan\)"):
        client.post("/echo", json=[1, {"x": float("nan")}])
    reply = call(client).choices[0].message  # a chatmini object: encoded through another path
    with pytest.raises(chatmini.InvalidRequestError, match=r"temperature \(inf\)"):
        client.chat.completions.create(model="m", messages=[*HI, reply], temperature=math.inf)
    assert len(server.requests) == 1


FLOATS = st.floats(allow_nan=True, allow_infinity=True)
BODIES = st.recursive(FLOATS | st.integers() | st.text(max_size=3) | st.none(),
                      lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text("abc", min_size=1, max_size=2), inner,
                                        max_size=3), max_leaves=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(extra=st.dictionaries(st.sampled_from(["metadata", "x", "y"]), BODIES, max_size=2))
def test_any_params_are_sent_exactly_or_refused_for_a_non_finite_number(shared, extra):
    srv, client = shared
    before = len(srv.requests)
    finite = all(math.isfinite(f) for f in _floats(extra))
    try:
        client.chat.completions.create(model="m", messages=HI, **extra)
    except chatmini.InvalidRequestError as exc:
        assert not finite and "not a finite number" in str(exc)
        assert len(srv.requests) == before
        return
    assert finite and srv.requests[-1].json == {"model": "m", "messages": HI, **extra}


def _floats(value):
    if isinstance(value, float):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _floats(item)
    elif isinstance(value, list):
        for item in value:
            yield from _floats(item)
