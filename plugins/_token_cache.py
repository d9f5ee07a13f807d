"""A thread-safe token cache with single flight: one thread fetches, the others wait for it.

Shared by the OAuth2 and token-provider plugins. A token is refreshed ``skew`` seconds before
it expires (at most half its lifetime early, so short-lived tokens are still reused); when many
threads find it stale at once, exactly one calls ``fetch`` and the rest take its result, or
its exception.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Callable, Optional

from chatmini.redaction import describe_secret

MAX_LIFETIME = 366 * 86400.0  # a token is never trusted for longer than a year


def finite_seconds(value: object) -> Optional[float]:
    """``value`` (a number or numeric string) as a finite float, else None; never raises, not
    even for an integer of 400 digits or NaN (a server's or provider's expiry is not trusted)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        seconds = float(value)
    except (ValueError, OverflowError):
        return None
    return seconds if math.isfinite(seconds) else None


class Token:
    """An access token, when it expires (seconds since the epoch, None if unknown), and the
    refresh token that came with it; the repr never shows either secret."""

    __slots__ = ("value", "expires_at", "refresh_token", "obtained_at")

    def __init__(
        self,
        value: str,
        expires_at: Optional[float] = None,
        refresh_token: Optional[str] = None,
        obtained_at: Optional[float] = None,
    ) -> None:
        self.value = value
        self.expires_at = expires_at
        self.refresh_token = refresh_token
        self.obtained_at = time.time() if obtained_at is None else obtained_at

    def refresh_at(self, skew: float) -> float:
        """When to stop using it: ``skew`` seconds before expiry, but no earlier than half-life.

        A token without a known expiry is used for the request that fetched it only.
        """
        if self.expires_at is None:
            return float("-inf")
        lifetime = max(self.expires_at - self.obtained_at, 0.0)
        return self.expires_at - min(skew, lifetime / 2)

    def __repr__(self) -> str:
        expiry = "unknown" if self.expires_at is None else f"{self.expires_at - time.time():.0f}s"
        return (
            f"<Token expires_in={expiry} refresh_token={describe_secret(self.refresh_token)}>"
        )


Fetch = Callable[[Optional[Token]], Token]


class TokenCache:
    """Hands out the current token, calling ``fetch(previous)`` when it is stale or dropped.

    ``previous`` is the last token fetched (even if expired or dropped), so a fetch can use its
    refresh token. ``fetches`` and ``waits`` count fetches and threads that waited for one.
    """

    def __init__(self, fetch: Fetch, skew: float = 60.0) -> None:
        if skew < 0:
            raise ValueError(f"skew must be >= 0 seconds, not {skew!r}")
        self._fetch = fetch
        self.skew = skew
        self._cond = threading.Condition(threading.Lock())
        self._entry: Optional[tuple[Token, float]] = None  # (token, refresh_at), read lock-free
        self._last: Optional[Token] = None
        self._fetching = False
        self._generation = 0
        self._failure: Optional[Exception] = None  # outcome of the latest fetch: an error,
        self._fresh: Optional[Token] = None  # or the token it got
        self.fetches = 0
        self.waits = 0

    def get(self) -> Token:
        """A token that is not due for refresh, fetching one (once, for all threads) if needed."""
        entry = self._entry
        if entry is not None and time.time() < entry[1]:
            return entry[0]  # the fast path: no lock
        with self._cond:
            while self._fetching:
                self.waits += 1
                generation = self._generation
                while self._generation == generation:
                    self._cond.wait()
                if self._failure is not None:
                    raise self._failure  # the fetch this thread waited for failed
                if self._fresh is not None:
                    return self._fresh  # just fetched: good for this request even if single-use
            entry = self._entry
            if entry is not None and time.time() < entry[1]:
                return entry[0]
            self._fetching = True
            self.fetches += 1
            previous = self._last
        token: Optional[Token] = None
        failure: Optional[Exception] = None
        try:
            token = self._fetch(previous)
            return token
        except Exception as exc:
            failure = exc
            raise
        finally:
            with self._cond:
                if token is not None:
                    self._last = token
                    self._entry = (token, token.refresh_at(self.skew))
                self._failure = failure
                self._fresh = token
                self._fetching = False
                self._generation += 1
                self._cond.notify_all()

    def invalidate(self, token: Optional[Token]) -> None:
        """Stop using ``token`` (e.g. the API answered 401); no-op if a newer one is cached."""
        with self._cond:
            if token is not None and self._entry is not None and self._entry[0] is token:
                self._entry = None

    @property
    def refresh_at(self) -> Optional[float]:
        """When the cached token is due for refresh (epoch seconds), or None when none is cached."""
        entry = self._entry
        return entry[1] if entry is not None else None

    def __repr__(self) -> str:
        return f"<TokenCache skew={self.skew}s fetches={self.fetches} token={self._last!r}>"
