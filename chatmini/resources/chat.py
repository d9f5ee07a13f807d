"""``client.chat.completions``: Chat Completions, streamed or not."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Literal, Mapping, Optional, Union, overload

from ..errors import InvalidRequestError
from ..objects import ChatCompletion

if TYPE_CHECKING:
    from ..client import Client
    from ..streaming import Stream
    from ..timeouts import Timeout


class Completions:
    """``client.chat.completions``."""

    def __init__(self, client: Client) -> None:
        self._client = client

    @overload
    def create(
        self, *, model: str, messages: Iterable[Mapping[str, Any]],
        stream: Literal[False] = ..., timeout: Timeout = ...,
        extra_headers: Optional[Mapping[str, str]] = ..., **params: Any,
    ) -> ChatCompletion: ...

    @overload
    def create(
        self, *, model: str, messages: Iterable[Mapping[str, Any]],
        stream: Literal[True], timeout: Timeout = ...,
        extra_headers: Optional[Mapping[str, str]] = ..., **params: Any,
    ) -> Stream: ...

    def create(
        self,
        *,
        model: str,
        messages: Iterable[Mapping[str, Any]],
        stream: bool = False,
        timeout: Timeout = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        **params: Any,
    ) -> Union[ChatCompletion, Stream]:
        """Create a chat completion; every other keyword goes into the JSON body untouched."""
        if not isinstance(model, str) or not model:
            raise InvalidRequestError(f"model must be a non-empty string, not {model!r}")
        if type(messages) is not list and isinstance(messages, (str, bytes, Mapping)):
            raise InvalidRequestError("messages must be a list of message dicts, not one value")
        messages = list(messages)
        if not messages:
            raise InvalidRequestError("messages must contain at least one message")
        body: dict[str, Any] = {"model": model, "messages": messages}
        if stream:
            body["stream"] = True
        body.update(params)
        return self._client.request(  # type: ignore[no-any-return]
            "POST", "/chat/completions", body, stream=stream, timeout=timeout,
            extra_headers=extra_headers, cast=ChatCompletion,
        )


class Chat:
    """``client.chat``: holds ``completions``."""

    def __init__(self, client: Client) -> None:
        self.completions = Completions(client)
