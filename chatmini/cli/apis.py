"""The APIs ``chatmini chat`` can speak (``--api``). Each turns a conversation (model, system
message, user and assistant messages, body parameters) into one call, and its answer into
pieces of text and of reasoning, streamed or whole. Chat Completions is one class; the
Responses API (``client.responses``) is another of the same shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterator, NamedTuple, Optional, Sequence

from ..streaming.pieces import StreamPiece, reasoning_of

if TYPE_CHECKING:
    from typing import Protocol

    from ..client import Client

Messages = Sequence[dict[str, str]]


# Keywords of the create() calls that are not body parameters: -o cannot set them.
CALL_KEYWORDS = {"timeout": "use --timeout",
                 **{k: "not a body parameter" for k in ("extra_headers", "extra_body",
                                                         "extra_query")}}


class Answer(NamedTuple):
    """A whole (not streamed) reply: its text, its reasoning, and the response object."""

    text: str
    reasoning: str
    data: dict[str, Any]


def as_dict(item: Any) -> Any:
    """The JSON object behind a response object (``to_dict()``), or the item itself."""
    to_dict = getattr(item, "to_dict", None)
    return to_dict() if callable(to_dict) else item


class Reply:
    """A streamed reply: iterate it for StreamPieces (the stream's ``pieces()``: reasoning
    apart from the answer); ``close()`` closes its connection at once."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def __iter__(self) -> Iterator[StreamPiece]:
        yield from self.stream.pieces()

    def close(self) -> None:
        self.stream.close()


def _text(value: Any) -> str:
    return value if type(value) is str else ""


class ChatAPI:
    """Chat Completions: ``client.chat.completions.create``."""

    name = "chat"
    max_tokens_key = "max_tokens"  # understood by every server; -o max_completion_tokens=N too
    reserved = {"model": "use --model", "messages": "the conversation makes them",
                "stream": "use --no-stream", **CALL_KEYWORDS}

    def __init__(self, client: Client) -> None:
        self.client = client

    @staticmethod
    def _messages(system: Optional[str], messages: Messages) -> list[dict[str, str]]:
        return [{"role": "system", "content": system}, *messages] if system else list(messages)

    def stream(self, model: str, system: Optional[str], messages: Messages,
               params: dict[str, Any]) -> Reply:
        stream = self.client.chat.completions.create(
            model=model, messages=self._messages(system, messages), stream=True, **params)
        return Reply(stream)

    def complete(self, model: str, system: Optional[str], messages: Messages,
                 params: dict[str, Any]) -> Answer:
        data = as_dict(self.client.chat.completions.create(
            model=model, messages=self._messages(system, messages), **params))
        choices = data.get("choices")
        choice = choices[0] if type(choices) is list and choices else {}
        message = choice.get("message") if type(choice) is dict else None
        message = message if type(message) is dict else {}
        return Answer(_text(message.get("content")), reasoning_of(message), data)


def response_parts(data: Any) -> tuple[str, str]:
    """A whole Responses answer's text (its messages' ``output_text`` parts) and reasoning
    (its reasoning items' summaries, else their raw text); ``output: null`` reads as empty."""
    items = data.get("output") if type(data) is dict else None
    text, reasoning = [], []
    for item in items if type(items) is list else ():
        if type(item) is not dict:
            continue
        if item.get("type") == "message" and type(item.get("content")) is list:
            text += [_text(p.get("text")) for p in item["content"]
                     if type(p) is dict and p.get("type") == "output_text"]
        elif item.get("type") == "reasoning":
            parts = item.get("summary") or item.get("content")
            reasoning += [_text(p.get("text")) for p in parts if type(p) is dict] if type(
                parts) is list else []
    return "".join(text), "\n".join(r for r in reasoning if r)


class ResponsesAPI:
    """The Responses API: ``client.responses.create`` (system message as ``instructions``,
    the conversation as ``input`` items)."""

    name = "responses"
    max_tokens_key = "max_output_tokens"
    reserved = {"model": "use --model", "input": "the conversation makes it",
                "instructions": "use --system", "stream": "use --no-stream", **CALL_KEYWORDS}

    def __init__(self, client: Client) -> None:
        self.resource = client.responses

    def _call(self, model: str, system: Optional[str], messages: Messages,
              params: dict[str, Any], stream: bool) -> Any:
        extra = dict(params, instructions=system) if system else params
        if stream:
            extra = dict(extra, stream=True)
        return self.resource.create(model=model, input=list(messages), **extra)

    def stream(self, model: str, system: Optional[str], messages: Messages,
               params: dict[str, Any]) -> Reply:
        return Reply(self._call(model, system, messages, params, True))

    def complete(self, model: str, system: Optional[str], messages: Messages,
                 params: dict[str, Any]) -> Answer:
        data = as_dict(self._call(model, system, messages, params, False))
        text, reasoning = response_parts(data)
        return Answer(text, reasoning, data if type(data) is dict else {})


if TYPE_CHECKING:
    class API(Protocol):
        """What a session needs of an API."""

        name: str
        max_tokens_key: str  # the body parameter --max-tokens sets
        reserved: dict[str, str]  # body keys the session sets -> the option to use instead

        def stream(self, model: str, system: Optional[str], messages: Messages,
                   params: dict[str, Any]) -> Reply: ...

        def complete(self, model: str, system: Optional[str], messages: Messages,
                     params: dict[str, Any]) -> Answer: ...


APIS: dict[str, Callable[[Client], API]] = {"chat": ChatAPI, "responses": ResponsesAPI}
