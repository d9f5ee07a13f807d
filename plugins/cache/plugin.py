"""The ``cache`` plugin: answers a call it has seen before from memory or a SQLite file.

Through the public hooks only: ``chatmini_prepare_request`` decides once per call whether it
is cached (the rule, and the ``X-Chatmini-Cache`` header, which is never sent);
``chatmini_local_response`` looks the attempt up once its credential is on it (the partition)
and answers a hit without the network, so the send wrappers, the rate limiters among them,
never see it; ``chatmini_call_end`` stores a successful answer that decoded, and
``chatmini_stream_reads``/``chatmini_stream_end`` a stream that completed. A hit is
``context["cache"] == "hit"`` on the response, the ``cache`` label in timing, logs and metrics,
and counted in ``client.stats()``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Generator, NamedTuple, Optional, Union

from chatmini.errors import InvalidRequestError
from chatmini.hookspecs import hookimpl
from chatmini.request import LABELS
from chatmini.stats import add_section, text_table

from .key import HEADER, Partition, deterministic, entry_key, request_digest
from .replay import event_bytes, kept_headers, response_from
from .store import Entry, MemoryStore, SQLiteStore

if TYPE_CHECKING:
    import requests

    from chatmini.errors import ChatminiError
    from chatmini.request import Request
    from chatmini.sse import ServerSentEvent
    from chatmini.streaming import EventStream

KEY = "chatmini.cache"  # request.context: the call's _CallState
CACHE = "cache"  # request.context and the call's labels: "hit", "miss" or "refresh"
MODES = ("bypass", "refresh", "use")
DEFAULT_MAX_ENTRY = 8 * 1024 * 1024
logger = logging.getLogger("chatmini")


class CacheInfo(NamedTuple):
    """What the cache did so far (this process): look-ups answered and not, answers stored,
    and the entries it holds now (all processes', for a SQLite file)."""

    hits: int
    misses: int
    stores: int
    entries: int

    def __str__(self) -> str:
        looked = self.hits + self.misses
        rate = f"{self.hits / looked:.0%}" if looked else "-"
        return text_table([["hits", "misses", "hit rate", "stored", "entries"],
                           [str(self.hits), str(self.misses), rate, str(self.stores),
                            str(self.entries)]], left=())


class _CallState:
    __slots__ = ("read", "write", "hit", "events", "size", "basis", "digest")

    def __init__(self, read: bool, write: bool) -> None:
        self.read = read  # look it up (first attempt only)
        self.write = write  # store a successful answer
        self.hit = False
        self.events: list[ServerSentEvent] = []
        self.size = 0
        self.basis: tuple[Any, ...] = ()  # what the digest was computed from
        self.digest = b""


class ResponseCache:
    """Caches successful answers: in memory (``path=None``: at most ``max_entries`` and
    ``max_bytes``, least recently used out first), or in the SQLite file at ``path``, shared
    by threads and processes (at most ``max_entries`` when given, the oldest out first).

    By default only requests that ask for the same answer every time are cached
    (``temperature=0`` or a ``seed``); ``when(request) -> bool`` replaces that rule. Per call,
    ``extra_headers={"X-Chatmini-Cache": "bypass"}`` neither reads nor stores, ``"refresh"``
    asks the network and stores the new answer, ``"use"`` caches the call whatever the rule.
    ``ttl`` seconds (None: no expiry) bounds an answer's age; ``streams=True`` caches streamed
    answers too, replayed as a stream with the same events. Answers are partitioned by the
    credential each attempt carries (hashed, never stored), or by ``partition(request)`` (a
    tenant name, for rotating tokens). ``clock`` (wall-clock seconds) is injectable for tests.
    """

    chatmini_plugin_name = "cache"

    def __init__(
        self,
        path: Union[str, os.PathLike[str], None] = None,
        *,
        ttl: Optional[float] = None,
        max_entries: Optional[int] = None,
        max_bytes: Optional[int] = None,
        streams: bool = False,
        when: Optional[Callable[[Request], bool]] = None,
        partition: Optional[Partition] = None,
        max_entry_bytes: int = DEFAULT_MAX_ENTRY,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if ttl is not None and not (isinstance(ttl, (int, float)) and ttl > 0):
            raise InvalidRequestError(f"ttl must be seconds > 0 or None, not {ttl!r}")
        for name, value in (("max_entries", max_entries), ("max_bytes", max_bytes),
                            ("max_entry_bytes", max_entry_bytes)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < 1):
                raise InvalidRequestError(f"{name} must be an integer >= 1, not {value!r}")
        self.store: Union[MemoryStore, SQLiteStore]
        if path is None:
            self.store = MemoryStore(max_entries or 1024, max_bytes or 64 * 1024 * 1024)
        elif max_bytes is not None:
            raise InvalidRequestError(
                f"max_bytes={max_bytes} and path={os.fspath(path)!r} disagree: max_bytes bounds "
                "the in-memory cache; bound a SQLite cache with max_entries"
            )
        else:
            self.store = SQLiteStore(path, max_entries, timeout)
        self.ttl = ttl
        self.streams = streams
        self.when = when if when is not None else deterministic
        self.partition = partition
        self.max_entry_bytes = max_entry_bytes
        self.clock = clock
        self._lock = threading.Lock()
        self._hits = self._misses = self._stores = 0

    def info(self) -> CacheInfo:
        """Hits, misses and answers stored so far, and the entries held (``client.stats()``
        shows it too)."""
        with self._lock:
            counts = (self._hits, self._misses, self._stores)
        return CacheInfo(*counts, len(self.store))

    def clear(self) -> None:
        """Forget every stored answer (for a SQLite file: every process's)."""
        self.store.clear()

    def close(self) -> None:
        """Close the store's connections (the cache must not be used afterwards)."""
        self.store.close()

    # -- per call ----------------------------------------------------------------------------

    @hookimpl
    def chatmini_prepare_request(self, request: Request) -> None:
        context = request.context
        headers = request.headers
        asked = [name for name in headers if name.lower() == HEADER]
        mode = headers.pop(asked[0]).strip().lower() if asked else None  # never sent
        if KEY in context:
            return
        if mode is not None and mode not in MODES:
            raise InvalidRequestError(
                f"X-Chatmini-Cache: {mode!r} is not one of {', '.join(map(repr, MODES))}"
            )
        cacheable = (request.method in ("GET", "POST") and request.sink is None
                     and (request.body is None or isinstance(request.body, bytes))
                     and (self.streams or not request.stream))
        read = write = False
        if cacheable and mode != "bypass":
            write = mode in ("refresh", "use") or self.when(request)
            read = write and mode != "refresh"
        context[KEY] = _CallState(read, write)
        if write:
            label = "refresh" if mode == "refresh" else "miss"
            context[CACHE] = label
            context.setdefault(LABELS, {})[CACHE] = label

    @hookimpl
    def chatmini_local_response(self, request: Request) -> Optional[requests.Response]:
        state: Optional[_CallState] = request.context.get(KEY)
        if state is None or not state.read:
            return None
        state.read = False  # the first attempt looks; a retry after a network failure does not
        key = self._key(request, state)
        entry = self.store.get(key)
        now = self.clock()
        if entry is not None and self.ttl is not None and now - entry.created > self.ttl:
            self.store.discard(key)
            entry = None
        if entry is None:
            with self._lock:
                self._misses += 1
            return None
        with self._lock:
            self._hits += 1
        state.hit = True
        state.write = False
        request.context[CACHE] = "hit"
        request.context.setdefault(LABELS, {})[CACHE] = "hit"
        logger.debug("cache hit for %s %s", request.method, request.endpoint)
        return response_from(entry, request, now - entry.created)

    @hookimpl
    def chatmini_call_end(
        self,
        request: Request,
        response: Optional[requests.Response],
        error: Optional[ChatminiError],
    ) -> None:
        state: Optional[_CallState] = request.context.get(KEY)
        if (state is None or not state.write or error is not None or response is None
                or request.stream or not 200 <= response.status_code < 300):
            return  # errors are never stored; a stream is stored when it completed
        body = response.content
        if len(body) <= self.max_entry_bytes:
            self._store(request, state, Entry(self.clock(), response.status_code,
                                              kept_headers(response.headers), body, False))

    @hookimpl
    def chatmini_stream_reads(
        self, request: Request, reads: list[tuple[float, list[ServerSentEvent]]]
    ) -> None:
        state: Optional[_CallState] = request.context.get(KEY)
        if state is None or not state.write:
            return
        for _, events in reads:
            state.events.extend(events)
            state.size += sum(len(event.data) for event in events)
        if state.size > self.max_entry_bytes:
            state.write, state.events = False, []  # too large to keep

    @hookimpl
    def chatmini_stream_end(
        self, request: Request, stream: EventStream[Any], error: Optional[ChatminiError]
    ) -> None:
        state: Optional[_CallState] = request.context.get(KEY)
        if state is None or not state.write or error is not None or not stream.completed:
            return
        response = stream.response
        if 200 <= response.status_code < 300:
            self._store(request, state, Entry(self.clock(), response.status_code,
                                              kept_headers(response.headers),
                                              event_bytes(state.events), True))
        state.events = []

    def _key(self, request: Request, state: _CallState) -> str:
        """The attempt's key; the request's digest is computed once per call (again only when
        a plugin changed the URL or the body between the look-up and the store)."""
        basis = (request.url, id(request.params), id(request.body))
        if basis != state.basis:
            state.basis, state.digest = basis, request_digest(request)
        return entry_key(state.digest, request, self.store.salt, self.partition)

    def _store(self, request: Request, state: _CallState, entry: Entry) -> None:
        expired = entry.created - self.ttl if self.ttl is not None else None
        self.store.put(self._key(request, state), entry, expired)
        with self._lock:
            self._stores += 1

    @hookimpl(wrapper=True)
    def chatmini_stats(self) -> Generator[None, Any, Any]:
        return add_section((yield), "cache", self.info())

    def __repr__(self) -> str:
        return f"<ResponseCache {self.store!r} ttl={self.ttl} streams={self.streams}>"
