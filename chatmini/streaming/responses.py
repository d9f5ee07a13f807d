"""Responses API streams: typed events, one terminal event at the end, ``[DONE]`` optional.

api.openai.com ends a Responses stream at its terminal event with no ``[DONE]`` (some gateways
add one). The decoder hands out every event as a ResponseStreamEvent (unknown types too, so
new event types never break a stream), keeps the output text and items as they stream, and ends
the stream at the terminal event: ``response.completed`` (success), ``response.incomplete``
(ends without error, marked incomplete, never completed), ``response.failed`` or an ``error``
event (a typed chatmini error). ``[DONE]`` or the end of the body before a terminal event is a
truncation.
"""

from __future__ import annotations

from time import perf_counter
from typing import TYPE_CHECKING, Any, Iterator, Optional, cast

from ..errors import (
    APIError,
    APIResponseValidationError,
    IncompleteStreamError,
    safe_excerpt,
    stream_error,
)
from ..jsoncodec import decoder
from ..objects import Response, ResponseDeltaEvent, ResponseStreamEvent, output_text
from ..shapes import answer_problem, event_problem
from ..shapes import kind as kind_of
from .core import EventStream, event_object, malformed, truncation
from .pieces import TEXT_EVENT, Pieces, response_pieces

if TYPE_CHECKING:
    import requests

    from ..client import Client
    from ..request import Request
    from ..sse import ServerSentEvent

DONE = "[DONE]"
COMPLETED = "response.completed"
TEXT_DELTA = TEXT_EVENT
Key = tuple[str, int, int]  # (what, output_index, content/summary index) of streamed pieces

# Deltas and their final values, per kind of piece: event type -> (what, index field).
_DELTAS = {
    TEXT_DELTA: ("text", "content_index"),
    "response.refusal.delta": ("refusal", "content_index"),
    "response.function_call_arguments.delta": ("arguments", ""),
    "response.reasoning_summary_text.delta": ("summary", "summary_index"),
    "response.reasoning_text.delta": ("reasoning", "content_index"),
}
_DONES = {
    "response.output_text.done": ("text", "content_index", "text"),
    "response.refusal.done": ("refusal", "content_index", "refusal"),
    "response.function_call_arguments.done": ("arguments", "", "arguments"),
    "response.reasoning_summary_text.done": ("summary", "summary_index", "text"),
    "response.reasoning_text.done": ("reasoning", "content_index", "text"),
}


def _index(value: Any) -> int:
    return value if value.__class__ is int else 0


class ResponsesDecoder:
    """Events of a Responses stream to ResponseStreamEvents; a terminal event ends it."""

    end = "a terminal event (response.completed, response.incomplete or response.failed)"

    def __init__(self, request: Request, response: requests.Response) -> None:
        self.request = request
        self.response = response
        self.done = self.completed = False
        self.count = 0
        self.texts: list[str] = []  # output_text deltas, in arrival order
        self.first_output_at: Optional[float] = None  # the first delta, reasoning included
        self.first_content_at: Optional[float] = None  # the first that is not reasoning
        self.final: Optional[dict[str, Any]] = None  # the terminal event's response
        self.starting_after: Optional[int] = None  # hand out only events after this number
        self.snapshots = False  # deltas with ``snapshot`` (responses.stream(), as openai's)
        self.items: dict[int, dict[str, Any]] = {}  # output_index -> item (added, then done)
        self.finished: set[int] = set()  # output indexes whose output_item.done arrived
        self.pieces: dict[Key, list[str]] = {}
        self.values: dict[Key, str] = {}  # the .done events' final values
        self._run: Optional[tuple[str, Any, Any, list[str]]] = None  # the last delta's part
        self._loads = decoder()

    def decode(self, event: ServerSentEvent) -> Optional[ResponseStreamEvent]:
        data = event.data
        if data == DONE:
            raise self.incomplete("the server sent [DONE] before a terminal event")
        if not data:
            return None  # an empty data line: a proxy's keep-alive
        payload = event_object(event, self.request, self.response, self._loads)
        kind = payload.get("type")
        if kind is None and event.event != "message":
            kind = payload["type"] = event.event  # named only by the event: line
        self.count += 1
        known = _DELTAS.get(kind) if kind.__class__ is str else None
        if known is not None:
            problem = self._delta(known, payload)
        elif kind == "error" or event.event == "error" or (kind is None and payload.get("error")):
            raise self._error(_error_object(payload))  # flat, nested, or chat-style
        else:
            problem = event_problem(payload)
            if problem is None and kind.__class__ is str:
                problem = self._other(kind, payload, data)
        if problem is not None:
            raise malformed(problem, "event", data, self.request, self.response)
        after = self.starting_after
        if after is not None and _index(payload.get("sequence_number")) <= after:
            return None
        if self.snapshots and known is not None and known[0] in _SNAPSHOTS:
            pieces = self._run[3]  # type: ignore[index]  # _delta just set it
            return ResponseDeltaEvent(payload, pieces, len(pieces))
        return ResponseStreamEvent(payload)

    def _delta(self, known: tuple[str, str], payload: dict[str, Any]) -> Optional[str]:
        """One output delta: noted as output, kept with the pieces of its part (the part of
        the delta before it, usually, which skips building its key); what is wrong with its
        shape, if anything (``delta`` must be a string, the indexes integers)."""
        what, field = known
        if self.first_content_at is None:
            self._note(what in _REASONING)
        delta = payload.get("delta")
        if delta.__class__ is not str:
            return f"delta is {kind_of(delta)}, not a string"
        number = payload.get("sequence_number")
        if number is not None and number.__class__ is not int:
            return event_problem(payload)
        index, sub = payload.get("output_index"), payload.get(field) if field else 0
        run = self._run
        if run is not None and run[0] == what and run[1] == index and run[2] == sub:
            run[3].append(delta)  # the indexes of the delta before, already checked
        else:
            problem = event_problem(payload)
            if problem is not None:
                return problem
            pieces = self.pieces.setdefault((what, _index(index), _index(sub)), [])
            pieces.append(delta)
            self._run = (what, index, sub, pieces)
        if what == "text":
            self.texts.append(delta)
        return None

    def _other(self, kind: str, payload: dict[str, Any], data: str) -> Optional[str]:
        """Any event but an output delta: a final value, an item, a terminal event, or a kind
        of output chatmini does not keep; what is wrong with a final value's shape, if
        anything."""
        if kind.endswith(".delta"):
            if self.first_content_at is None:
                self._note(kind.startswith("response.reasoning"))
        elif kind in _DONES:
            what, field, value = _DONES[kind]
            text = payload.get(value)
            if text.__class__ is str:
                self.values[_key(what, field, payload)] = text
            elif text is not None:
                return f"{value} is {kind_of(text)}, not a string"
        elif kind in _ITEMS:
            self._item(kind == "response.output_item.done", payload)
        elif kind in _TERMINAL:
            self._terminal(kind, payload, data)
        return None

    def _note(self, reasoning: bool) -> None:
        """An output delta before any answer: the first delta's time, and the first answer
        (not reasoning) delta's."""
        if reasoning:
            if self.first_output_at is None:
                self.first_output_at = perf_counter()
            return
        self.first_content_at = perf_counter()
        if self.first_output_at is None:
            self.first_output_at = self.first_content_at

    def _item(self, done: bool, payload: dict[str, Any]) -> None:
        index, item = _index(payload.get("output_index")), payload.get("item")
        if type(item) is dict and (done or index not in self.finished):
            self.items[index] = item
            if done:
                self.finished.add(index)

    def _terminal(self, kind: str, payload: dict[str, Any], data: str) -> None:
        final = payload.get("response")
        if type(final) is not dict:
            raise APIResponseValidationError(
                f"{kind} event without a response object: {safe_excerpt(data, self.request)!r}",
                response=self.response, body=payload, request=self.request,
            )
        if not final.get("output") and (self.items or self.pieces or self.values):
            final["output"] = self.assembled()  # the backend streamed the items only
        problem = answer_problem("response", final)  # what get_final_response() hands out
        if problem is not None:
            raise malformed("response." + problem, "event", data, self.request, self.response)
        self.final = final
        if kind == "response.failed":
            error = final.get("error")
            raise self._error(error if type(error) is dict else {
                "message": f"The response failed (status {final.get('status')!r}) and the "
                "server gave no error", "type": "server_error",
            })
        self.done, self.completed = True, kind == COMPLETED

    def _error(self, error: Any) -> APIError:
        return stream_error({"error": error}, self.request)

    # -- what has arrived --------------------------------------------------------------------

    @property
    def text(self) -> str:
        """The output_text deltas so far, joined (and cached in place)."""
        texts = self.texts
        if len(texts) > 1:
            texts[:] = ["".join(texts)]
        return texts[0] if texts else ""

    def value(self, key: Key) -> Optional[str]:
        """A piece's final value: its .done event's, else its deltas joined (None: neither)."""
        if key in self.values:
            return self.values[key]
        pieces = self.pieces.get(key)
        return None if pieces is None else "".join(pieces)

    def assembled(self) -> list[dict[str, Any]]:
        """The output items as streamed: each output_item.done item, else the added item with
        its streamed text, arguments and summaries filled in."""
        indexes = set(self.items) | {k[1] for k in self.pieces} | {k[1] for k in self.values}
        return [self.items[i] if i in self.finished else _build(self, i) for i in sorted(indexes)]

    def complete_at_end(self) -> bool:
        return False  # only a terminal event says the reply is whole

    def incomplete(self, why: str) -> IncompleteStreamError:
        return truncation(why, self.request, self.text, self.count, "event")


_REASONING = frozenset(("summary", "reasoning"))
_SNAPSHOTS = frozenset(("text", "arguments"))  # the deltas openai's helper gives a snapshot
_ITEMS = frozenset(("response.output_item.added", "response.output_item.done"))
_TERMINAL = frozenset((COMPLETED, "response.incomplete", "response.failed"))


def _key(what: str, field: str, payload: dict[str, Any]) -> Key:
    return what, _index(payload.get("output_index")), _index(payload.get(field)) if field else 0


def _error_object(payload: dict[str, Any]) -> Any:
    """The error of an ``error`` event, nested (``{"error": {...}}``) or flat (its fields)."""
    if "error" in payload:
        return payload["error"]
    return {k: v for k, v in payload.items() if k not in ("type", "sequence_number")}


def _build(decoder: ResponsesDecoder, index: int) -> dict[str, Any]:
    """One output item whose output_item.done never came, from what was streamed for it."""
    item = dict(decoder.items.get(index) or {})
    parts: dict[str, dict[int, str]] = {}
    for key in (*decoder.pieces, *decoder.values):
        if key[1] == index:
            parts.setdefault(key[0], {})[key[2]] = decoder.value(key) or ""
    if "arguments" in parts:
        item.setdefault("type", "function_call")
        item["arguments"] = parts["arguments"][0]
    if "summary" in parts:
        item.setdefault("type", "reasoning")
        item["summary"] = [{"type": "summary_text", "text": t} for _, t in sorted(
            parts["summary"].items())]
    if "reasoning" in parts:
        item.setdefault("type", "reasoning")
        item["content"] = [{"type": "reasoning_text", "text": t} for _, t in sorted(
            parts["reasoning"].items())]
    texts = {**{i: {"type": "refusal", "refusal": t} for i, t in parts.get("refusal", {}).items()},
             **{i: {"type": "output_text", "text": t, "annotations": []}
                for i, t in parts.get("text", {}).items()}}
    if texts:
        item.setdefault("type", "message")
        item.setdefault("role", "assistant")
        item["content"] = [texts[i] for i in sorted(texts)]
    return item


class ResponseStream(Pieces, EventStream[ResponseStreamEvent]):
    """An iterator of ResponseStreamEvents over one streamed Response; a context manager.

    ``completed`` is True once ``response.completed`` arrived (a ``response.incomplete`` end is
    not); ``output_text`` is the text so far; ``get_final_response()`` reads the rest and
    returns the Response of the terminal event (its reasoning items included);
    ``pieces()`` and ``reasoning_deltas()`` hand out the reasoning text as it comes.
    """

    _pieces_of = staticmethod(response_pieces)

    def __init__(self, client: Client, request: Request, response: requests.Response) -> None:
        self._responses = ResponsesDecoder(request, response)
        super().__init__(client, request, response, self._responses)

    @property
    def chunk_count(self) -> int:
        """Events received so far."""
        return self._responses.count

    @property
    def output_text(self) -> str:
        """The output text so far (the final response's, once the stream ended)."""
        final = self._responses.final
        return output_text(final.get("output")) if final is not None else self._responses.text

    @property
    def usage(self) -> Any:
        """The terminal response's ``usage`` dict (``input_tokens``, ``output_tokens``, ...)."""
        final = self._responses.final
        return final.get("usage") if final is not None else None

    @property
    def first_output_at(self) -> Optional[float]:
        return self._responses.first_output_at

    @property
    def first_content_at(self) -> Optional[float]:
        return self._responses.first_content_at

    @property
    def status(self) -> Optional[str]:
        """The terminal response's ``status`` (``completed``, ``incomplete``), else None."""
        final = self._responses.final
        return final.get("status") if final is not None else None

    def text_deltas(self) -> Iterator[str]:
        """The output text pieces as they arrive (what a terminal prints)."""
        for event in self:
            if event._data.get("type") == TEXT_DELTA:
                delta = event._data.get("delta")
                if delta.__class__ is str and delta:
                    yield delta

    def until_done(self) -> ResponseStream:
        """Read the rest of the stream (openai-python's name); returns the stream. A stream
        that ended in an error raises it again, one closed before its terminal event
        IncompleteStreamError."""
        self.read_whole()
        return self

    def get_final_response(self) -> Response:
        """Read the rest of the stream and return the terminal event's Response (its output
        assembled from the streamed items when the server sent none); a stream that failed
        raises its error again, one that ended without a terminal event IncompleteStreamError."""
        self.read_whole()  # so the terminal event's response is there
        final = cast("dict[str, Any]", self._responses.final)
        meta = {"request_id": self.request_id, "context": self.request.context}
        return Response(final, meta)

    def __repr__(self) -> str:
        state = "completed" if self.completed else ("closed" if self._finished else "open")
        return f"<ResponseStream {state} events={self.chunk_count}>"

