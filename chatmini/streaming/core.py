"""The stream core: bytes read as they arrive, events parsed, items handed out, no silent cuts.

One core serves every streamed API; a small decoder per API (``chat``, ``responses``) turns
events into the items the caller gets and says when the stream is complete. Bytes are read as
they arrive (``wire``: a chunked body straight from the socket buffer, any other through
urllib3's ``read1``), so an event reaches the caller as soon as its bytes do, for chunked,
close-delimited and compressed bodies alike; ``iter_content(n)`` would wait for n bytes on a
close-delimited body. Real servers send one event per read, so everything here is paid per
event: arrival times are noted with one clock read per read and handed to plugins in batches
(``chatmini_stream_reads``), not through a hook call per read. The stream is a plain iterator
object (no generator holding a reference back to it), so dropping it closes the connection at
once through ``__del__``.
"""

from __future__ import annotations

from time import monotonic, perf_counter
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Generic,
    Iterator,
    NoReturn,
    Optional,
    Protocol,
    TypeVar,
)

from ..errors import (
    APIResponseValidationError,
    ChatminiError,
    IncompleteStreamError,
    excerpt,
    safe_excerpt,
    stream_error,
)
from ..redaction import scrub_exception_chain
from ..request import TIMING
from ..sse import EventStreamParser
from ..timeouts import deadline_reason, read_part
from .wire import WireError, open_body

if TYPE_CHECKING:
    import requests

    from chatmini.plugins.timing import Timing

    from ..client import Client
    from ..request import Request
    from ..sse import ServerSentEvent

READ_BATCH = 256  # reads noted before plugins are told (the first read is told at once)
T = TypeVar("T", covariant=True)
S = TypeVar("S", bound="EventStream[Any]")


class Decoder(Protocol[T]):
    """What one API adds to the stream core: events to items, and when the stream is done."""

    done: bool  # a terminal event arrived: the stream ends once it is handed out
    completed: bool  # and it says the reply is whole (Responses: not ``response.incomplete``)
    end: str  # what a complete stream ends with, for messages: "[DONE]"

    def decode(self, event: ServerSentEvent) -> Optional[T]:
        """The item for one event (None: nothing to hand out); raises the ChatminiError an
        error event stands for."""

    def complete_at_end(self) -> bool:
        """At the end of the body without a terminal event: True when nothing was lost."""

    def incomplete(self, why: str) -> IncompleteStreamError:
        """The truncation error, with what has been received so far."""


class EventStream(Generic[T]):
    """An iterator of one API's items over one streamed reply; a context manager.

    ``completed`` is True once the API's terminal event said the reply is whole (chat's
    ``[DONE]``, Responses' ``response.completed``).
    """

    def __init__(
        self, client: Client, request: Request, response: requests.Response, decoder: Decoder[T]
    ) -> None:
        self.response = response
        self.request = request
        self.completed = False
        self._client = client
        self._decoder = decoder
        self._host = client.plugin_host
        self._notify = self._host.wants_stream_events()
        # (perf_counter(), events) per read that completed events, kept only when asked for
        self._reads: Optional[list[tuple[float, list[ServerSentEvent]]]] = (
            [] if self._host.wants_stream_reads() else None
        )
        self._batch = 1
        self._body = open_body(response)
        self._read = self._body.read
        self._parser = EventStreamParser()
        self._events: Iterator[ServerSentEvent] = iter(())
        self._finished = False
        self._whole = False  # it ended at its end: a terminal event, or complete_at_end()
        self._error: Optional[ChatminiError] = None  # the error it ended with
        self._idle = read_part(request.timeout)
        self._waiting_since: Optional[float] = None  # first read of an event still incomplete
        limit = client.max_response_bytes
        self._max_event = limit if limit is not None else float("inf")  # one event's size

    # -- what has arrived --------------------------------------------------------------------

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

    # What every API's stream reports to plugins (``chatmini_stream_end``); each stream
    # class answers from its decoder.

    @property
    def chunk_count(self) -> int:
        """Events received so far that carried data (chat: chunks)."""
        raise NotImplementedError

    @property
    def usage(self) -> Any:
        """The reply's token ``usage`` dict once the stream reported it, else None."""
        return None

    @property
    def first_output_at(self) -> Optional[float]:
        """``time.perf_counter()`` when the first output delta arrived, for streams whose first
        events carry no output (Responses: ``response.created``); None when the first event
        is the first output (chat) or none arrived yet."""
        return None

    @property
    def first_content_at(self) -> Optional[float]:
        """``time.perf_counter()`` when the first piece of the answer arrived (content, a
        refusal or a tool call; not reasoning), else None."""
        return None

    # -- iteration ---------------------------------------------------------------------------

    def __iter__(self: S) -> S:
        return self

    def __next__(self) -> T:
        while True:
            for event in self._events:
                item = self._handle(event)
                if item is not None:
                    return item
                if self._finished:
                    raise StopIteration
            if self._finished:
                raise StopIteration
            self._events = iter(self._read_events())

    def _read_events(self) -> list[ServerSentEvent]:
        """The events completed by the next read; at end of body, decide clean end or truncation."""
        try:
            data = self._read()
        except Exception as exc:  # urllib3/http.client/socket errors all mean a broken stream
            self._fail(self._decoder.incomplete(_read_failure(exc)), cause=exc)
        if data:
            events = self._parser.feed(data)
            if events:
                if self._waiting_since is not None or len(data) > self._max_event:
                    self._check_sizes(events)  # an event this read completed may be too big
                self._waiting_since = None
                reads = self._reads
                if reads is not None:
                    reads.append((perf_counter(), events))
                    if len(reads) >= self._batch:
                        self._tell_reads()
                return events
            self._check_incomplete()
            return events  # no event complete yet: read on
        if not self._body.ended:
            self._check_incomplete()  # a read of chunk framing alone
            return []
        if self._decoder.complete_at_end():  # the API's own rule: nothing was lost
            self._whole = True
            self._end(None)
            return []
        self._fail(self._decoder.incomplete(
            f"the server closed the stream before {self._decoder.end}"
        ))

    def _tell_reads(self) -> None:
        """Hand the reads noted so far to ``chatmini_stream_reads`` (a batch per call)."""
        reads, self._reads = self._reads, []
        self._batch = READ_BATCH
        if reads:
            self._host.stream_reads(self.request, reads, self._client)

    def _check_sizes(self, events: list[ServerSentEvent]) -> None:
        """A read that completed events after earlier reads of an incomplete one, or larger
        than the limit: no event it completed, nor what the parser holds of the next one, may
        be larger than ``max_response_bytes``."""
        limit = self._max_event
        if self._parser.held > limit or any(len(event.data) > limit for event in events):
            self._too_large()

    def _check_incomplete(self) -> None:
        """A read without a complete event. The parser holds the event whole, so what it holds
        may not grow beyond ``max_response_bytes`` (checked from the event's first read on);
        and each byte resets the socket's read timeout, so an event must also complete within
        the idle (read) timeout of its first bytes."""
        if self._parser.held > self._max_event:
            self._too_large()
        now = monotonic()
        if self._waiting_since is None:
            self._waiting_since = now
            return
        if self._idle is not None and now - self._waiting_since > self._idle:
            self._fail(self._decoder.incomplete(
                f"no complete event within the {self._idle:g} s idle timeout (bytes trickled in)"
            ))

    def _too_large(self) -> NoReturn:
        self._fail(APIResponseValidationError(
            f"Stream event from {self.request.endpoint} is larger than "
            f"max_response_bytes={self._client.max_response_bytes:,}; raise the limit on the "
            "Client to accept it.",
            response=self.response, request=self.request,
        ))

    def _handle(self, event: ServerSentEvent) -> Optional[T]:
        """One event: the item to hand out, or None; a terminal event finishes the stream."""
        if self._notify:
            self._host.stream_event(self.request, event, self._client)
        try:
            item = self._decoder.decode(event)
        except ChatminiError as error:
            self._fail(error)
        if self._decoder.done:
            self.completed = self._decoder.completed
            self._whole = True
            self._end(None)
        return item

    # -- ending ------------------------------------------------------------------------------

    def _fail(self, error: ChatminiError, cause: Optional[BaseException] = None) -> NoReturn:
        if not self._finished:
            self._error = error
        self._end(error, release=False)
        if cause is not None:  # a read error's message may quote the server's bytes
            error.__cause__ = cause
            scrub_exception_chain(error, self.request.secrets())
        raise error from cause

    def _end(self, error: Optional[ChatminiError], release: bool = True) -> None:
        """Finish once: return the connection to the pool (or close it), then tell plugins."""
        if self._finished:
            return
        self._finished = True
        self._events = iter(())
        if release:
            self._body.release()  # the chunked terminator follows the end: reuse the connection
        self.response.close()
        if self._reads is not None:
            self._tell_reads()
        self._host.stream_end(self.request, self, error, self._client)

    def close(self) -> None:
        """Stop reading and close the connection; the rest of the reply is discarded."""
        self._end(None, release=False)

    def __enter__(self: S) -> S:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        if not getattr(self, "_finished", True):
            try:  # a dropped stream still closes its connection and tells plugins it ended
                self._end(None, release=False)
            except Exception:  # noqa: S110 - nothing may escape a finaliser
                pass

    def drain(self) -> None:
        """Read the rest of the stream, handing nothing out."""
        for _ in self:
            pass

    def read_whole(self) -> None:
        """Read the rest of the stream; raise again the error it ended with, or
        IncompleteStreamError if it was closed before its end. What the final-answer methods
        (``get_final_completion()``, ``get_final_response()``, ``until_done()``) call first, so
        none of them hands out part of an answer as if it were whole."""
        self.drain()
        if self._error is not None:
            raise self._error
        if not self._whole:
            raise self._decoder.incomplete(f"the stream was closed before {self._decoder.end}")


def _read_failure(exc: BaseException) -> str:
    limit = deadline_reason(exc)  # the call's total deadline
    if limit is not None:
        return limit
    if isinstance(exc, WireError):
        return str(exc)
    text = str(exc).lower()
    if "timed out" in text or "timeout" in type(exc).__name__.lower():
        return "no data within the read (idle) timeout"
    return f"the connection broke ({type(exc).__name__}: {excerpt(str(exc), 120)})"


# Shared by the decoders.


def event_object(
    event: ServerSentEvent, request: Request, response: requests.Response,
    loads: Callable[[str], Any],
) -> dict[str, Any]:
    """The JSON object an event carries, decoded by ``loads`` (the decoder's
    ``jsoncodec.decoder()``). An ``error`` event without one raises the error it stands for;
    any other event that is not a JSON object, APIResponseValidationError."""
    try:
        payload = loads(event.data)
    except (ValueError, RecursionError):  # absurdly deeply nested JSON overflows the parser
        payload = event.data
    if type(payload) is dict:
        return payload
    if event.event == "error":
        raise stream_error(payload, request)
    raise APIResponseValidationError(
        f"Stream event is not a JSON object: {safe_excerpt(event.data, request)!r}",
        response=response, body=event.data, request=request,
    )


def malformed(
    problem: str, what: str, data: str, request: Request, response: requests.Response
) -> APIResponseValidationError:
    """The error of a ``what`` (chunk, event) whose shape cannot be read: ``problem`` names the
    field, an excerpt shows the event (credentials replaced)."""
    return APIResponseValidationError(
        f"Stream {what} from {request.endpoint} has the wrong shape: {problem}: "
        f"{safe_excerpt(data, request)!r}",
        response=response, body=data, request=request,
    )


def truncation(
    why: str, request: Request, text: str, count: int, unit: str
) -> IncompleteStreamError:
    """The IncompleteStreamError of a stream cut short, with what it had received."""
    return IncompleteStreamError(
        f"Stream incomplete: {why} (after {count} {unit}{'s' if count != 1 else ''}).",
        request=request, partial_text=text, chunk_count=count,
    )
