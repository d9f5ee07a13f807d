"""Chat Completions streams: ``chat.completion.chunk`` events, ``[DONE]`` at the end.

The decoder turns each event into a ChatCompletionChunk and merges it into the completion
assembled so far. ``[DONE]`` says the stream is whole; some servers omit it, so a stream that
ends without it counts as complete only when every choice the request asked for (``n``)
reported a ``finish_reason`` and the usage chunk came if ``include_usage`` asked for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional, Protocol

from ..accumulate import ChunkAccumulator
from ..errors import IncompleteStreamError, stream_error
from ..jsoncodec import decoder
from ..objects import ChatCompletion, ChatCompletionChunk
from ..shapes import chat_problem
from .core import EventStream, event_object, malformed, truncation
from .pieces import Pieces, chat_pieces

if TYPE_CHECKING:
    import requests

    from ..client import Client
    from ..request import Request
    from ..sse import ServerSentEvent

DONE = "[DONE]"


class Accumulator(Protocol):
    """What a decoder keeps of the chunks so far (ChunkAccumulator, or the legacy
    completions' TextAccumulator)."""

    @property
    def chunk_count(self) -> int: ...

    @property
    def text(self) -> str: ...

    @property
    def usage(self) -> Any: ...

    first_content_at: Optional[float]  # perf_counter() of the first answer piece, else None

    def add(self, chunk: dict[str, Any]) -> Optional[bool]:
        """Merge a chunk; True when its shape is known to be readable (no check needed)."""

    def result(self) -> dict[str, Any]: ...


class ChatDecoder:
    """Events of a chat stream to ChatCompletionChunks; ``[DONE]`` ends it.

    The legacy completions decoder is this one with another item type and accumulator.
    """

    end = DONE
    item_cls: Callable[[dict[str, Any]], Any] = ChatCompletionChunk
    accumulator_cls: Callable[[], Accumulator] = ChunkAccumulator
    shape_problem: Callable[[dict[str, Any]], Optional[str]] = staticmethod(chat_problem)

    def __init__(self, request: Request, response: requests.Response) -> None:
        self.request = request
        self.response = response
        self.accumulator = self.accumulator_cls()
        self.done = self.completed = False
        self._loads = decoder()
        self._shape = self.shape_problem
        self.lacking = ""  # what a stream that ended without [DONE] lacked

    def decode(self, event: ServerSentEvent) -> Optional[ChatCompletionChunk]:
        data = event.data
        if data == DONE:
            self.done = self.completed = True
            return None
        if not data and event.event != "error":
            return None  # ``data:`` with no value: a proxy's keep-alive, as a comment is
        chunk = event_object(event, self.request, self.response, self._loads)
        if event.event == "error" or chunk.get("error"):
            raise stream_error(chunk, self.request)
        if not self.accumulator.add(chunk):  # the usual chunk's shape is known once merged
            problem = self._shape(chunk)
            if problem is not None:
                raise malformed(problem, "chunk", data, self.request, self.response)
        item: ChatCompletionChunk = self.item_cls(chunk)
        return item

    def complete_at_end(self) -> bool:
        """Without ``[DONE]`` (some servers omit it) nothing was lost only when every choice
        the request asked for (``n``) reported a finish_reason, and the usage chunk came when
        ``stream_options.include_usage`` asked for it."""
        self.lacking = _lacking(self.accumulator, self.request.params)
        return not self.lacking

    def incomplete(self, why: str) -> IncompleteStreamError:
        accumulator = self.accumulator
        if self.lacking:
            why = f"{why}; {self.lacking}"
        return truncation(why, self.request, accumulator.text, accumulator.chunk_count, "chunk")


def _lacking(accumulator: Accumulator, params: Optional[dict[str, Any]]) -> str:
    """What a stream without ``[DONE]`` lacks to be whole ("" when nothing)."""
    params = params or {}
    n = params.get("n")
    wanted = n if type(n) is int and n > 1 else 1
    choices = accumulator.result()["choices"]
    seen = {c["index"] for c in choices}
    missing = [i for i in range(wanted) if i not in seen]
    if missing:
        return f"choice {missing[0]} of n={wanted} never arrived"
    open_ = [c["index"] for c in choices if c["finish_reason"] is None]
    if open_:
        return f"choice {open_[0]} has no finish_reason"
    options = params.get("stream_options")
    if type(options) is dict and options.get("include_usage") and accumulator.usage is None:
        return "the usage chunk that stream_options.include_usage asks for never arrived"
    return ""


class Stream(Pieces, EventStream[ChatCompletionChunk]):
    """An iterator of ChatCompletionChunk objects over one streamed reply; a context manager.

    ``completed`` is True once ``[DONE]`` arrived; ``chunk_count`` and ``text`` (choice 0's
    content so far) tell what has been received. ``get_final_completion()`` drains the rest
    and assembles one ChatCompletion from every chunk (reasoning text included, apart from
    the content); ``pieces()`` and ``reasoning_deltas()`` hand out the reasoning as it comes.
    """

    decoder_cls = ChatDecoder
    _pieces_of = staticmethod(chat_pieces)
    final_cls: Callable[[dict[str, Any], dict[str, Any]], Any] = ChatCompletion

    def __init__(self, client: Client, request: Request, response: requests.Response) -> None:
        self._chat = self.decoder_cls(request, response)
        super().__init__(client, request, response, self._chat)

    @property
    def chunk_count(self) -> int:
        return self._chat.accumulator.chunk_count

    @property
    def text(self) -> str:
        """Choice 0's content received so far."""
        return self._chat.accumulator.text

    @property
    def usage(self) -> Any:
        """The ``usage`` dict of the final chunk (``stream_options={"include_usage": True}``)."""
        return self._chat.accumulator.usage

    @property
    def first_content_at(self) -> Optional[float]:
        return self._chat.accumulator.first_content_at

    def text_deltas(self) -> Iterator[str]:
        """Choice 0's content pieces as they arrive (what a terminal prints)."""
        for chunk in self:
            for choice in chunk._data.get("choices") or ():
                if choice.get("index", 0) == 0:
                    piece = (choice.get("delta") or {}).get("content")
                    if piece:
                        yield piece

    @property
    def current_completion_snapshot(self) -> ChatCompletion:
        """The completion assembled from the chunks received so far."""
        meta = {"request_id": self.request_id, "context": self.request.context}
        return self.final_cls(self._chat.accumulator.result(), meta)  # type: ignore[no-any-return]

    def get_final_completion(self) -> ChatCompletion:
        """Read the rest of the stream and return the ChatCompletion assembled from all chunks;
        a stream that ended in an error raises it again (every time), one closed before its
        end IncompleteStreamError (``current_completion_snapshot`` has what arrived)."""
        self.read_whole()
        return self.current_completion_snapshot

    def __repr__(self) -> str:
        state = "completed" if self.completed else ("closed" if self._finished else "open")
        return f"<{type(self).__name__} {state} chunks={self.chunk_count}>"
