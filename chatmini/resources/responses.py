"""``client.responses``: the Responses API, streamed or not, and stored responses by id.

Methods and arguments are openai-python's. Named arguments left at None are not sent; every
other keyword goes into the JSON body untouched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Mapping, Optional, Union, overload

from ..errors import InvalidRequestError
from ..objects import APIObject, APIResponseObject, Response
from ..options import given
from ..streaming import ResponseStream
from .base import APIResource
from .pagination import CursorPage, chained, path_id

if TYPE_CHECKING:
    from ..client import Client
    from ..objects.parsed import ParsedResponse
    from ..timeouts import TimeoutLike as Timeout
    from ..tools import ToolRun, ToolRunStream

Headers = Optional[Mapping[str, str]]
Query = Optional[Mapping[str, Any]]


class Responses(APIResource):
    """``client.responses``: ``create``, ``stream``, ``retrieve``, ``cancel``, ``delete`` and
    ``input_items.list``."""

    def __init__(self, client: Client) -> None:
        super().__init__(client)
        self.input_items = InputItems(client)

    @overload
    def create(
        self, *, model: Optional[str] = ..., input: Any = ..., instructions: Optional[str] = ...,
        tools: Any = ..., previous_response_id: Optional[str] = ...,
        stream: Literal[False] = ..., timeout: Timeout = ..., extra_headers: Headers = ...,
        extra_query: Query = ..., **params: Any,
    ) -> Response: ...

    @overload
    def create(
        self, *, model: Optional[str] = ..., input: Any = ..., instructions: Optional[str] = ...,
        tools: Any = ..., previous_response_id: Optional[str] = ...,
        stream: Literal[True], timeout: Timeout = ..., extra_headers: Headers = ...,
        extra_query: Query = ..., **params: Any,
    ) -> ResponseStream: ...

    def create(
        self,
        *,
        model: Optional[str] = None,
        input: Any = None,  # noqa: A002 - openai-python's name
        instructions: Optional[str] = None,
        tools: Any = None,
        previous_response_id: Optional[str] = None,
        stream: bool = False,
        timeout: Timeout = None,
        extra_headers: Headers = None,
        extra_query: Query = None,
        **params: Any,
    ) -> Union[Response, ResponseStream]:
        """Create a model response: a Response, or with ``stream=True`` a ResponseStream.
        ``text_format=`` (a class or a JSON schema) asks for structured output and parses it,
        as ``parse()`` does."""
        text_format = params.pop("text_format", None)
        return self._create(  # type: ignore[no-any-return]
            "format" if text_format is not None else None, text_format, model=model, input=input,
            instructions=instructions, tools=tools, previous_response_id=previous_response_id,
            stream=stream, timeout=timeout, extra_headers=extra_headers,
            extra_query=extra_query, **params,
        )

    def parse(self, *, text_format: Any = None, **params: Any) -> ParsedResponse:
        """openai-python's ``parse``: the arguments of ``create``, and ``text_format`` (a
        pydantic model, a dataclass, a TypedDict or a JSON schema dict). Text parts get
        ``parsed`` and the response ``output_parsed``; calls of strict tools
        (``chatmini.function_tool``) ``parsed_arguments``. An ``incomplete`` response (the
        token limit, the content filter) raises LengthFinishReasonError or
        ContentFilterFinishReasonError; JSON that does not fit, OutputValidationError."""
        if params.get("stream"):
            raise InvalidRequestError("parse() does not stream: use responses.stream()")
        return self._create("all", text_format, **params)  # type: ignore[no-any-return]

    def _create(
        self, parse: Optional[str], text_format: Any, *, model: Optional[str] = None,
        input: Any = None, instructions: Optional[str] = None, tools: Any = None,  # noqa: A002
        previous_response_id: Optional[str] = None, stream: bool = False,
        timeout: Timeout = None, extra_headers: Headers = None, extra_query: Query = None,
        **params: Any,
    ) -> Any:
        model, input, instructions, tools, previous_response_id = (  # NOT_GIVEN: not sent
            given(model), given(input), given(instructions), given(tools),
            given(previous_response_id))
        if model is not None and (not isinstance(model, str) or not model):
            raise InvalidRequestError(f"model must be a non-empty string, not {model!r}")
        if model is None and "prompt" not in params:
            raise InvalidRequestError("model= is required (unless a stored prompt= names one)")
        body: dict[str, Any] = {"model": model} if model is not None else {}
        if input is not None:
            body["input"] = input if isinstance(input, str) else _items("input", input)
        if instructions is not None:
            body["instructions"] = instructions
        if tools is not None:
            body["tools"] = _items("tools", tools)
            if _parses(tools):
                from ..structured.bodies import responses_tools

                body["tools"] = responses_tools(body["tools"])
        if previous_response_id is not None:
            body["previous_response_id"] = previous_response_id
        if stream:
            body["stream"] = True
        body.update(params)
        options: dict[str, Any] = {"stream_cls": ResponseStream}
        if parse:
            from ..streaming.parsed import ParsedResponseStream, parsed_stream
            from ..structured.bodies import responses_body

            declared = tools if parse == "all" and isinstance(tools, (list, tuple)) else ()
            parser = responses_body(body, text_format, declared)
            options = {"post_parser": lambda answer, response, request: parser.response(answer),
                       "stream_cls": parsed_stream(ParsedResponseStream, parser.response)}
        return self._client.request(
            "POST", "/responses", body, stream=stream, timeout=timeout,
            extra_headers=extra_headers, extra_query=extra_query, cast=Response, **options,
        )

    def run_tools(self, **params: Any) -> Union[ToolRun, ToolRunStream]:
        """The tool loop on the Responses API: ``run_tools(model=..., input=..., tools=[
        functions], max_turns=8)`` sends, runs the ``function_call``s the model asks for,
        sends their ``function_call_output``s, until it answers without tools. Returns a
        ToolRun (``.items``, the whole input so far; ``.final_response``; ...); ``stream=True``
        a ToolRunStream. See docs/tools.md."""
        from ..tools import run_responses_tools

        return run_responses_tools(self, **params)

    def stream(
        self,
        *,
        response_id: Optional[str] = None,
        starting_after: Optional[int] = None,
        timeout: Timeout = None,
        extra_headers: Headers = None,
        extra_query: Query = None,
        **params: Any,
    ) -> ResponseStream:
        """A ResponseStream of a new response (the arguments of ``create``), or of a stored
        one by ``response_id`` (handing out only events after ``starting_after``). Use it as
        a context manager, as with openai-python's ``responses.stream()``."""
        options: dict[str, Any] = {
            "timeout": timeout, "extra_headers": extra_headers, "extra_query": extra_query,
        }
        if "stream" in params:
            raise InvalidRequestError("responses.stream() always streams: leave out stream=")
        if response_id is None:
            if starting_after is not None:
                raise InvalidRequestError("starting_after= needs response_id=")
            text_format = params.pop("text_format", None)  # parsed as by parse()
            parse = "all" if text_format is not None or _parses(params.get("tools")) else None
            stream: ResponseStream = self._create(parse, text_format, stream=True, **params,
                                                  **options)
            stream._responses.snapshots = True  # deltas carry ``snapshot``, as openai's do
            return stream
        if params:
            raise InvalidRequestError(
                f"response_id= streams a stored response: it cannot be combined with "
                f"{', '.join(sorted(params))}"
            )
        stream = self.retrieve(response_id, stream=True, **options)
        stream._responses.starting_after = starting_after  # openai-python filters client-side
        return stream

    @overload
    def retrieve(
        self, response_id: str, *, stream: Literal[False] = ..., include: Any = ...,
        include_obfuscation: Optional[bool] = ..., starting_after: Optional[int] = ...,
        timeout: Timeout = ..., extra_headers: Headers = ..., extra_query: Query = ...,
        extra_body: Query = ...,
    ) -> Response: ...

    @overload
    def retrieve(
        self, response_id: str, *, stream: Literal[True], include: Any = ...,
        include_obfuscation: Optional[bool] = ..., starting_after: Optional[int] = ...,
        timeout: Timeout = ..., extra_headers: Headers = ..., extra_query: Query = ...,
        extra_body: Query = ...,
    ) -> ResponseStream: ...

    def retrieve(
        self,
        response_id: str,
        *,
        stream: bool = False,
        include: Any = None,
        include_obfuscation: Optional[bool] = None,
        starting_after: Optional[int] = None,
        timeout: Timeout = None,
        extra_headers: Headers = None,
        extra_query: Query = None,
        extra_body: Query = None,
    ) -> Union[Response, ResponseStream]:
        """A stored response by id; with ``stream=True`` its events again, as a stream."""
        query = _query(include=include, include_obfuscation=include_obfuscation,
                       starting_after=starting_after, stream=stream or None)
        return self._client.request(  # type: ignore[no-any-return]
            "GET", _path(response_id), None, stream=stream, timeout=timeout,
            extra_headers=extra_headers, extra_query={**query, **(extra_query or {})},
            cast=Response, stream_cls=ResponseStream, extra_body=extra_body,
        )

    def cancel(
        self, response_id: str, *, timeout: Timeout = None, extra_headers: Headers = None,
        extra_query: Query = None,
        extra_body: Query = None,
    ) -> Response:
        """Cancel a response created with ``background=True``; returns it."""
        return self._client.request(  # type: ignore[no-any-return]
            "POST", _path(response_id, "/cancel"), None, timeout=timeout,
            extra_headers=extra_headers, extra_query=extra_query, extra_body=extra_body,
            cast=Response,
        )

    def delete(
        self, response_id: str, *, timeout: Timeout = None, extra_headers: Headers = None,
        extra_query: Query = None,
        extra_body: Query = None,
    ) -> None:
        """Delete a stored response (returns None, as openai-python does)."""
        headers = {"Accept": "*/*", **(extra_headers or {})}
        self._client.request(
            "DELETE", _path(response_id), None, timeout=timeout, extra_headers=headers,
            extra_query=extra_query, extra_body=extra_body,
        )


class InputItems(APIResource):
    """``client.responses.input_items``."""

    def list(
        self,
        response_id: str,
        *,
        after: Optional[str] = None,
        include: Any = None,
        limit: Optional[int] = None,
        order: Optional[str] = None,
        timeout: Timeout = None,
        extra_headers: Headers = None,
        extra_query: Query = None,
        extra_body: Query = None,
    ) -> CursorPage[APIResponseObject]:
        """The input items of a stored response, a page at a time (iterating goes on through
        every page)."""
        query = {**_query(after=after, include=include, limit=limit, order=order),
                 **(extra_query or {})}
        page: CursorPage[APIResponseObject] = self._client.request(
            "GET", _path(response_id, "/input_items"), None, timeout=timeout,
            extra_headers=extra_headers, extra_query=query, extra_body=extra_body,
            cast=CursorPage,
        )

        def fetch(last_id: str) -> CursorPage[APIResponseObject]:
            return self.list(response_id, after=last_id, include=include, limit=limit,
                             order=order, timeout=timeout, extra_headers=extra_headers,
                             extra_query=extra_query, extra_body=extra_body)

        return chained(page, fetch)


def _path(response_id: str, suffix: str = "") -> str:
    return f"/responses/{path_id(response_id, 'response_id')}{suffix}"


def _items(name: str, value: Any) -> list[Any]:
    """A list argument (``input`` items, ``tools``); chatmini objects are sent as their dicts,
    so ``input=[*response.output, ...]`` works."""
    if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
        raise InvalidRequestError(f"{name} must be a list, not {type(value).__name__}")
    return [item.to_dict() if isinstance(item, APIObject) else item for item in value]


def _parses(tools: Any) -> bool:
    """Whether a tool list holds a FunctionTool (``chatmini.function_tool``): its calls are
    parsed, and it is sent in this API's flat shape."""
    if not isinstance(tools, (list, tuple)):
        return False
    from ..structured import FunctionTool

    return any(isinstance(tool, FunctionTool) for tool in tools)


def _query(**values: Any) -> dict[str, Any]:
    """Query parameters as openai-python sends them: None left out, booleans as true/false."""
    return {name: (str(value).lower() if isinstance(value, bool) else value)
            for name, value in values.items() if value is not None}
