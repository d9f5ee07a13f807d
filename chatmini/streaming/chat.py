"""Chat Completions streams: ``chat.completion.chunk`` events, ``[DONE]`` at the end.

The decoder turns each event into a ChatCompletionChunk and merges it into the completion
assembled so far; a stream without ``[DONE]`` counts as complete only when every choice
reported a ``finish_reason`` (some servers omit ``[DONE]``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, Optional

from ..accumulate import ChunkAccumulator
from ..errors import (
    APIResponseValidationError,
    IncompleteStreamError,
    safe_excerpt,
    stream_error,
)
from ..jsoncodec import decoder
from ..objects import ChatCompletion, ChatCompletionChunk
from .core import EventStream

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
        self.done = False
        self._loads = decoder()

    def decode(self, event: ServerSentEvent) -> Optional[ChatCompletionChunk]:
        data = event.data
        if data == DONE:
            self.done = True
            return None
        try:
            chunk = self._loads(data)
        except (ValueError, RecursionError):  # absurdly deeply nested JSON overflows the parser
            chunk = None if event.event != "error" else data
        if event.event == "error" or (type(chunk) is dict and chunk.get("error")):
            raise stream_error(chunk, self.request)
        if type(chunk) is not dict:
            raise APIResponseValidationError(
                f"Stream event is not a JSON object: {safe_excerpt(data, self.request)!r}",
                response=self.response, body=data, request=self.request,
            )
        self.accumulator.add(chunk)
        return ChatCompletionChunk(chunk)

    def complete_at_end(self) -> bool:
        return self.accumulator.finished  # every choice reported finish_reason: nothing lost

    def incomplete(self, why: str) -> IncompleteStreamError:
        count = self.accumulator.chunk_count
        return IncompleteStreamError(
            f"Stream incomplete: {why} (after {count} chunk{'s' if count != 1 else ''}).",
            request=self.request, partial_text=self.accumulator.text, chunk_count=count,
        )


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
