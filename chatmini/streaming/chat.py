"""Chat Completions streams: ``chat.completion.chunk`` events, ``[DONE]`` at the end.

The decoder turns each event into a ChatCompletionChunk and merges it into the completion
assembled so far; a stream without ``[DONE]`` counts as complete only when every choice
reported a ``finish_reason`` (some servers omit ``[DONE]``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, Optional

from ..accumulate import ChunkAccumulator
from ..errors import IncompleteStreamError, stream_error
from ..objects import ChatCompletion, ChatCompletionChunk
from .core import EventStream, event_object, truncation

if TYPE_CHECKING:
    import requests

    from ..client import Client
    from ..request import Request
    from ..sse import ServerSentEvent

DONE = "[DONE]"


class ChatDecoder:
    """Events of a chat stream to ChatCompletionChunks; ``[DONE]`` ends it."""

    end = DONE

    def __init__(self, request: Request, response: requests.Response) -> None:
        self.request = request
        self.response = response
        self.accumulator = ChunkAccumulator()
        self.done = self.completed = False

    def decode(self, event: ServerSentEvent) -> Optional[ChatCompletionChunk]:
        data = event.data
        if data == DONE:
            self.done = self.completed = True
            return None
        chunk = event_object(event, self.request, self.response)
        if event.event == "error" or chunk.get("error"):
            raise stream_error(chunk, self.request)
        self.accumulator.add(chunk)
        return ChatCompletionChunk(chunk)

    def complete_at_end(self) -> bool:
        return self.accumulator.finished  # every choice reported finish_reason: nothing lost

    def incomplete(self, why: str) -> IncompleteStreamError:
        accumulator = self.accumulator
        return truncation(why, self.request, accumulator.text, accumulator.chunk_count, "chunk")


class Stream(EventStream[ChatCompletionChunk]):
    """An iterator of ChatCompletionChunk objects over one streamed reply; a context manager.

    ``completed`` is True once ``[DONE]`` arrived; ``chunk_count`` and ``text`` (choice 0's
    content so far) tell what has been received. ``get_final_completion()`` drains the rest
    and assembles one ChatCompletion from every chunk.
    """

    def __init__(self, client: Client, request: Request, response: requests.Response) -> None:
        self._chat = ChatDecoder(request, response)
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
        self.drain()
        meta = {"request_id": self.request_id, "context": self.request.context}
        return ChatCompletion(self._chat.accumulator.result(), meta)

    def __repr__(self) -> str:
        state = "completed" if self.completed else ("closed" if self._finished else "open")
        return f"<Stream {state} chunks={self.chunk_count}>"
