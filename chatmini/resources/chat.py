"""``client.chat.completions``: Chat Completions, streamed or not, and the ``stream()`` helper."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Literal, Mapping, Union, overload

from ..errors import InvalidRequestError
from ..objects import ChatCompletion
from .base import APIResource, check_model

if TYPE_CHECKING:
    from ..client import Client
    from ..streaming import Stream
    from ..streaming.chat_events import ChatCompletionStreamManager


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
        ``timeout``. A message may be a dict or a message this client returned."""
        check_model(model)
        if isinstance(messages, (str, bytes, Mapping)):
            raise InvalidRequestError("messages must be a list of message dicts, not one value")
        messages = list(messages)
        if not messages:
            raise InvalidRequestError("messages must contain at least one message")
        body: dict[str, Any] = {"model": model, "messages": messages}
        if stream:
            body["stream"] = True
        body.update(params)
        return self._client.request(  # type: ignore[no-any-return]
            "POST", "/chat/completions", body, stream=bool(stream), cast=ChatCompletion,
        )

    def stream(self, **params: Any) -> ChatCompletionStreamManager:
        """openai-python's streaming helper: ``with client.chat.completions.stream(...) as s:``
        yields typed events (``content.delta``, ``tool_calls.function.arguments.done``, ...)
        and ``s.get_final_completion()``. The request is made when the block is entered."""
        from ..streaming.chat_events import ChatCompletionStreamManager

        if isinstance(params.get("response_format"), type):
            raise InvalidRequestError(
                "response_format must be a dict here (chatmini has no pydantic models): pass "
                '{"type": "json_schema", "json_schema": {...}} and json.loads the content'
            )
        if params.pop("stream", True) is not True:
            raise InvalidRequestError("chat.completions.stream() always streams: drop stream=")
        return ChatCompletionStreamManager(
            lambda: self.create(stream=True, **params), params.get("tools")
        )


class Chat(APIResource):
    """``client.chat``: holds ``completions``."""

    def __init__(self, client: Client) -> None:
        super().__init__(client)
        self.completions = Completions(client)
