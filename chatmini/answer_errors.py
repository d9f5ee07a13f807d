"""Errors about an answer that arrived whole but cannot serve as asked: cut at the length
limit, stopped by the content filter, not matching the schema it was asked for, or a tool loop
that never ended. openai-python's names where it has them; each carries what did arrive."""

from __future__ import annotations

from typing import Any, Optional

from .errors import ChatminiError, excerpt
from .redaction import scrub_text


class LengthFinishReasonError(ChatminiError):
    """The answer stopped at the token limit (``finish_reason == "length"``, or a Responses
    ``incomplete`` for ``max_output_tokens``), so its JSON cannot be whole. ``completion`` is
    the ChatCompletion (or Response) as it arrived."""

    def __init__(self, *, completion: Any) -> None:
        usage = getattr(completion, "usage", None)
        detail = f" - {usage.to_dict() if hasattr(usage, 'to_dict') else usage}" if usage else ""
        super().__init__(
            "Could not parse response content as the length limit was reached" + detail
        )
        self.completion = completion


class ContentFilterFinishReasonError(ChatminiError):
    """The content filter stopped the answer (``finish_reason == "content_filter"``);
    ``completion`` is the ChatCompletion (or Response) as it arrived."""

    def __init__(self, *, completion: Any = None) -> None:
        super().__init__(
            "Could not parse response content as the request was rejected by the content filter"
        )
        self.completion = completion


class OutputValidationError(ChatminiError, ValueError):
    """The model's JSON (an answer, or a tool call's arguments) is not JSON, or does not match
    the schema it was asked for. ``path`` names the first place that is wrong (``$`` is the
    whole document, ``$.steps[1].output`` a field), ``raw`` is the text as it arrived, and
    ``completion`` the answer it came in (None when parsed on its own)."""

    def __init__(
        self, message: str, *, path: str = "$", raw: str = "", completion: Any = None
    ) -> None:
        shown = scrub_text(excerpt(raw, 120), {})  # a key a server echoed stays out of logs
        super().__init__(f"{message} at {path} (in {shown!r})")
        self.reason = message
        self.path = path
        self.raw = raw
        self.completion = completion


class ToolLoopError(ChatminiError):
    """A tool loop stopped before the model answered without tools. ``conversation`` holds
    every message (chat) or item (Responses) so far; ``run`` is the ToolRun (its completions,
    usage and tool calls)."""

    def __init__(self, message: str, *, run: Any = None) -> None:
        super().__init__(message)
        self.run = run
        self.conversation: list[Any] = list(getattr(run, "conversation", None) or [])


class MaxTurnsExceededError(ToolLoopError):
    """The model still asked for tools after ``max_turns`` answers. The tools of that last
    answer were not run: ``conversation`` ends with its assistant message (or function calls),
    and ``pending`` lists the calls it asked for."""

    def __init__(self, message: str, *, run: Any = None, pending: Optional[list[Any]] = None):
        super().__init__(message, run=run)
        self.pending = list(pending or [])


class ToolCallError(ToolLoopError):
    """A tool failed (raised, timed out, was unknown, or got arguments that do not fit it)
    while the loop was told to raise (``on_tool_error="raise"``). ``call`` is the ToolCall
    (name, arguments, id); the tool's own exception is the ``__cause__``."""

    def __init__(self, message: str, *, call: Any = None, run: Any = None) -> None:
        super().__init__(message, run=run)
        self.call = call


class ToolTimeoutError(ToolCallError):
    """A tool did not return within the loop's ``tool_timeout``. Python cannot stop a thread:
    the tool goes on in the background, and its result, if any, is dropped."""
