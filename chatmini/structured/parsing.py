"""An answer parsed as asked: a ChatCompletion becomes a ParsedChatCompletion (each message's
``parsed``, each strict tool call's ``parsed_arguments``), a Response a ParsedResponse.

An answer stopped at the length limit or by the content filter raises
LengthFinishReasonError / ContentFilterFinishReasonError (its JSON cannot be whole); a
refusal parses to ``parsed=None`` with the text in ``message.refusal``; JSON that does not fit
raises OutputValidationError naming the path.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Optional

from ..answer_errors import ContentFilterFinishReasonError, LengthFinishReasonError
from ..objects import ChatCompletion, Response
from ..objects.parsed import (
    ParsedChatCompletion,
    ParsedChatCompletionMessage,
    ParsedChoice,
    ParsedFunction,
    ParsedFunctionToolCall,
    ParsedOutputContent,
    ParsedResponse,
    ParsedResponseOutputItem,
)
from .formats import OutputFormat, output_format
from .functions import FunctionTool


class Parser:
    """What a call parses: its output format (or None) and its tools, by name. Tools parse
    when built by ``function_tool`` or marked ``"strict": true`` (checked against their
    schema); other tools' calls keep ``parsed_arguments=None``."""

    def __init__(self, fmt: Optional[OutputFormat], tools: Iterable[Any] = ()) -> None:
        self.format = fmt
        self.tools: dict[str, OutputFormat] = {}
        for tool in tools or ():
            parsed = tool_format(tool)
            if parsed is not None:
                self.tools[parsed[0]] = parsed[1]

    @property
    def parses(self) -> bool:
        return self.format is not None or bool(self.tools)

    def arguments(self, name: Any, arguments: Any, completion: Any) -> Any:
        fmt = self.tools.get(name) if isinstance(name, str) else None
        return None if fmt is None else fmt.parse(arguments, completion)

    # -- Chat Completions --------------------------------------------------------------------

    def chat(self, completion: ChatCompletion) -> ParsedChatCompletion:
        data = completion.to_dict()
        meta = completion._meta
        choices = [self._choice(choice, completion) for choice in data.get("choices") or ()
                   if isinstance(choice, dict)]
        return ParsedChatCompletion(data, {"choices": choices}, meta)

    def _choice(self, choice: dict[str, Any], completion: Any) -> ParsedChoice:
        message = _dict(choice.get("message"))
        calls = message.get("tool_calls")
        self._check_finish(choice.get("finish_reason"), bool(calls), completion)
        content, refusal = message.get("content"), message.get("refusal")
        parsed = None
        if self.format is not None and isinstance(content, str) and content and not refusal:
            parsed = self.format.parse(content, completion)
        extra: dict[str, Any] = {"parsed": parsed}
        if isinstance(calls, list):
            extra["tool_calls"] = [self._tool_call(c, completion) if isinstance(c, dict) else c
                                   for c in calls]
        return ParsedChoice(choice, {"message": ParsedChatCompletionMessage(message, extra)})

    def _tool_call(self, call: dict[str, Any], completion: Any) -> ParsedFunctionToolCall:
        function = _dict(call.get("function"))
        parsed = self.arguments(function.get("name"), function.get("arguments"), completion)
        return ParsedFunctionToolCall(
            call, {"function": ParsedFunction(function, {"parsed_arguments": parsed})})

    def _check_finish(self, reason: Any, has_calls: bool, completion: Any) -> None:
        """A cut answer cannot be parsed: raise when there is something to parse in it."""
        if self.format is None and not (has_calls and self.tools):
            return
        if reason == "length":
            raise LengthFinishReasonError(completion=completion)
        if reason == "content_filter":
            raise ContentFilterFinishReasonError(completion=completion)

    # -- Responses ---------------------------------------------------------------------------

    def response(self, response: Response) -> ParsedResponse:
        data = response.to_dict()
        details = data.get("incomplete_details")
        reason = details.get("reason") if isinstance(details, dict) else None
        if data.get("status") == "incomplete":
            calls = any(isinstance(i, dict) and i.get("type") == "function_call"
                        for i in data.get("output") or ())
            self._check_finish("length" if reason == "max_output_tokens" else reason, calls,
                               response)
        output = data.get("output")
        items = [self._item(item, response) if isinstance(item, dict) else item
                 for item in (output if isinstance(output, list) else ())]
        return ParsedResponse(data, {"output": items}, response._meta)

    def _item(self, item: dict[str, Any], response: Any) -> ParsedResponseOutputItem:
        extra: dict[str, Any] = {}
        if item.get("type") == "function_call":
            extra["parsed_arguments"] = self.arguments(item.get("name"), item.get("arguments"),
                                                       response)
        content = item.get("content")
        if item.get("type") == "message" and isinstance(content, list):
            extra["content"] = [self._part(part, response) if isinstance(part, dict) else part
                                for part in content]
        return ParsedResponseOutputItem(item, extra)

    def _part(self, part: dict[str, Any], response: Any) -> ParsedOutputContent:
        parsed = None
        text = part.get("text")
        if (self.format is not None and part.get("type") == "output_text"
                and isinstance(text, str) and text):
            parsed = self.format.parse(text, response)
        return ParsedOutputContent(part, {"parsed": parsed})


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def tool_format(tool: Any) -> Optional[tuple[str, OutputFormat]]:
    """(name, arguments format) of a tool whose calls are parsed: a FunctionTool, or a
    function tool dict marked strict (either API's shape); else None."""
    if isinstance(tool, FunctionTool):
        return tool.name, tool.format
    if not isinstance(tool, dict) or tool.get("type") != "function":
        return None
    spec = tool.get("function", tool)
    if not isinstance(spec, dict) or spec.get("strict") is not True:
        return None
    name = spec.get("name")
    parameters = spec.get("parameters")
    if not isinstance(name, str) or not isinstance(parameters, dict):
        return None
    fmt = output_format({"type": "json_schema", "json_schema": {
        "name": name, "schema": parameters, "strict": True}})
    return (name, fmt) if fmt is not None else None


def dumps(value: Any) -> str:
    """A tool result as the text sent back to the model: strings as they are, anything else
    as JSON (dataclasses and objects by their fields)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, default=_plain, ensure_ascii=False)


def _plain(value: Any) -> Any:
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    for method in ("model_dump", "to_dict"):
        dump = getattr(value, method, None)
        if callable(dump):
            return dump(mode="json") if method == "model_dump" else dump()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    value_of = getattr(value, "value", None)  # an Enum member
    if value_of is not None and type(value).__module__ != "builtins":
        return value_of
    return str(value)
