"""``client.chat.completions``: Chat Completions, streamed or not, and the ``stream()`` helper."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Literal, Mapping, Union, overload

from ..errors import InvalidRequestError
from ..objects import APIObject, ChatCompletion
from ..options import given
from .base import APIResource, check_model

if TYPE_CHECKING:
    from ..client import Client
    from ..objects.parsed import ParsedChatCompletion
    from ..streaming import Stream
    from ..streaming.chat_events import ChatCompletionStreamManager
    from ..structured import Parser
    from ..tools import ToolRun, ToolRunStream


class Completions(APIResource):
    """``client.chat.completions``."""

    @overload
    def create(
        self, *, model: str, messages: Iterable[Mapping[str, Any]],
        stream: Literal[False] = ..., **params: Any,
    ) -> ChatCompletion: ...

    @overload
    def create(
        self, *, model: str, messages: Iterable[Mapping[str, Any]],
        stream: Literal[True], **params: Any,
    ) -> Stream: ...

    def create(
        self,
        *,
        model: str,
        messages: Iterable[Mapping[str, Any]],
        stream: bool = False,
        **params: Any,
    ) -> Union[ChatCompletion, Stream]:
        """Create a chat completion; every other keyword goes into the JSON body untouched,
        but for the per-call options ``extra_headers``, ``extra_query``, ``extra_body`` and
        ``timeout``. A message may be a dict or a message this client returned. A class as
        ``response_format`` is sent as its strict JSON schema and the answer parsed, as by
        ``parse()`` (streamed: ``get_final_completion()`` is parsed)."""
        body = _body(model, messages, stream, params)
        format_ = params.get("response_format")
        if format_ is not None and type(format_) is not dict:
            from ..structured.bodies import chat_body

            parser = chat_body(body, tools=False)
            return self._send(body, stream, parser)  # type: ignore[no-any-return]
        return self._client.request(  # type: ignore[no-any-return]
            "POST", "/chat/completions", body, stream=stream, cast=ChatCompletion,
        )

    def parse(
        self, *, model: str, messages: Iterable[Mapping[str, Any]], response_format: Any = None,
        **params: Any,
    ) -> ParsedChatCompletion:
        """openai-python's ``parse``: ``response_format`` is a pydantic model, a dataclass, a
        TypedDict, a JSON schema dict or a format dict; each message gets ``parsed``, each
        call of a strict tool (``chatmini.function_tool``) ``parsed_arguments``. A refusal
        gives ``parsed=None``; ``finish_reason`` "length"/"content_filter" raise
        LengthFinishReasonError/ContentFilterFinishReasonError; JSON that does not fit raises
        OutputValidationError."""
        from ..structured.bodies import chat_body

        if params.pop("stream", False):
            raise InvalidRequestError("parse() does not stream: use chat.completions.stream()")
        if given(response_format) is not None:
            params["response_format"] = response_format
        body = _body(model, messages, False, params)
        body["stream"] = False  # as openai-python's parse() sends it
        return self._send(body, False, chat_body(body))  # type: ignore[no-any-return]

    def _send(self, body: dict[str, Any], stream: bool, parser: Parser) -> Any:
        from ..streaming.parsed import ParsedStream, parsed_stream

        return self._client.request(
            "POST", "/chat/completions", body, stream=stream, cast=ChatCompletion,
            post_parser=lambda completion, response, request: parser.chat(completion),
            stream_cls=parsed_stream(ParsedStream, parser.chat),
        )

    def stream(self, **params: Any) -> ChatCompletionStreamManager:
        """openai-python's streaming helper: ``with client.chat.completions.stream(...) as s:``
        yields typed events (``content.delta``, ``tool_calls.function.arguments.done``, ...)
        and ``s.get_final_completion()``. The request is made when the block is entered.
        ``response_format`` and tools parse as in ``parse()``: ``content.delta`` events carry
        the JSON so far as ``parsed``, ``content.done`` the parsed value."""
        from ..streaming.chat_events import ChatCompletionStreamManager
        from ..structured.bodies import chat_body

        if params.pop("stream", True) is not True:
            raise InvalidRequestError("chat.completions.stream() always streams: drop stream=")
        body = dict(params)
        parser = chat_body(body)
        return ChatCompletionStreamManager(
            lambda: self.create(stream=True, **body), body.get("tools"), parser
        )

    def run_tools(self, **params: Any) -> Union[ToolRun, ToolRunStream]:
        """Send, run the tools the model asks for, send their results, until the model answers
        without tools: ``run_tools(model=..., messages=..., tools=[functions], max_turns=8)``.
        Returns a ToolRun (``.messages``, the whole conversation; ``.final_completion``; ...);
        with ``stream=True`` a ToolRunStream of content deltas and tool events. See
        docs/tools.md for every option."""
        from ..tools import run_chat_tools

        return run_chat_tools(self, **params)


def _body(model: str, messages: Iterable[Mapping[str, Any]], stream: bool,
          params: dict[str, Any]) -> dict[str, Any]:
    check_model(model)
    if type(messages) is not list and (isinstance(messages, (str, bytes, Mapping)) or
                                       not isinstance(messages, Iterable)):  # None too
        raise InvalidRequestError(
            f"messages must be a list of message dicts, not {type(messages).__name__}")
    messages = list(messages)  # the caller's list is never the one plugins see
    if not messages:
        raise InvalidRequestError("messages must contain at least one message")
    for i, message in enumerate(messages):
        if type(message) is not dict and not isinstance(message, (Mapping, APIObject)):
            raise InvalidRequestError(
                f"messages[{i}] must be a message dict, not {type(message).__name__}")
    body: dict[str, Any] = {"model": model, "messages": messages}
    if stream:
        body["stream"] = True
    body.update(params)
    return body


class Chat(APIResource):
    """``client.chat``: holds ``completions``."""

    def __init__(self, client: Client) -> None:
        super().__init__(client)
        self.completions = Completions(client)
