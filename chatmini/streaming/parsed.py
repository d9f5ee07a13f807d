"""Streams whose final answer is parsed: ``create(stream=True, response_format=Class)`` and
``responses.stream(text_format=Class)``. The chunks and events are the plain stream's; only
``get_final_completion()`` / ``get_final_response()`` parse what was assembled, with the
call's parser (handed in, so the stream core knows nothing of formats)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from .chat import Stream
from .responses import ResponseStream

if TYPE_CHECKING:
    import requests

    from ..client import Client
    from ..objects import ChatCompletion, Response
    from ..request import Request


class ParsedStream(Stream):
    """A chat Stream whose ``get_final_completion()`` is a ParsedChatCompletion."""

    _parse: Callable[[Any], Any]

    def get_final_completion(self) -> ChatCompletion:
        """Read the rest; the assembled completion, parsed (``message.parsed``)."""
        return self._parse(super().get_final_completion())  # type: ignore[no-any-return]


class ParsedResponseStream(ResponseStream):
    """A ResponseStream whose ``get_final_response()`` is a ParsedResponse."""

    _parse: Callable[[Any], Any]

    def get_final_response(self) -> Response:
        """Read the rest; the terminal event's Response, parsed (``output_parsed``)."""
        return self._parse(super().get_final_response())  # type: ignore[no-any-return]


def parsed_stream(cls: Any, parse: Callable[[Any], Any]) -> Callable[..., Any]:
    """A stream factory (``stream_cls``) making ``cls`` streams that parse with ``parse``."""

    def make(client: Client, request: Request, response: requests.Response) -> Any:
        stream = cls(client, request, response)
        stream._parse = parse
        return stream

    return make
