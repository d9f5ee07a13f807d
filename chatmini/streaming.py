"""Streamed replies: bytes read as they arrive, events parsed, chunks handed out, no silent cuts.

Bytes are read with ``read1`` (whatever the socket has, up to 64 KiB), so an event reaches the
caller as soon as it arrives for chunked, close-delimited and gzip-compressed bodies alike;
``iter_content(n)`` would wait for n bytes on a close-delimited body. The Stream is a plain
iterator object (no generator holding a reference back to it), so dropping it closes the
connection at once through ``__del__``.
"""

from __future__ import annotations

import json
from time import monotonic
from typing import TYPE_CHECKING, Any, Iterator, NoReturn, Optional

from .accumulate import ChunkAccumulator
from .errors import (
    APIResponseValidationError,
    ChatminiError,
    IncompleteStreamError,
    excerpt,
    safe_excerpt,
    stream_error,
)
from .objects import ChatCompletion, ChatCompletionChunk
from .request import TIMING
from .sse import EventStreamParser
from .timeouts import read_part

if TYPE_CHECKING:
    import requests

    from chatmini.plugins.timing import Timing

    from .client import Client
    from .request import Request
    from .sse import ServerSentEvent

READ_SIZE = 65536
DONE = "[DONE]"


class Stream:
    """An iterator of ChatCompletionChunk objects over one streamed reply; a context manager.

    ``completed`` is True once ``[DONE]`` arrived; ``chunk_count`` and ``text`` (choice 0's
    content so far) tell what has been received. ``get_final_completion()`` drains the rest
    and assembles one ChatCompletion from every chunk.
    """

    def __init__(self, client: Client, request: Request, response: requests.Response) -> None:
        self.response = response
        self.request = request
        self.completed = False
        self._client = client
        self._host = client.plugin_host
        self._notify = self._host.wants_stream_events()
        self._notify_reads = self._host.wants_stream_reads()
        self._read = response.raw.read1
        self._parser = EventStreamParser()
        self._accumulator = ChunkAccumulator()
        self._events: Iterator[ServerSentEvent] = iter(())
        self._finished = False
        self._idle = read_part(request.timeout)
        self._waiting_since: Optional[float] = None  # first read of an event still incomplete
        self._waiting_bytes = 0  # and the bytes read for it since

    # -- what has arrived --------------------------------------------------------------------

    @property
    def chunk_count(self) -> int:
        return self._accumulator.chunk_count

    @property
    def text(self) -> str:
        """Choice 0's content received so far."""
        return self._accumulator.text

    @property
    def usage(self) -> Any:
        """The ``usage`` dict of the final chunk (``stream_options={"include_usage": True}``)."""
        return self._accumulator.usage

    @property
    def context(self) -> dict[str, Any]:
        """The call's context: what plugins kept for this call (``request.context``)."""
        return self.request.context

    @property
    def timing(self) -> Optional[Timing]:
        """This call's Timing (complete once the stream ended): ``context["timing"]``."""
        return self.request.context.get(TIMING)

    @property
    def request_id(self) -> Optional[str]:
        return self.response.headers.get("x-request-id")

    # -- iteration ---------------------------------------------------------------------------

    def __iter__(self) -> Stream:
        return self

    def __next__(self) -> ChatCompletionChunk:
        while True:
            for event in self._events:
                chunk = self._handle(event)
                if chunk is not None:
                    return ChatCompletionChunk(chunk)
                if self._finished:
                    raise StopIteration
            if self._finished:
                raise StopIteration
            self._events = iter(self._read_events())

    def _read_events(self) -> list[ServerSentEvent]:
        """The events completed by the next read; at end of body, decide clean end or truncation."""
        try:
            data = self._read(READ_SIZE, decode_content=True)
        except Exception as exc:  # urllib3/http.client/socket errors all mean a broken stream
            self._fail(self._incomplete(_read_failure(exc)), cause=exc)
        events = self._parser.feed(data) if data else self._parser.close()
        if events:
            self._waiting_since = None
            if self._notify_reads:
                self._host.stream_read(self.request, events, self._client)
            return events
        if data:
            self._check_incomplete(len(data))
            return events  # no event complete yet: read on
        if self._accumulator.finished:  # every choice reported finish_reason: nothing was lost
            self._end(None)
            return []
        self._fail(self._incomplete("the server closed the stream before [DONE]"))

    def _check_incomplete(self, size: int) -> None:
        """Bytes without a complete event. Each byte resets the socket's read timeout, so an
        event must also complete within the idle (read) timeout of its first bytes, and it may
        not grow beyond ``max_response_bytes`` (the parser holds it whole)."""
        now = monotonic()
        if self._waiting_since is None:
            self._waiting_since, self._waiting_bytes = now, size
            return
        self._waiting_bytes += size
        limit = self._client.max_response_bytes
        if limit is not None and self._waiting_bytes > limit:
            self._fail(APIResponseValidationError(
                f"Stream event from {self.request.endpoint} is larger than "
                f"max_response_bytes={limit:,}; raise the limit on the Client to accept it.",
                response=self.response, request=self.request,
            ))
        if self._idle is not None and now - self._waiting_since > self._idle:
            self._fail(self._incomplete(
                f"no complete event within the {self._idle:g} s idle timeout (bytes trickled in)"
            ))

    def _handle(self, event: ServerSentEvent) -> Optional[dict[str, Any]]:
        """One event: a chunk dict to hand out, or None for [DONE] (stream then finished)."""
        if self._notify:
            self._host.stream_event(self.request, event, self._client)
        data = event.data
        if data == DONE:
            self.completed = True
            self._end(None)
            return None
        try:
            chunk = json.loads(data)
        except (ValueError, RecursionError):  # absurdly deeply nested JSON overflows the parser
            chunk = None if event.event != "error" else data
        if event.event == "error" or (type(chunk) is dict and chunk.get("error")):
            self._fail(stream_error(chunk, self.request))
        if type(chunk) is not dict:
            self._fail(APIResponseValidationError(
                f"Stream event is not a JSON object: {safe_excerpt(data, self.request)!r}",
                response=self.response, body=data, request=self.request,
            ))
        self._accumulator.add(chunk)
        return chunk

    def _incomplete(self, why: str) -> IncompleteStreamError:
        count = self._accumulator.chunk_count
        return IncompleteStreamError(
            f"Stream incomplete: {why} (after {count} chunk{'s' if count != 1 else ''}).",
            request=self.request, partial_text=self._accumulator.text, chunk_count=count,
        )

    # -- ending ------------------------------------------------------------------------------

    def _fail(self, error: ChatminiError, cause: Optional[BaseException] = None) -> NoReturn:
        self._end(error, release=False)
        raise error from cause

    def _end(self, error: Optional[ChatminiError], release: bool = True) -> None:
        """Finish once: return the connection to the pool (or close it), then tell plugins."""
        if self._finished:
            return
        self._finished = True
        self._events = iter(())
        raw = self.response.raw
        if release:
            raw.drain_conn()  # the chunked terminator follows [DONE]: the connection is reusable
        self.response.close()
        self._host.stream_end(self.request, self, error, self._client)

    def close(self) -> None:
        """Stop reading and close the connection; the rest of the reply is discarded."""
        self._end(None, release=False)

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        if not getattr(self, "_finished", True):
            try:  # a dropped stream still closes its connection and tells plugins it ended
                self._end(None, release=False)
            except Exception:  # noqa: S110 - nothing may escape a finaliser
                pass

    # -- conveniences ------------------------------------------------------------------------

    def text_deltas(self) -> Iterator[str]:
        """Choice 0's content pieces as they arrive (what a terminal prints)."""
        for chunk in self:
            for choice in chunk._data.get("choices") or ():
                if choice.get("index", 0) == 0:
                    piece = (choice.get("delta") or {}).get("content")
                    if piece:
                        yield piece

    def get_final_completion(self) -> ChatCompletion:
        """Drain the rest of the stream and return the ChatCompletion assembled from all chunks."""
        for _ in self:
            pass
        meta = {"request_id": self.request_id, "context": self.request.context}
        return ChatCompletion(self._accumulator.result(), meta)

    def __repr__(self) -> str:
        state = "completed" if self.completed else ("closed" if self._finished else "open")
        return f"<Stream {state} chunks={self.chunk_count}>"


def _read_failure(exc: BaseException) -> str:
    text = str(exc).lower()
    if "timed out" in text or "timeout" in type(exc).__name__.lower():
        return "no data within the read (idle) timeout"
    return f"the connection broke ({type(exc).__name__}: {excerpt(str(exc), 120)})"
