"""The tool calls of one answer, run: arguments parsed into the tool's types, each call in a
thread of its own with a deadline (so several calls run at once, and a hung tool cannot hang
the loop), failures turned into the text the model is sent back.

Python cannot stop a thread: a tool past its deadline is abandoned (a daemon thread, so it
does not keep the interpreter alive) and its result, if it ever comes, dropped. Each thread
runs in a copy of the caller's context, so context variables (an OpenTelemetry span, ...)
reach the tools.
"""

from __future__ import annotations

import contextvars
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ..answer_errors import OutputValidationError
from ..structured import FunctionTool
from ..structured.parsing import dumps


@dataclass
class ToolInvocation:
    """One tool call the model asked for, and what came of it: ``output`` is the text sent
    back to the model (the result, or the error); ``error`` the exception, if any."""

    id: str
    name: str
    arguments: str
    turn: int
    parsed: Any = None
    result: Any = None
    output: str = ""
    error: Optional[BaseException] = None
    elapsed: float = 0.0
    timed_out: bool = False
    _done: threading.Event = field(default_factory=threading.Event, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def ok(self) -> bool:
        return self.error is None


class ToolNotFound(LookupError):
    """The model asked for a tool the loop does not have."""


def run_calls(calls: list[ToolInvocation], tools: dict[str, FunctionTool],
              timeout: Optional[float], parallel: int, scrub: Callable[[str], str]) -> None:
    """Run ``calls``, at most ``parallel`` at a time, each within ``timeout`` seconds (None:
    no limit, and a lone call runs in the caller's thread); fills in each invocation."""
    runnable = []
    for call in calls:
        tool = tools.get(call.name)
        try:
            if tool is None:
                raise ToolNotFound(f"no tool named {call.name!r} (tools: {', '.join(tools)})")
            call.parsed = tool.parse_arguments(call.arguments)
        except (ToolNotFound, OutputValidationError) as exc:
            _failed(call, exc, scrub)
            continue
        runnable.append((call, tool))
    if timeout is None and len(runnable) == 1:
        _work(*runnable[0], scrub)
        return
    for start in range(0, len(runnable), max(1, parallel)):
        wave = runnable[start:start + max(1, parallel)]
        for call, tool in wave:
            context = contextvars.copy_context()
            threading.Thread(target=context.run, args=(_work, call, tool, scrub), daemon=True,
                             name=f"chatmini-tool-{call.name}").start()
        deadline = None if timeout is None else time.monotonic() + timeout
        for call, _ in wave:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if call._done.wait(left):
                continue
            with call._lock:  # the tool may finish just now: one of the two outcomes wins
                if not call._done.is_set():
                    call.timed_out = True
                    call.elapsed = float(timeout or 0)
                    _failed(call, TimeoutError(
                        f"the tool did not return within {timeout:g} s"), scrub)


def _work(call: ToolInvocation, tool: FunctionTool, scrub: Callable[[str], str]) -> None:
    started = time.perf_counter()
    error: Optional[BaseException] = None
    try:
        result = tool.call(call.parsed)
        output = dumps(result)
    except KeyboardInterrupt:  # Ctrl-C during a call run in the caller's thread: stop
        call._done.set()
        raise
    except BaseException as exc:  # noqa: BLE001 - a tool's failure is reported, not raised here
        error = exc
    with call._lock:
        if not call.timed_out:  # the result of an abandoned call is dropped
            call.elapsed = time.perf_counter() - started
            if error is not None:
                _failed(call, error, scrub)
            else:
                call.result, call.output = result, output
        call._done.set()


def _failed(call: ToolInvocation, exc: BaseException, scrub: Callable[[str], str]) -> None:
    call.error = exc
    if isinstance(exc, OutputValidationError):
        why = f"invalid arguments for {call.name}: {exc.reason} at {exc.path}"
    else:
        why = f"{type(exc).__name__}: {exc}"
    call.output = scrub(f"Error: {why}")
