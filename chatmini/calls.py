"""One call, built and decoded: the request building every resource shares.

``build_request`` turns a method, a path, a JSON body and the per-call options into the
Request that plugins see; ``answer`` picks how the 2xx answer becomes the call's result (an
object of the resource's type, a stream, or a raw response when a ``with_raw_response``
wrapper asked). Resources only name their path, body and result type.
"""

from __future__ import annotations

import json
import math
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional

from .errors import (
    APIResponseValidationError,
    InvalidRequestError,
    safe_excerpt,
    stream_error,
)
from .jsoncodec import encode_body, escape_surrogates, loads
from .objects import (
    APIObject,
    APIResponseObject,
    ChatCompletion,
    Completion,
    CreateEmbeddingResponse,
    Response,
)
from .options import (
    NotGiven,
    checked_headers,
    checked_mapping,
    given,
    merge_body,
    merge_headers,
    query_suffix,
)
from .raw_responses import RAW, RawResponse, StreamedResponse
from .request import Request
from .shapes import answer_problem
from .streaming import ResponseStream, Stream
from .timeouts import TimeoutLike, call_timeout

if TYPE_CHECKING:
    import requests

    from .client import Client

Decode = Callable[["requests.Response", Request], Any]
StreamFactory = Callable[["Client", Request, "requests.Response"], Any]
PostParser = Callable[[Any, "requests.Response", Request], Any]


def build_request(
    client: Client,
    method: str,
    path: str,
    body: Optional[Mapping[str, Any]] = None,
    *,
    stream: bool = False,
    timeout: TimeoutLike = None,
    extra_headers: Optional[Mapping[str, Any]] = None,
    extra_query: Optional[Mapping[str, Any]] = None,
    extra_body: Optional[Mapping[str, Any]] = None,
) -> Request:
    """The Request for one call, before any plugin has seen it (no credential yet).

    ``extra_body`` is merged into the body's top level, ``extra_query`` into the URL's query
    (after the Client's ``default_query``), ``extra_headers`` over the default headers (a None
    value removes one); ``timeout`` replaces the Client's for this call.
    """
    if path.__class__ is not str or method.__class__ is not str:
        raise InvalidRequestError(_not_text(method, path))
    if stream is not False and stream is not True:
        stream = _stream_flag(stream)
    if not path.startswith("/"):
        path = "/" + path
    if extra_body is not None:  # each option costs nothing when it is not given
        body = merge_body(body, checked_mapping("extra_body", extra_body))
    headers = dict(client.default_headers)
    if extra_headers is not None:
        headers = merge_headers(headers, checked_headers("extra_headers", extra_headers))
    data = params = None
    if body is not None:
        data, params = encode_json(body)
    if stream:
        headers["Accept"] = "text/event-stream"
    timeout = call_timeout(given(timeout), client.timeout)
    if stream:
        timeout = timeout.for_stream()
    query = client.query_suffix
    if extra_query is not None:
        extra_query = checked_mapping("extra_query", extra_query)
        if extra_query:
            query = query_suffix(client.default_query, extra_query)
    return Request(
        method, client.url_for(path, params) + query, headers, data,
        params=params, endpoint=path, stream=stream, timeout=timeout,
    )


def encode_json(body: Any) -> tuple[bytes, Optional[dict[str, Any]]]:
    """The body as compact UTF-8 JSON, and as the plain dict plugins read (``request.params``;
    None for a body that is a JSON array).

    chatmini objects passed back (``messages.append(reply.choices[0].message)``) are encoded
    as their JSON; only then is the dict rebuilt from the bytes, so plugins never see them.
    ``NaN`` and infinities are not JSON: an InvalidRequestError names where they are.
    """
    try:
        return encode_body(body), dict(body) if isinstance(body, Mapping) else None
    except TypeError:  # objects passed back, or something really not serialisable
        pass
    except ValueError:  # NaN or an infinity
        raise InvalidRequestError(_not_finite(body)) from None
    except RecursionError:  # a circular reference: json.dumps names it
        pass
    try:
        data = json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=_plain,
                          allow_nan=False)
    except ValueError as exc:
        if "Out of range float" in str(exc):
            raise InvalidRequestError(_not_finite(body)) from None
        raise InvalidRequestError(f"Request body is not JSON-serialisable: {exc}") from None
    except (TypeError, RecursionError) as exc:
        raise InvalidRequestError(f"Request body is not JSON-serialisable: {exc}") from None
    data = escape_surrogates(data)
    return data.encode(), loads(data) if isinstance(body, Mapping) else None


def _not_finite(body: Any) -> str:
    """The message for a body holding NaN or an infinity, naming the first place it is."""
    where = _non_finite_at(body, "")
    return (f"{where or 'the request body'} is not a finite number; JSON has no NaN or "
            "Infinity, so nothing was sent")


def _non_finite_at(value: Any, path: str, depth: int = 0) -> Optional[str]:
    """Where (``temperature``, ``tools[0].function.parameters.maximum``) the first NaN or
    infinity in ``value`` is, or None."""
    if isinstance(value, APIObject):
        value = value.to_dict()
    if isinstance(value, float):
        return f"{path or 'the body'} ({value!r})" if not math.isfinite(value) else None
    if depth > 100:
        return None
    if isinstance(value, Mapping):
        items: Any = ((f"{path}.{k}" if path else str(k), v) for k, v in value.items())
    elif isinstance(value, (list, tuple)):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for where, item in items:
        found = _non_finite_at(item, where, depth + 1)
        if found is not None:
            return found
    return None


def _not_text(method: Any, path: Any) -> str:
    """The message for a method or path that is not a string."""
    name, value = ("path", path) if path.__class__ is not str else ("method", method)
    return f"{name} must be a string, not {type(value).__name__}; nothing was sent"


def _stream_flag(value: Any) -> bool:
    """``stream=``: True or False (None and NOT_GIVEN mean False). Anything else is refused:
    ``stream="false"`` is truthy and would stream."""
    if value is None or type(value) is NotGiven:
        return False
    raise InvalidRequestError(
        f"stream must be True or False, not {type(value).__name__}; nothing was sent")


def _plain(value: Any) -> Any:
    """The JSON of a chatmini object; a clear error for anything else."""
    if isinstance(value, APIObject):
        return value.to_dict()
    if type(value) is NotGiven:
        raise TypeError("NOT_GIVEN is only understood as a method's argument, not inside one")
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def answer(
    client: Client,
    call: Request,
    mode: Optional[str],
    *,
    cast: type[APIResponseObject],
    stream_cls: StreamFactory,
    post_parser: Optional[PostParser] = None,
) -> Decode:
    """How the call's 2xx answer becomes its result: ``cast`` (then ``post_parser``, given
    the object, the response and the request), a ``stream_cls`` stream, or a raw response."""
    if call.stream:
        if mode is None:
            return lambda response, request: stream_cls(client, request, response)
        return partial(_raw_stream, client, mode, stream_cls)

    if mode is None and post_parser is None:
        return partial(decode_body, cast=cast, client=client)

    def decode(response: requests.Response, request: Request) -> Any:
        result = decode_body(response, request, cast=cast, client=client)
        return result if post_parser is None else post_parser(result, response, request)

    if mode is None:
        return decode
    raw_cls = RawResponse if mode == RAW else StreamedResponse
    return lambda response, request: raw_cls(
        response, request, partial(decode, response, request)
    )


def _raw_stream(
    client: Client, mode: str, stream_cls: StreamFactory,
    response: requests.Response, request: Request,
) -> Any:
    """A streamed call's raw response: the stream is made at once, so that whatever the
    caller reads, closing the response ends the stream for the plugins."""
    raw_cls = RawResponse if mode == RAW else StreamedResponse
    stream = stream_cls(client, request, response)
    return raw_cls(response, request, lambda: stream, stream=stream)


def decode_body(
    response: requests.Response,
    request: Request,
    *,
    cast: type[APIResponseObject],
    client: Optional[Client] = None,
) -> Any:
    """Parse a 2xx body into ``cast`` (JSON unless a ``chatmini_decode_body`` plugin decodes
    it); anything else is an APIResponseValidationError."""
    content = response.content
    data = None
    if client is not None and client.plugin_host.wants_decode_body():
        data = client.plugin_host.decode_body(request, response, client)
    if data is None:
        try:
            data = loads(content) if content else None
        except (ValueError, RecursionError):  # deeply nested JSON overflows the parser's stack
            data = _INVALID
    if data is _INVALID or (cast is not APIResponseObject and type(data) is not dict):
        kind = response.headers.get("content-type", "no content type")
        text = safe_excerpt(content.decode("utf-8", "replace"), request) if content else (
            "(empty body)"
        )
        raise APIResponseValidationError(
            f"Expected a JSON object from {request.endpoint} but got HTTP "
            f"{response.status_code} {kind}: {text}",
            response=response, body=content, request=request,
        )
    if type(data) is not dict:
        return data
    if data.get("error") and not data.keys() & _ANSWER_KEYS:
        raise stream_error(data, request)  # a gateway's 200 carrying an error object
    shape = _SHAPES.get(cast)
    if shape is not None:
        problem = answer_problem(shape, data)
        if problem is not None:
            text = safe_excerpt(content.decode("utf-8", "replace"), request)
            raise APIResponseValidationError(
                f"The answer from {request.endpoint} has the wrong shape: {problem}: {text!r}",
                response=response, body=content, request=request,
            )
    meta = {"request_id": response.headers.get("x-request-id"), "context": request.context}
    return cast(data, meta)


_INVALID = object()
_ANSWER_KEYS = frozenset(("choices", "data", "output"))  # a Response carries its own error
# Answers whose shape is checked before a caller reads them (chatmini/shapes.py).
_SHAPES: dict[type, str] = {ChatCompletion: "chat", Completion: "completion",
                            CreateEmbeddingResponse: "embeddings", Response: "response"}


def stream_class(endpoint: str) -> StreamFactory:
    """The stream type of a path: Responses events for ``/responses``, chat chunks else."""
    if endpoint == "/responses" or endpoint.startswith("/responses/"):
        return ResponseStream
    return Stream
