"""Legacy completions streams: ``text_completion`` chunks whose ``choices[i].text`` are pieces.

The wire is the chat stream's (JSON events, error events, ``[DONE]``), so the decoder is the
chat decoder with Completion items and a text accumulator, and the same rule for a stream
without ``[DONE]``: complete only when every choice asked for (``n``) reported a
``finish_reason`` and the usage chunk came if ``include_usage`` asked for it.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any, Iterator, Optional

from ..objects import Completion
from ..shapes import completion_problem
from .chat import ChatDecoder, Stream
from .pieces import completion_pieces

_META_KEYS = ("id", "created", "model", "system_fingerprint")


class _Choice:
    __slots__ = ("index", "parts", "finish_reason", "logprobs")

    def __init__(self, index: int) -> None:
        self.index = index
        self.parts: list[str] = []
        self.finish_reason: Any = None
        self.logprobs: Any = None


class TextAccumulator:
    """Completion chunks merged into one ``text_completion``: text per choice, finish reasons,
    the first id/model/created, the last usage, when the first text came."""

    def __init__(self) -> None:
        self.chunk_count = 0
        self.usage: Any = None
        self.first_content_at: Optional[float] = None
        self._choices: dict[int, _Choice] = {}
        self._meta: dict[str, Any] = {}

    def add(self, chunk: dict[str, Any]) -> None:
        self.chunk_count += 1
        for key in _META_KEYS:
            if key not in self._meta and chunk.get(key) is not None:
                self._meta[key] = chunk[key]
        if chunk.get("usage") is not None:
            self.usage = chunk["usage"]
        choices = chunk.get("choices")
        for choice in choices if type(choices) is list else ():
            if type(choice) is not dict:
                continue
            index = choice.get("index")
            index = index if type(index) is int else 0
            state = self._choices.get(index) or self._choices.setdefault(index, _Choice(index))
            text = choice.get("text")
            if type(text) is str and text:
                state.parts.append(text)
                if self.first_content_at is None:
                    self.first_content_at = perf_counter()
            if choice.get("finish_reason") is not None:
                state.finish_reason = choice["finish_reason"]
            if choice.get("logprobs") is not None:
                state.logprobs = choice["logprobs"]

    @property
    def text(self) -> str:
        """Choice 0's text so far."""
        choice = self._choices.get(0)
        return "".join(choice.parts) if choice is not None else ""

    def result(self) -> dict[str, Any]:
        meta = self._meta
        return {
            "id": meta.get("id"), "object": "text_completion", "created": meta.get("created"),
            "model": meta.get("model"),
            **({"system_fingerprint": meta["system_fingerprint"]}
               if "system_fingerprint" in meta else {}),
            "choices": [
                {"index": c.index, "text": "".join(c.parts), "finish_reason": c.finish_reason,
                 "logprobs": c.logprobs}
                for c in (self._choices[i] for i in sorted(self._choices))
            ],
            "usage": self.usage,
        }


class CompletionDecoder(ChatDecoder):
    """Events of a legacy completions stream to Completion chunks; ``[DONE]`` ends it."""

    item_cls = Completion
    accumulator_cls = TextAccumulator
    shape_problem = staticmethod(completion_problem)


class CompletionStream(Stream):
    """An iterator of Completion chunks (``chunk.choices[0].text``); a context manager.

    ``text``, ``chunk_count``, ``usage`` and ``completed`` as on the chat Stream;
    ``get_final_completion()`` drains the rest and returns one Completion.
    """

    decoder_cls = CompletionDecoder
    final_cls = Completion
    _pieces_of = staticmethod(completion_pieces)

    def text_deltas(self) -> Iterator[str]:
        """Choice 0's text pieces as they arrive."""
        for chunk in self:
            for choice in chunk._data.get("choices") or ():
                if type(choice) is dict and choice.get("index", 0) == 0 and choice.get("text"):
                    yield choice["text"]
