"""Reasoning and answer text as they stream, apart: ``StreamPiece``s, for callers that show a
model's thinking (``stream.pieces()``, ``stream.reasoning_deltas()``).

Chat streams carry reasoning in a delta field of its own: ``reasoning_content`` (llama.cpp,
DeepSeek, older vLLM) or ``reasoning`` (vLLM, Ollama, OpenRouter); a server sending both sends
the same text, so the first present is read. Responses streams carry it in
``response.reasoning_summary_text.delta`` and ``response.reasoning_text.delta`` events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterator, NamedTuple

if TYPE_CHECKING:
    from typing import Protocol

    class _Items(Protocol):
        _pieces_of: Callable[[Any], Iterator[StreamPiece]]

        def __iter__(self) -> Iterator[Any]: ...

        def pieces(self) -> Iterator[StreamPiece]: ...


REASONING_FIELDS = ("reasoning_content", "reasoning")
TEXT_EVENT = "response.output_text.delta"
REASONING_EVENTS = frozenset({"response.reasoning_summary_text.delta",
                              "response.reasoning_text.delta"})


class StreamPiece(NamedTuple):
    """A piece of a streamed reply: answer text, or reasoning text when ``reasoning``."""

    text: str
    reasoning: bool = False


def _text(value: Any) -> str:
    return value if value.__class__ is str else ""


def reasoning_of(data: Any) -> str:
    """The reasoning text of a chat delta or message dict, under either name ("" if none)."""
    if type(data) is not dict:
        return ""
    return _text(data.get("reasoning_content")) or _text(data.get("reasoning"))


def chat_pieces(chunk: Any) -> Iterator[StreamPiece]:
    """The pieces of one ``chat.completion.chunk`` dict's choice 0: its reasoning, then its
    content; odd shapes carry none."""
    choices = chunk.get("choices") if type(chunk) is dict else None
    for choice in choices if type(choices) is list else ():
        if type(choice) is not dict or choice.get("index", 0) != 0:
            continue
        delta = choice.get("delta")
        reasoning = reasoning_of(delta)
        if reasoning:
            yield StreamPiece(reasoning, True)
        content = _text(delta.get("content")) if type(delta) is dict else ""
        if content:
            yield StreamPiece(content)


def completion_pieces(chunk: Any) -> Iterator[StreamPiece]:
    """The text of one legacy ``text_completion`` chunk dict's choice 0 (it has no reasoning)."""
    choices = chunk.get("choices") if type(chunk) is dict else None
    for choice in choices if type(choices) is list else ():
        if type(choice) is dict and choice.get("index", 0) == 0:
            text = _text(choice.get("text"))
            if text:
                yield StreamPiece(text)


def response_pieces(event: Any) -> Iterator[StreamPiece]:
    """The piece of one Responses stream event dict: ``response.output_text.delta``, or a
    reasoning delta; other events carry none."""
    if type(event) is not dict:
        return
    delta, kind = _text(event.get("delta")), event.get("type")
    if delta and kind == TEXT_EVENT:
        yield StreamPiece(delta)
    elif delta and kind in REASONING_EVENTS:
        yield StreamPiece(delta, True)


class Pieces:
    """``pieces()`` and ``reasoning_deltas()`` for a stream whose items' JSON ``_pieces_of``
    reads."""

    def pieces(self: _Items) -> Iterator[StreamPiece]:
        """The reply's reasoning and answer text as they arrive, in order, each a
        ``StreamPiece(text, reasoning)`` (chat: choice 0's)."""
        read = self._pieces_of
        for item in self:
            yield from read(item._data)

    def reasoning_deltas(self: _Items) -> Iterator[str]:
        """The reasoning pieces as they arrive; the answer is read past but kept (``text``,
        the final completion or response)."""
        for piece in self.pieces():
            if piece.reasoning:
                yield piece.text
