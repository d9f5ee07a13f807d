"""Merge streamed OpenAI ``chat.completion.chunk`` dicts into one ``chat.completion`` dict.

Reasoning text (``reasoning_content`` as llama.cpp and DeepSeek send it, ``reasoning`` as vLLM
and Ollama do) is kept per choice under the name the server used, never mixed into
``content``; the time the first answer piece arrived (content, refusal or tool call: not
reasoning) is noted once, for timing. Content after the first non-empty piece takes a fast
path, so neither costs the long content run anything.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any, Optional

__all__ = ["ChunkAccumulator"]

_META_KEYS = ("id", "created", "model", "system_fingerprint")


def _index(value: Any) -> int:
    """Normalise a server-sent ``index`` to an int, treating missing or garbage as 0."""
    return value if value.__class__ is int else 0


def _extend(parts: Optional[list[str]], text: str) -> list[str]:
    """The pieces of a text field once a string arrived for it ("" adds no piece)."""
    if parts is None:
        parts = []
    if text:
        parts.append(text)
    return parts


class _ToolCall:
    """Fragments of one tool call, merged by its ``index``."""

    __slots__ = ("id", "type", "name", "arguments")

    def __init__(self) -> None:
        self.id: str | None = None
        self.type: str | None = None
        self.name: str | None = None
        self.arguments: list[str] = []

    def add(self, tc: dict[str, Any]) -> None:
        """Merge one fragment; a repeated identical name (llama.cpp) is not appended again."""
        if self.id is None:
            tc_id = tc.get("id")
            if tc_id.__class__ is str and tc_id:
                self.id = tc_id
        if self.type is None:
            tc_type = tc.get("type")
            if tc_type.__class__ is str and tc_type:
                self.type = tc_type
        fn = tc.get("function")
        if fn.__class__ is not dict:
            return
        name = fn.get("name")
        if name.__class__ is str and name:
            if self.name is None:
                self.name = name
            elif name != self.name:
                self.name += name
        args = fn.get("arguments")
        if args.__class__ is str and args:
            self.arguments.append(args)

    def result(self) -> dict[str, Any]:
        """Render as a non-streaming ``tool_calls`` entry."""
        return {
            "id": self.id,
            "type": self.type or "function",
            "function": {"name": self.name or "", "arguments": "".join(self.arguments)},
        }


class _Choice:
    """Accumulated state of one choice (one ``index``)."""

    __slots__ = (
        "index",
        "role",
        "content",
        "refusal",
        "reasoning_content",
        "reasoning",
        "finish_reason",
        "logprobs",
        "lp_content",
        "lp_refusal",
        "tool_calls",
    )

    def __init__(self, index: int) -> None:
        self.index = index
        self.role: str | None = None
        self.content: list[str] | None = None  # None until a string arrives; [] until text
        self.refusal: list[str] | None = None
        self.reasoning_content: list[str] | None = None  # either name, as the server sent it
        self.reasoning: list[str] | None = None
        self.finish_reason: str | None = None
        self.logprobs = False  # a logprobs object was seen
        self.lp_content: list[Any] | None = None
        self.lp_refusal: list[Any] | None = None
        self.tool_calls: dict[int, _ToolCall] = {}

    def add(self, c: dict[str, Any]) -> bool:
        """Merge one ``choices[i]`` entry of a chunk (general, slower path); True when it
        carried a piece of the answer (content, refusal or a tool call, not reasoning)."""
        answered = False
        delta = c.get("delta")
        if delta.__class__ is dict and delta:
            role = delta.get("role")
            if self.role is None and role.__class__ is str and role:
                self.role = role
            content = delta.get("content")
            if content.__class__ is str:
                self.content = _extend(self.content, content)
                answered = content != ""
            refusal = delta.get("refusal")
            if refusal.__class__ is str:
                self.refusal = _extend(self.refusal, refusal)
                answered = answered or refusal != ""
            reasoning = delta.get("reasoning_content")
            if reasoning.__class__ is str:
                self.reasoning_content = _extend(self.reasoning_content, reasoning)
            reasoning = delta.get("reasoning")
            if reasoning.__class__ is str:
                self.reasoning = _extend(self.reasoning, reasoning)
            tool_calls = delta.get("tool_calls")
            if tool_calls.__class__ is list:
                calls = self.tool_calls
                for tc in tool_calls:
                    if tc.__class__ is dict:
                        answered = True
                        i = _index(tc.get("index", 0))
                        call = calls.get(i)
                        if call is None:
                            call = calls[i] = _ToolCall()
                        call.add(tc)
        finish_reason = c.get("finish_reason")
        if finish_reason is not None:
            self.finish_reason = finish_reason
        logprobs = c.get("logprobs")
        if logprobs.__class__ is dict:
            self.logprobs = True
            lp = logprobs.get("content")
            if lp.__class__ is list:
                if self.lp_content is None:
                    self.lp_content = list(lp)
                else:
                    self.lp_content.extend(lp)
            lp = logprobs.get("refusal")
            if lp.__class__ is list:
                if self.lp_refusal is None:
                    self.lp_refusal = list(lp)
                else:
                    self.lp_refusal.extend(lp)
        return answered

    def result(self) -> dict[str, Any]:
        """Render as a non-streaming ``choices`` entry."""
        message: dict[str, Any] = {
            "role": self.role or "assistant",
            "content": None if self.content is None else "".join(self.content),
            "refusal": None if self.refusal is None else "".join(self.refusal),
        }
        if self.reasoning_content is not None:
            message["reasoning_content"] = "".join(self.reasoning_content)
        if self.reasoning is not None:
            message["reasoning"] = "".join(self.reasoning)
        if self.tool_calls:
            message["tool_calls"] = [self.tool_calls[i].result() for i in sorted(self.tool_calls)]
        logprobs = None
        if self.logprobs:
            logprobs = {
                "content": None if self.lp_content is None else list(self.lp_content),
                "refusal": None if self.lp_refusal is None else list(self.lp_refusal),
            }
        return {
            "index": self.index,
            "message": message,
            "finish_reason": self.finish_reason,
            "logprobs": logprobs,
        }


class ChunkAccumulator:
    """Fold a stream of chunk dicts into the equivalent ``chat.completion``; cheap per chunk.

    ``first_content_at`` is ``time.perf_counter()`` when the first piece of an answer was
    added (None until then): after any reasoning, the time to first content token.
    """

    __slots__ = ("_choices", "_count", "_meta", "_missing", "_usage", "first_content_at")

    def __init__(self) -> None:
        self.first_content_at: Optional[float] = None
        self._choices: dict[int, _Choice] = {}
        self._count = 0
        self._meta: dict[str, Any] = {}
        self._missing: tuple[str, ...] = _META_KEYS
        self._usage: Any = None

    @property
    def chunk_count(self) -> int:
        """Number of chunk dicts added so far."""
        return self._count

    @property
    def text(self) -> str:
        """Content of choice 0 so far (joined lazily and cached in place)."""
        choice = self._choices.get(0)
        if choice is None or not choice.content:
            return ""
        parts = choice.content
        if len(parts) > 1:
            parts[:] = ["".join(parts)]
        return parts[0]

    @property
    def usage(self) -> Any:
        """The last ``usage`` a chunk carried (the final chunk, with ``include_usage``), or None."""
        return self._usage

    @property
    def finished(self) -> bool:
        """Whether at least one choice was seen and every seen choice has a finish_reason."""
        choices = self._choices
        return bool(choices) and all(c.finish_reason is not None for c in choices.values())

    def add(self, chunk: dict[str, Any]) -> bool:
        """Merge one parsed chunk; non-dict garbage anywhere in it is skipped, not fatal.

        True when the chunk took the fast path: one choice (an integer index, no logprobs, no
        finish_reason) whose delta holds only text (content, or reasoning under one name with
        content "" or null), and usage absent or an object. Its shape is then known to be
        readable, and the stream skips checking it again (chatmini/shapes.py)."""
        if chunk.__class__ is not dict:
            return False
        self._count += 1
        missing = self._missing
        if missing:
            for key in missing:
                if chunk.get(key) is not None:
                    self._take_meta(chunk)
                    break
        usage = chunk.get("usage")
        if usage is not None:
            self._usage = usage
        choices = chunk.get("choices")
        if choices.__class__ is not list or not choices:
            return False
        if len(choices) == 1:
            # Fast path: a delta of content alone for a choice whose text already arrived, or
            # of reasoning (under one name; content "" or null beside it is allowed) for a
            # choice already reasoning under that name.
            c = choices[0]
            if c.__class__ is dict:
                delta = c.get("delta")
                if (
                    delta.__class__ is dict
                    and c.get("finish_reason") is None
                    and c.get("logprobs") is None
                    and (usage is None or usage.__class__ is dict)
                ):
                    size = len(delta)
                    content = delta.get("content")
                    index = c.get("index", 0)
                    if size == 1 and content.__class__ is str:
                        if index.__class__ is int:
                            state = self._choices.get(index)
                            if state is not None and state.content:
                                state.content.append(content)
                                return True
                    elif (size == 1 or size == 2 and "content" in delta
                          and (content is None or content == "")) and index.__class__ is int:
                        state = self._choices.get(index)
                        if state is not None:
                            parts, text = state.reasoning_content, delta.get("reasoning_content")
                            if text.__class__ is not str:
                                parts, text = state.reasoning, delta.get("reasoning")
                            if parts is not None and text.__class__ is str:
                                parts.append(text)
                                return True
        states = self._choices
        for c in choices:
            if c.__class__ is dict:
                i = _index(c.get("index", 0))
                state = states.get(i)
                if state is None:
                    state = states[i] = _Choice(i)
                if state.add(c) and self.first_content_at is None:
                    self.first_content_at = perf_counter()
        return False

    def _take_meta(self, chunk: dict[str, Any]) -> None:
        """Record id/created/model/system_fingerprint from the first chunk carrying each."""
        missing = []
        for key in self._missing:
            value = chunk.get(key)
            if value is None:
                missing.append(key)
            else:
                self._meta[key] = value
        self._missing = tuple(missing)

    def result(self) -> dict[str, Any]:
        """Build the merged ``chat.completion`` dict (may be called repeatedly)."""
        meta = self._meta
        out: dict[str, Any] = {
            "id": meta.get("id"),
            "object": "chat.completion",
            "created": meta.get("created"),
            "model": meta.get("model"),
        }
        if "system_fingerprint" in meta:
            out["system_fingerprint"] = meta["system_fingerprint"]
        out["choices"] = [self._choices[i].result() for i in sorted(self._choices)]
        out["usage"] = self._usage
        return out
