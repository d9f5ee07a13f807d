"""TokenCache single flight and refresh timing, JWT ``exp`` decoding, provider result shapes."""

from __future__ import annotations

import base64
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

import pytest

from chatmini.plugins._jwt_claims import jwt_claims, jwt_expiry
from chatmini.plugins._token_cache import Token, TokenCache
from chatmini.plugins.token_provider import as_token

THREADS = 32


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(claims: object) -> str:
    return ".".join([b64(b'{"alg":"none"}'), b64(json.dumps(claims).encode()), b64(b"sig")])


class Fetcher:
    """A fetch function that blocks until released and counts its calls."""

    def __init__(self, lifetime: float = 3600.0, fail: Exception | None = None) -> None:
        self.calls = 0
        self.previous: list[Token | None] = []
        self.release = threading.Event()
        self.lifetime = lifetime
        self.fail = fail

    def __call__(self, previous: Token | None) -> Token:
        self.calls += 1
        self.previous.append(previous)
        assert self.release.wait(10), "test never released the fetch"
        if self.fail is not None:
            raise self.fail
        return Token(f"token-{self.calls}", time.time() + self.lifetime, f"refresh-{self.calls}")


def run_together(cache: TokenCache, fetcher: Fetcher) -> list:
    """THREADS threads call cache.get() at once; the fetch is released once all are inside."""
    barrier = threading.Barrier(THREADS)

    def worker():
        barrier.wait(10)
        try:
            return cache.get().value
        except Exception as exc:  # collected, asserted by the caller
            return exc

    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(worker) for _ in range(THREADS)]
        deadline = time.monotonic() + 10
        while cache.waits < THREADS - 1 and time.monotonic() < deadline:
            time.sleep(0.01)  # polling a counter: all other threads are waiting for the fetch
        fetcher.release.set()
        return [f.result(10) for f in futures]


def test_one_fetch_for_32_threads_and_all_get_its_token():
    fetcher = Fetcher()
    cache = TokenCache(fetcher)
    results = run_together(cache, fetcher)
    assert fetcher.calls == 1 and cache.fetches == 1
    assert cache.waits == THREADS - 1
    assert results == ["token-1"] * THREADS


def test_a_failed_fetch_is_shared_by_the_waiters_and_the_next_call_tries_again():
    boom = RuntimeError("token endpoint down")
    fetcher = Fetcher(fail=boom)
    cache = TokenCache(fetcher)
    results = run_together(cache, fetcher)
    assert fetcher.calls == 1
    assert all(r is boom for r in results)
    fetcher.fail = None
    assert cache.get().value == "token-2"


def test_cached_until_skew_before_expiry_then_refreshed_with_the_previous_token():
    fetcher = Fetcher(lifetime=3600)
    fetcher.release.set()
    cache = TokenCache(fetcher, skew=60)
    first = cache.get()
    assert cache.get() is first and fetcher.calls == 1
    assert cache.refresh_at == pytest.approx(first.expires_at - 60)
    cache._entry = (first, time.time() - 1)  # as if the refresh time had passed
    second = cache.get()
    assert second.value == "token-2" and fetcher.previous == [None, first]


def test_invalidate_drops_only_the_token_it_names():
    fetcher = Fetcher()
    fetcher.release.set()
    cache = TokenCache(fetcher)
    first = cache.get()
    cache.invalidate(Token("some-older-token"))
    assert cache.get() is first
    cache.invalidate(first)
    assert cache.get().value == "token-2"
    assert fetcher.previous[-1] is first  # its refresh token is still offered to the fetch


def test_skew_never_exceeds_half_the_lifetime():
    now = time.time()
    assert Token("t", now + 2, obtained_at=now).refresh_at(60) == pytest.approx(now + 1)
    assert Token("t", now + 3600, obtained_at=now).refresh_at(60) == pytest.approx(now + 3540)
    assert Token("t", None).refresh_at(60) == float("-inf")
    with pytest.raises(ValueError):
        TokenCache(Fetcher(), skew=-1)


def test_a_token_without_expiry_serves_only_the_call_that_fetched_it():
    calls = []
    cache = TokenCache(lambda previous: calls.append(1) or Token(f"t{len(calls)}"))
    assert [cache.get().value for _ in range(3)] == ["t1", "t2", "t3"]


def test_token_and_cache_reprs_hide_secrets():
    token = Token("access-SECRET-123456", time.time() + 100, "refresh-SECRET-654321")
    cache = TokenCache(lambda p: token)
    cache.get()
    for text in (repr(token), str(token), repr(cache)):
        assert "SECRET" not in text
    assert "refresh_token=set" in repr(token)


@pytest.mark.parametrize("token, expected", [
    (jwt({"exp": 1893456000}), 1893456000.0),
    (jwt({"exp": 1893456000.5, "sub": "x"}), 1893456000.5),
    (jwt({"sub": "no exp"}), None),
    (jwt({"exp": "1893456000"}), None),
    (jwt({"exp": True}), None),
    (jwt([1, 2]), None),
    ("opaque-token", None),
    ("a.b.c", None),
    ("a..c", None),
    ("a.%%%.c", None),
    ("a." + b64(b"\xff\xfe") + ".c", None),
    ("a." + b64(b"{not json") + ".c", None),
    ("a." + b64(b'{"exp": NaN}') + ".c", None),
    ("", None),
])
def test_jwt_expiry_never_raises(token, expected):
    assert jwt_expiry(token) == expected


def test_jwt_claims_reads_unpadded_base64url():
    claims = {"exp": 1, "sub": "ü~?>"}
    assert jwt_claims(jwt(claims)) == claims


class AccessToken(NamedTuple):  # the shape of azure.core.credentials.AccessToken
    token: str
    expires_on: int


@pytest.mark.parametrize("result, value, expires", [
    ("plain", "plain", None),
    (("pair", 1893456000), "pair", 1893456000.0),
    (AccessToken("azure", 1893456000), "azure", 1893456000.0),
    (("dt", datetime(2030, 1, 1, tzinfo=timezone.utc)), "dt", 1893456000.0),
])
def test_provider_results_become_tokens(result, value, expires):
    token = as_token(result)
    assert token is not None and (token.value, token.expires_at) == (value, expires)


@pytest.mark.parametrize("result", [
    None, "", 42, ("a", "soon"), ("a", True), ("only-one",), (None, 1), ["t", 1],
    ("a", timedelta(seconds=1)),
])
def test_unknown_provider_results_are_refused(result):
    assert as_token(result) is None
