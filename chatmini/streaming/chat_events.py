"""``client.chat.completions.stream(...)``: openai-python's event helper over a chat Stream.

Each chunk becomes a ``chunk`` event, then the events it implies: ``content.delta``,
``refusal.delta``, ``tool_calls.function.arguments.delta``, ``logprobs.content.delta``, and
their ``.done`` events once a choice finishes or a new tool call starts (openai-python's order).
Snapshots are joined only when read, so the helper costs little per chunk. With a
``response_format`` (or strict tools), ``content.delta``'s ``parsed`` (and the arguments'
``parsed_arguments``) is the JSON so far (``structured.partial``, also read only when asked),
the ``.done`` events carry the parsed value, and ``get_final_completion()`` is parsed.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional

from ..answer_errors import ContentFilterFinishReasonError, LengthFinishReasonError
from ..objects import ChatCompletion
from ..structured import Parser, PartialJSON

if TYPE_CHECKING:
    from .chat import Stream


class ChatStreamEvent:
    """One event: ``type`` plus that type's fields (``delta``, ``snapshot``, ``name``, ...)."""

    __slots__ = ("type", "_fields")

    def __init__(self, type: str, **fields: Any) -> None:  # noqa: A002 - openai's name
        self.type = type
        self._fields = fields

    def __getattr__(self, name: str) -> Any:
        try:
            value = self._fields[name]
        except KeyError:
            raise AttributeError(f"a {self.type!r} event has no field {name!r}") from None
        return value() if isinstance(value, _Later) else value

    def __repr__(self) -> str:
        return f"<ChatStreamEvent {self.type} {sorted(self._fields)}>"


class _Later:
    """A field computed when read (snapshots: joining them per chunk would be quadratic)."""

    __slots__ = ("compute",)

    def __init__(self, compute: Callable[[], Any]) -> None:
        self.compute = compute

    def __call__(self) -> Any:
        return self.compute()


def _text_so_far(parts: list[str], count: int) -> _Later:
    return _Later(lambda: "".join(parts[:count]))


def _items_so_far(items: list[Any], count: int) -> _Later:
    return _Later(lambda: items[:count])


def _object(value: Any) -> dict[str, Any]:
    return value if type(value) is dict else {}


def _index(item: dict[str, Any]) -> int:
    index = item.get("index")
    return index if type(index) is int else 0


class _Partial:
    """The JSON of streamed pieces so far, read as of a given piece (``structured.partial``
    keeps its place, so reading every event's value costs one scan of the text in all)."""

    __slots__ = ("parts", "json", "fed")

    def __init__(self, parts: list[str]) -> None:
        self.parts = parts
        self.json = PartialJSON()
        self.fed = 0

    def at(self, count: int) -> _Later:
        return _Later(lambda: self.value(count))

    def value(self, count: int) -> Any:
        if count < self.fed:  # read late, after later pieces: read that prefix afresh
            again = PartialJSON()
            again.add("".join(self.parts[:count]))
            return again.value()
        for piece in self.parts[self.fed:count]:
            self.json.add(piece)
        self.fed = count
        return self.json.value()


class _ToolCall:
    __slots__ = ("name", "parts", "done", "partial")

    def __init__(self) -> None:
        self.name = ""
        self.parts: list[str] = []
        self.done = False
        self.partial = _Partial(self.parts)


class _ChoiceState:
    """What one choice has said so far, and which ``.done`` events it has had."""

    def __init__(self) -> None:
        self.text: dict[str, list[Any]] = {"content": [], "refusal": []}
        self.logprobs: dict[str, list[Any]] = {"content": [], "refusal": []}
        self.done: set[str] = set()
        self.tools: dict[int, _ToolCall] = {}
        self.current_tool: Optional[int] = None
        self.partial = _Partial(self.text["content"])


class EventBuilder:
    """Chunks in, events out, in openai-python's order: a chunk's delta events, then the
    ``.done`` events it implies. ``parsed_arguments`` is set for the tools the parser parses
    (``strict`` ones, as there), ``parsed`` when there is an output format."""

    def __init__(self, snapshot: Callable[[], ChatCompletion], tools: Any = None,
                 parser: Optional[Parser] = None) -> None:
        self._snapshot = snapshot
        self._choices: dict[int, _ChoiceState] = {}
        self._parser = parser if parser is not None else Parser(None, tools or ())
        self._strict = set(self._parser.tools)

    def events(self, chunk: Any) -> list[ChatStreamEvent]:
        out = [ChatStreamEvent("chunk", chunk=chunk, snapshot=_Later(self._snapshot))]
        for choice in chunk._data.get("choices") or ():
            if type(choice) is dict:
                self._choice_events(choice, out)
        return out

    def _choice_events(self, choice: dict[str, Any], out: list[ChatStreamEvent]) -> None:
        state = self._choices.setdefault(_index(choice), _ChoiceState())
        delta = _object(choice.get("delta"))
        for kind in ("content", "refusal"):
            piece = delta.get(kind)
            if type(piece) is str:
                parts = state.text[kind]
                parts.append(piece)
                extra = {}
                if kind == "content":  # openai's content.delta has parsed, None without a format
                    extra["parsed"] = (state.partial.at(len(parts))
                                       if self._parser.format is not None else None)
                out.append(ChatStreamEvent(f"{kind}.delta", delta=piece,
                                           snapshot=_text_so_far(parts, len(parts)), **extra))
        calls = [call for call in delta.get("tool_calls") or () if type(call) is dict]
        for call in calls:
            self._tool_delta(state, call, out)
        logprobs = _object(choice.get("logprobs"))
        for kind in ("content", "refusal"):
            items = logprobs.get(kind)
            if items and type(items) is list:
                seen = state.logprobs[kind]
                seen.extend(items)
                out.append(ChatStreamEvent(f"logprobs.{kind}.delta", **{kind: items},
                                           snapshot=_items_so_far(seen, len(seen))))
        if choice.get("finish_reason") is not None:
            self._check_finish(choice.get("finish_reason"), state)
            self._text_done(state, out)
            if state.current_tool is not None:
                self._tool_done(state, state.current_tool, out)
        for call in calls:  # a new tool call ends the text and the call before it
            index = _index(call)
            if state.current_tool != index:
                self._text_done(state, out)
                if state.current_tool is not None:
                    self._tool_done(state, state.current_tool, out)
            state.current_tool = index

    def _tool_delta(self, state: _ChoiceState, call: dict[str, Any], out: list[Any]) -> None:
        index = _index(call)
        tool = state.tools.setdefault(index, _ToolCall())
        function = _object(call.get("function"))
        name = function.get("name")
        if type(name) is str and name and name != tool.name:
            tool.name += name
        piece = function.get("arguments")
        piece = piece if type(piece) is str else ""
        tool.parts.append(piece)
        arguments = _text_so_far(tool.parts, len(tool.parts))
        out.append(ChatStreamEvent(
            "tool_calls.function.arguments.delta", name=tool.name, index=index,
            arguments=arguments, arguments_delta=piece,
            parsed_arguments=tool.partial.at(len(tool.parts)) if tool.name in self._strict
            else None,
        ))

    def _tool_done(self, state: _ChoiceState, index: int, out: list[Any]) -> None:
        tool = state.tools[index]
        if tool.done:
            return
        tool.done = True
        arguments = "".join(tool.parts)
        out.append(ChatStreamEvent(
            "tool_calls.function.arguments.done", name=tool.name, index=index,
            arguments=arguments,
            parsed_arguments=self._parser.arguments(tool.name, arguments, None),
        ))

    def _text_done(self, state: _ChoiceState, out: list[Any]) -> None:
        for kind in ("content", "refusal"):
            text = "".join(state.text[kind])
            seen = bool(text) if kind == "content" else bool(state.text[kind])
            if seen and kind not in state.done:
                state.done.add(kind)
                extra = {"parsed": self._parsed(text, state)} if kind == "content" else {}
                out.append(ChatStreamEvent(f"{kind}.done", **{kind: text}, **extra))
            key = f"logprobs.{kind}"
            if state.logprobs[kind] and key not in state.done:
                state.done.add(key)
                out.append(ChatStreamEvent(f"{key}.done", **{kind: list(state.logprobs[kind])}))


    def _parsed(self, text: str, state: _ChoiceState) -> Any:
        fmt = self._parser.format
        if fmt is None or state.text["refusal"]:
            return None
        return fmt.parse(text, None)

    def _check_finish(self, reason: Any, state: _ChoiceState) -> None:
        """A choice cut at the length limit or by the filter: its JSON will not be whole."""
        if reason not in ("length", "content_filter") or not (
                self._parser.format is not None or (state.tools and self._strict)):
            return
        snapshot = self._snapshot()
        if reason == "length":
            raise LengthFinishReasonError(completion=snapshot)
        raise ContentFilterFinishReasonError(completion=snapshot)


class ChatCompletionStream:
    """Iterate for events; ``get_final_completion()``, ``until_done()``,
    ``current_completion_snapshot``; ``close()``. The chat Stream underneath is ``.stream``."""

    def __init__(self, stream: Stream, tools: Any = None, parser: Optional[Parser] = None):
        self.stream = stream
        self._parser = parser
        self._builder = EventBuilder(lambda: stream.current_completion_snapshot, tools, parser)
        self._pending: deque[ChatStreamEvent] = deque()

    def __iter__(self) -> Iterator[ChatStreamEvent]:
        return self

    def __next__(self) -> ChatStreamEvent:
        while not self._pending:  # StopIteration of the stream ends this iterator too
            self._pending.extend(self._builder.events(next(self.stream)))
        return self._pending.popleft()

    @property
    def current_completion_snapshot(self) -> ChatCompletion:
        return self.stream.current_completion_snapshot

    def until_done(self) -> ChatCompletionStream:
        """Read the rest of the stream (its events are dropped); a stream that ended in an
        error raises it again, one closed before ``[DONE]`` IncompleteStreamError."""
        for _ in self:
            pass
        self.stream.read_whole()
        return self

    def get_final_completion(self) -> ChatCompletion:
        """Read the rest, then the ChatCompletion assembled from every chunk (parsed, a
        ParsedChatCompletion, when the call has a format or strict tools)."""
        self.until_done()
        completion = self.stream.get_final_completion()
        parser = self._parser
        return parser.chat(completion) if parser is not None and parser.parses else completion

    def close(self) -> None:
        self.stream.close()

    def __enter__(self) -> ChatCompletionStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class ChatCompletionStreamManager:
    """What ``chat.completions.stream(...)`` returns: the request is sent on ``__enter__``, and
    the stream closed on ``__exit__``."""

    def __init__(self, open_stream: Callable[[], Stream], tools: Any = None,
                 parser: Optional[Parser] = None) -> None:
        self._open = open_stream
        self._tools = tools
        self._parser = parser
        self._stream: Optional[ChatCompletionStream] = None

    def __enter__(self) -> ChatCompletionStream:
        self._stream = ChatCompletionStream(self._open(), self._tools, self._parser)
        return self._stream

    def __exit__(self, *exc_info: object) -> None:
        if self._stream is not None:
            self._stream.close()
