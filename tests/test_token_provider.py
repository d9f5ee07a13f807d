"""Any callable as the credential: strings, (token, expiry) pairs, AccessToken-like objects."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import pytest

import chatmini
from chatmini.plugins.token_provider import TokenProvider
from chatmini.testing import Reply

from .auth_support import bearer_tokens, create


class AccessToken(NamedTuple):  # azure.core.credentials.AccessToken
    token: str
    expires_on: int


class Provider:
    """Hands out numbered tokens, optionally with an expiry; counts its calls."""

    def __init__(self, lifetime: float | None = None, shape: str = "pair") -> None:
        self.calls = 0
        self.lifetime = lifetime
        self.shape = shape
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self):
        self.calls += 1
        assert self.gate.wait(10)
        value = f"provided-{self.calls}"
        if self.lifetime is None:
            return value
        expires = int(time.time() + self.lifetime)
        return AccessToken(value, expires) if self.shape == "azure" else (value, expires)


def test_a_plain_string_provider_is_asked_on_every_call(make_client, server):
    provider = Provider()
    client = make_client(api_key=None, auth=provider)
    assert isinstance(client.auth, TokenProvider)
    create(client)
    create(client)
    assert bearer_tokens(server) == ["provided-1", "provided-2"]


@pytest.mark.parametrize("shape", ["pair", "azure"])
def test_a_provider_giving_an_expiry_is_cached(make_client, server, shape):
    provider = Provider(lifetime=3600, shape=shape)
    client = make_client(api_key=None, auth=TokenProvider(provider, skew=60))
    for _ in range(3):
        create(client)
    assert provider.calls == 1 and bearer_tokens(server) == ["provided-1"] * 3


def test_32_threads_share_one_provider_call(make_client, server):
    threads = 32
    provider = Provider(lifetime=3600)
    provider.gate.clear()
    auth = TokenProvider(provider)
    client = make_client(api_key=None, auth=auth)
    barrier = threading.Barrier(threads)

    def call(_):
        barrier.wait(10)
        return create(client).choices[0].message.content

    with ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(call, i) for i in range(threads)]
        deadline = time.monotonic() + 10
        while auth.cache.waits < threads - 1 and time.monotonic() < deadline:
            time.sleep(0.01)  # polling a counter until every other thread waits for the call
        provider.gate.set()
        results = [f.result(10) for f in futures]
    assert results == ["echo: hi"] * threads
    assert provider.calls == 1 and auth.cache.waits == threads - 1
    assert set(bearer_tokens(server)) == {"provided-1"}


def test_a_401_asks_the_provider_again_and_replays_once(make_client, server):
    provider = Provider(lifetime=3600)
    client = make_client(api_key=None, auth=provider, max_retries=0)
    server.enqueue(Reply(status=401))
    assert create(client).choices
    assert bearer_tokens(server) == ["provided-1", "provided-2"]
    server.enqueue(Reply(status=401), Reply(status=401))
    with pytest.raises(chatmini.AuthenticationError):
        create(client)
    assert bearer_tokens(server)[2:] == ["provided-2", "provided-3"]


def test_a_failing_provider_is_an_authentication_error_and_the_call_is_not_sent(
        make_client, server):
    def broken():
        raise OSError("no managed identity here")

    client = make_client(api_key=None, auth=broken)
    with pytest.raises(chatmini.AuthenticationError) as info:
        create(client)
    assert "Token provider" in str(info.value) and "broken" in str(info.value)
    assert "OSError: no managed identity here" in str(info.value)
    assert isinstance(info.value.__cause__, OSError)
    assert server.requests == []


@pytest.mark.parametrize("result", [None, "", 42, ("t", "tomorrow")])
def test_a_provider_returning_something_else_is_refused(make_client, server, result):
    client = make_client(api_key=None, auth=lambda: result)
    with pytest.raises(chatmini.AuthenticationError, match="expected a token string"):
        create(client)
    assert server.requests == []


def test_a_custom_header_and_scheme(make_client, server):
    auth = TokenProvider(lambda: "gateway-token", header="X-Gateway-Token", scheme="")
    create(make_client(api_key=None, auth=auth))
    assert server.requests[0].headers["X-Gateway-Token"] == "gateway-token"
    assert server.requests[0].headers.get("Authorization") is None


def test_a_non_callable_provider_is_refused(make_client, server):
    for provider in ("token", None, 5):
        with pytest.raises(chatmini.InvalidRequestError, match="provider must be callable"):
            TokenProvider(provider)  # type: ignore[arg-type]
    with pytest.raises(chatmini.InvalidRequestError, match="provider must be callable"):
        make_client(api_key=None, auth=TokenProvider("token"))  # type: ignore[arg-type]
    assert server.requests == []


@pytest.mark.parametrize("name", [None, "", "X\r\nY", "Authorization\n", "x goog"])
def test_an_invalid_header_name_is_refused_at_construction(make_client, server, name):
    with pytest.raises(chatmini.InvalidRequestError, match="header=.*not a valid header name"):
        make_client(api_key=None, auth=TokenProvider(lambda: "gateway-token", header=name))
    assert server.requests == []


@pytest.mark.parametrize(
    "expires", [pytest.param(10**400, id="400-digits"), float("inf"), float("nan")])
def test_an_absurd_expiry_from_a_provider_is_unknown(make_client, server, expires):
    calls = []
    client = make_client(api_key=None, auth=lambda: calls.append(1) or ("provided", expires))
    create(client)
    create(client)
    assert bearer_tokens(server) == ["provided"] * 2 and len(calls) == 2  # asked every call

