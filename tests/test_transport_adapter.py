"""The adapter chatmini mounts on its own Sessions: requests' answers, less per-call work (pools
and targets kept, no cookie jar), and requests' own way whenever a proxy applies."""

from __future__ import annotations

import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from requests.structures import CaseInsensitiveDict
from urllib3 import HTTPHeaderDict

import chatmini
from chatmini.testing import Reply
from chatmini.transport.adapter import APIAdapter, case_insensitive

from .conftest import HI


def adapter_of(client: chatmini.Client) -> APIAdapter:
    adapter = client.session.get_adapter(client.base_url)
    assert isinstance(adapter, APIAdapter)
    return adapter


def test_pools_are_kept_and_asked_for_again_once_closed(client, server):
    for _ in range(3):
        client.chat.completions.create(model="m", messages=HI)
    adapter = adapter_of(client)
    assert len(adapter._pools) == 1 and server.connections_opened == 1
    kept = next(iter(adapter._pools.values()))
    adapter.poolmanager.clear()  # urllib3 forgets its pools: the one kept here still works
    client.chat.completions.create(model="m", messages=HI)
    assert server.connections_opened == 1
    client.close()  # closes every pool, the one kept here too
    assert kept.pool is None
    assert client.chat.completions.create(model="m", messages=HI).choices  # a new pool
    assert server.connections_opened == 2 and next(iter(adapter._pools.values())).pool


@given(path=st.text(alphabet="/?#=&ab%", max_size=12))
@settings(max_examples=100, deadline=None)
def test_request_targets_are_requests_own(path):
    adapter = APIAdapter()
    prepared = requests.Request("POST", "http://127.0.0.1:9/v1" + path).prepare()
    expected = requests.adapters.HTTPAdapter().request_url(prepared, {})
    assert adapter.request_url(prepared, {}) == expected
    assert adapter.request_url(prepared, {}) == expected  # and again, from what was kept


def test_cookies_are_not_collected_but_their_headers_stay(client, server):
    server.enqueue(Reply(headers={"Set-Cookie": "lb=abc; Path=/"}, body={"id": "x"}))
    seen = []

    class Keep:
        @chatmini.hookimpl
        def chatmini_after_attempt(self, response):
            seen.append(response)

    client.plugin_host.register(Keep())
    assert client.post("/files", json={}).id == "x"
    assert seen[0].headers["set-cookie"] == "lb=abc; Path=/" and len(seen[0].cookies) == 0
    fresh = requests.Response()  # every field requests' own Response has, of the same kind
    assert {k: type(v) for k, v in vars(seen[0]).items() if k in vars(fresh)}.keys() == vars(fresh).keys()
    assert seen[0].history == [] and seen[0].elapsed.total_seconds() > 0 and seen[0].ok


names = st.sampled_from(["Content-Type", "content-type", "X-Id", "x-id", "Set-Cookie", "A"])


@given(fields=st.lists(st.tuples(names, st.text(max_size=5)), max_size=8))
@settings(max_examples=200, deadline=None)
def test_headers_are_the_case_insensitive_dict_requests_builds(fields):
    for headers in (dict(fields), HTTPHeaderDict(fields)):
        built, expected = case_insensitive(headers), CaseInsensitiveDict(headers)
        assert list(built.items()) == list(expected.items())
        assert list(built.lower_items()) == list(expected.lower_items())


def test_headers_and_bodies_of_any_size_arrive_whole(client, server):
    big = "x" * 100_000  # past the one-write limit: urllib3's two writes
    for content in ("hi", big):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": content}])
        assert server.requests[-1].json["messages"][0]["content"] == content
    assert client.models.list().data and server.requests[-1].body == b""  # no body at all
    assert server.connections_opened == 1
