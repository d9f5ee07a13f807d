"""The tool loop: send, run the tools the model asks for, send their results, until the model
answers without tools or ``max_turns`` answers have come.

One loop serves both APIs (``apis``) and both modes: it is a generator of ToolRunEvents, which
``run_tools(stream=True)`` hands out (content deltas as they stream, each tool call and
result, each answer) and ``run_tools()`` drains, returning the ToolRun.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Generator, Iterator, Optional, Union

from ..answer_errors import MaxTurnsExceededError, ToolCallError, ToolTimeoutError
from ..errors import InvalidRequestError
from ..redaction import scrub_text, scrub_values
from ..structured import FunctionTool, function_tool
from ..usage import token_counts, total_tokens
from .apis import ChatTools, ResponsesTools
from .execute import ToolInvocation, run_calls

API = Union[ChatTools, ResponsesTools]
ERROR_MODES = ("return", "raise")


class ToolRun:
    """What a tool loop did. ``messages`` is the whole conversation to keep (chat messages, or
    the Responses API's input items; ``items`` is the same list), ``completions`` every answer
    (``final_completion``/``final_response`` the last), ``invocations`` every tool call with
    its result, ``content`` the final text (``parsed`` with a ``response_format``),
    ``usage`` the tokens of every turn added up, ``turns`` the number of answers."""

    def __init__(self, api: API, messages: list[Any]) -> None:
        self._api = api
        self.messages = messages
        self.completions: list[Any] = []
        self.invocations: list[ToolInvocation] = []

    @property
    def conversation(self) -> list[Any]:
        return self.messages

    items = conversation

    @property
    def turns(self) -> int:
        return len(self.completions)

    @property
    def final_completion(self) -> Any:
        return self.completions[-1] if self.completions else None

    final_response = final_completion

    @property
    def content(self) -> Optional[str]:
        return self._api.text(self.final_completion) if self.completions else None

    @property
    def parsed(self) -> Any:
        return self._api.parsed(self.final_completion) if self.completions else None

    @property
    def usage(self) -> dict[str, int]:
        first, second = self._api.usage_names
        totals = {first: 0, second: 0, "total_tokens": 0}
        for answer in self.completions:
            usage = answer.to_dict().get("usage")
            counts = token_counts(usage)
            totals[first] += counts[0] or 0
            totals[second] += counts[1] or 0
            totals["total_tokens"] += total_tokens(usage) or 0
        return totals

    def __repr__(self) -> str:
        return (f"<ToolRun turns={self.turns} tool_calls={len(self.invocations)} "
                f"messages={len(self.messages)}>")


@dataclass
class ToolRunEvent:
    """One event of a streamed tool loop: ``content.delta`` (``delta``), ``tool_call`` (an
    ``invocation`` about to run), ``tool_result`` (the ``invocation``, run: ``output``,
    ``error``), ``turn.done`` (the ``completion`` of that turn). ``turn`` counts answers."""

    type: str
    turn: int
    delta: Optional[str] = None
    invocation: Optional[ToolInvocation] = None
    completion: Any = None


class ToolLoop:
    def __init__(self, api: API, messages: list[Any], tools: dict[str, FunctionTool], *,
                 max_turns: int, tool_timeout: Optional[float], on_tool_error: str,
                 max_parallel: int, scrub: Callable[[str], str]) -> None:
        self.api = api
        self.run = ToolRun(api, messages)
        self.tools = tools
        self.max_turns = max_turns
        self.tool_timeout = tool_timeout
        self.on_tool_error = on_tool_error
        self.max_parallel = max_parallel
        self.scrub = scrub
        self.stream: Any = None  # the answer being streamed, closed if the loop is

    def events(self, stream: bool) -> Generator[ToolRunEvent, None, None]:
        api, run = self.api, self.run
        for turn in range(1, self.max_turns + 1):
            if stream:
                self.stream = api.send(run.messages, True)
                try:
                    for delta in api.deltas(self.stream):
                        yield ToolRunEvent("content.delta", turn, delta=delta)
                    answer = api.final(self.stream)
                finally:
                    self.stream.close()
                    self.stream = None
            else:
                answer = api.send(run.messages, False)
            run.completions.append(answer)
            calls = api.calls(answer, turn)
            api.record(run.messages, answer, calls)
            yield ToolRunEvent("turn.done", turn, completion=answer)
            if not calls:
                return
            if turn == self.max_turns:
                names = ", ".join(c.name for c in calls)
                raise MaxTurnsExceededError(
                    f"the model still asked for tools ({names}) after max_turns={self.max_turns}"
                    " answers; the conversation so far is on this error", run=run, pending=calls)
            for call in calls:
                yield ToolRunEvent("tool_call", turn, invocation=call)
            run_calls(calls, self.tools, self.tool_timeout, self.max_parallel, self.scrub)
            run.invocations.extend(calls)
            self._raise_failure(calls)
            for call in calls:
                yield ToolRunEvent("tool_result", turn, invocation=call)
            api.results(run.messages, calls)

    def _raise_failure(self, calls: list[ToolInvocation]) -> None:
        failed = next((c for c in calls if c.error is not None), None)
        if failed is None or self.on_tool_error != "raise":
            return
        kind = ToolTimeoutError if failed.timed_out else ToolCallError
        raise kind(f"tool {failed.name!r} failed: {failed.output[len('Error: '):]}",
                   call=failed, run=self.run) from failed.error


class ToolRunStream:
    """``run_tools(stream=True)``: iterate for ToolRunEvents; ``text_deltas()`` for the text
    alone; ``get_final_run()`` reads the rest and returns the ToolRun (also ``.run`` at any
    time); a context manager (leaving it closes the answer being streamed)."""

    def __init__(self, loop: ToolLoop) -> None:
        self._loop = loop
        self._events = loop.events(stream=True)
        self.run = loop.run

    def __iter__(self) -> ToolRunStream:
        return self

    def __next__(self) -> ToolRunEvent:
        return next(self._events)

    def text_deltas(self) -> Iterator[str]:
        for event in self:
            if event.type == "content.delta" and event.delta:
                yield event.delta

    def get_final_run(self) -> ToolRun:
        for _ in self:
            pass
        return self.run

    def close(self) -> None:
        self._events.close()  # runs the loop's finally: the answer being streamed is closed

    def __enter__(self) -> ToolRunStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def run_chat_tools(resource: Any, *, messages: Any, tools: Any,
                   **params: Any) -> Union[ToolRun, ToolRunStream]:
    """``client.chat.completions.run_tools``."""
    return _run(ChatTools, resource, messages, tools, params)


def run_responses_tools(resource: Any, *, input: Any, tools: Any,  # noqa: A002
                        **params: Any) -> Union[ToolRun, ToolRunStream]:
    """``client.responses.run_tools``."""
    return _run(ResponsesTools, resource, input, tools, params)


def _run(kind: Any, resource: Any, conversation: Any, tools: Any,
         params: dict[str, Any]) -> Union[ToolRun, ToolRunStream]:
    max_turns = params.pop("max_turns", 8)
    tool_timeout = params.pop("tool_timeout", 60.0)
    on_tool_error = params.pop("on_tool_error", "return")
    max_parallel = params.pop("max_parallel", 8)
    stream = params.pop("stream", False)
    _check(max_turns, tool_timeout, on_tool_error, max_parallel)
    by_name = _tool_table(tools)
    api = kind(resource, params, list(by_name.values()))
    secrets = [getattr(resource._client, "api_key", None)]
    loop = ToolLoop(api, api.start(conversation), by_name, max_turns=max_turns,
                    tool_timeout=tool_timeout, on_tool_error=on_tool_error,
                    max_parallel=max_parallel,
                    scrub=lambda text: scrub_values(scrub_text(text, {}), secrets))
    if stream:
        return ToolRunStream(loop)
    for _ in loop.events(stream=False):
        pass
    return loop.run


def _tool_table(tools: Any) -> dict[str, FunctionTool]:
    """The loop's tools by name: functions become ``function_tool(fn)``; a FunctionTool
    stays; anything else (a plain dict) is refused, as the loop could not run it."""
    if not isinstance(tools, (list, tuple)) or not tools:
        raise InvalidRequestError("run_tools needs tools=[...]: the functions the model may call")
    table: dict[str, FunctionTool] = {}
    for tool in tools:
        if not isinstance(tool, FunctionTool):
            if isinstance(tool, (dict, type)) or not callable(tool):
                raise InvalidRequestError(
                    f"run_tools runs Python functions: pass the function, or "
                    f"chatmini.function_tool(fn, ...), not {type(tool).__name__}")
            tool = function_tool(tool)
        if tool.function is None:
            raise InvalidRequestError(f"tool {tool.name!r} has no function to run "
                                      "(function_tool(cls, function=...))")
        if tool.name in table:
            raise InvalidRequestError(f"two tools are named {tool.name!r}: pass name= to one")
        table[tool.name] = tool
    return table


def _check(max_turns: Any, tool_timeout: Any, on_tool_error: Any, max_parallel: Any) -> None:
    if not isinstance(max_turns, int) or isinstance(max_turns, bool) or max_turns < 1:
        raise InvalidRequestError(f"max_turns must be an integer >= 1, not {max_turns!r}")
    if tool_timeout is not None and (not isinstance(tool_timeout, (int, float))
                                     or isinstance(tool_timeout, bool) or tool_timeout <= 0):
        raise InvalidRequestError(f"tool_timeout must be seconds > 0 or None, not "
                                  f"{tool_timeout!r}")
    if on_tool_error not in ERROR_MODES:
        raise InvalidRequestError(f"on_tool_error must be 'return' or 'raise', not "
                                  f"{on_tool_error!r}")
    if not isinstance(max_parallel, int) or isinstance(max_parallel, bool) or max_parallel < 1:
        raise InvalidRequestError(f"max_parallel must be an integer >= 1, not {max_parallel!r}")
