"""Raw HTTP answers: ``with_raw_response`` and ``with_streaming_response``, openai-python's shapes.

A wrapped method runs with a response mode set in a context variable; the Client's next call
takes (and clears) it and answers with a RawResponse or StreamedResponse around the HTTP
response, whose ``parse()`` gives what the method returns otherwise. A context variable rather
than openai-python's marker header: a method needs nothing of its own to support it (the
Client, every resource and anything added later get it), and nothing extra reaches the wire.
"""

from __future__ import annotations

import codecs
import json
from contextvars import ContextVar
from datetime import timedelta
from functools import partial, wraps
from typing import TYPE_CHECKING, Any, Callable, Generic, Iterator, Optional, TypeVar

if TYPE_CHECKING:
    import requests

    from .request import Request

RAW = "raw"
STREAMED = "streamed"
READ_SIZE = 65536
response_mode: ContextVar[Optional[str]] = ContextVar("chatmini_response_mode", default=None)
R = TypeVar("R", bound="BaseRawResponse")


class BaseRawResponse:
    """The HTTP answer of one call, and ``parse()`` for the object the call returns otherwise."""

    def __init__(
        self,
        response: requests.Response,
        request: Request,
        parse: Callable[[], Any],
        stream: Any = None,
    ) -> None:
        self.http_response = response
        self.http_request = request  # the last attempt's chatmini Request
        self._parse = parse
        self._stream = stream  # a streamed call's Stream: parse() returns it, close() ends it
        self._parsed: Any = None
        self._is_parsed = False

    @property
    def headers(self) -> Any:
        """The response headers (case-insensitive)."""
        return self.http_response.headers

    @property
    def status_code(self) -> int:
        return int(self.http_response.status_code)

    @property
    def url(self) -> str:
        return self.http_request.url

    @property
    def method(self) -> str:
        return self.http_request.method

    @property
    def request_id(self) -> Optional[str]:
        """The server's ``x-request-id``."""
        value: Optional[str] = self.http_response.headers.get("x-request-id")
        return value

    @property
    def elapsed(self) -> timedelta:
        """Time from sending the request to the response headers."""
        elapsed: timedelta = self.http_response.elapsed
        return elapsed

    @property
    def retries_taken(self) -> int:
        return self.http_request.retries

    @property
    def is_closed(self) -> bool:
        raw = self.http_response.raw
        return bool(getattr(raw, "closed", True))

    def parse(self) -> Any:
        """What the method returns without the wrapper (a ChatCompletion, a Stream, ...)."""
        if not self._is_parsed:
            self._parsed = self._stream if self._stream is not None else self._parse()
            self._is_parsed = True
        return self._parsed

    def close(self) -> None:
        """Release the connection (a stream not read to its end is closed, not drained)."""
        if self._stream is not None:
            self._stream.close()
        else:
            self.http_response.close()

    def __repr__(self) -> str:
        reason = self.http_response.reason or ""
        return f"<{type(self).__name__} [{self.status_code} {reason}] {self.method} endpoint=" \
               f"{self.http_request.endpoint!r}>"


class RawResponse(BaseRawResponse):
    """``with_raw_response``: headers, status and the body, read already; ``parse()``."""

    @property
    def content(self) -> bytes:
        content: bytes = self.http_response.content
        return content

    @property
    def text(self) -> str:
        return self.content.decode(self.http_response.encoding or "utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


class StreamedResponse(BaseRawResponse):
    """``with_streaming_response``: a streamed call's body is read as it is iterated.

    A call that is not streamed has its body read (bounded) before this is returned, as every
    chatmini call does; iterating it hands out that body.
    """

    def read(self) -> bytes:
        return b"".join(self.iter_bytes())

    def text(self) -> str:
        return "".join(self.iter_text())

    def json(self) -> Any:
        return json.loads(self.read())

    def iter_bytes(self, chunk_size: Optional[int] = None) -> Iterator[bytes]:
        """The body's bytes (decoded from gzip etc.) as they arrive."""
        size = chunk_size or READ_SIZE
        if not self.http_request.stream:
            content = self.http_response.content
            for start in range(0, len(content), size):
                yield content[start:start + size]
            return
        read1 = self.http_response.raw.read1
        try:
            while True:
                data = read1(size, decode_content=True)
                if not data:
                    break
                yield data
        finally:
            self.close()

    def iter_text(self, chunk_size: Optional[int] = None) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder(self.http_response.encoding or "utf-8")("replace")
        for data in self.iter_bytes(chunk_size):
            text = decoder.decode(data)
            if text:
                yield text
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail

    def iter_lines(self) -> Iterator[str]:
        """Lines without their ending (``\\n``, ``\\r\\n`` or ``\\r``), also when an ending is
        split between two reads."""
        pending = ""
        for text in self.iter_text():
            lines = (pending + text).splitlines(keepends=True)
            pending = lines.pop() if lines and not lines[-1].endswith("\n") else ""
            for line in lines:
                yield line.rstrip("\r\n")
        for line in pending.splitlines():
            yield line


class ResponseContextManager(Generic[R]):
    """``with ...with_streaming_response.create(...) as response:``: the call is made on entry
    and the response closed on exit."""

    def __init__(self, call: Callable[[], R]) -> None:
        self._call = call
        self._response: Optional[R] = None

    def __enter__(self) -> R:
        self._response = self._call()
        return self._response

    def __exit__(self, *exc_info: object) -> None:
        if self._response is not None:
            self._response.close()


def in_mode(mode: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``method`` with its first call answering as a raw response."""
    token = response_mode.set(mode)
    try:
        return method(*args, **kwargs)
    finally:
        response_mode.reset(token)


def take_mode() -> Optional[str]:
    """The mode a wrapper set for this call, cleared so that any nested call is plain."""
    mode = response_mode.get()
    if mode is not None:
        response_mode.set(None)
    return mode


class ResponseView:
    """``x.with_raw_response`` or ``x.with_streaming_response`` for a Client or a resource:
    the same methods and sub-resources, answering with the raw HTTP response."""

    __slots__ = ("_target", "_mode")

    def __init__(self, target: Any, mode: str) -> None:
        self._target = target
        self._mode = mode

    def __getattr__(self, name: str) -> Any:
        if name[:1] == "_":
            raise AttributeError(name)
        value = getattr(self._target, name)
        if callable(value):
            return self._wrap(value)
        if getattr(value, "_client", None) is not None:  # a resource: client.chat, ...
            return ResponseView(value, self._mode)
        raise AttributeError(
            f"{name!r} is not a method or resource, so it has no raw response to give"
        )

    def _wrap(self, method: Callable[..., Any]) -> Callable[..., Any]:
        if self._mode == RAW:
            return wraps(method)(partial(in_mode, RAW, method))

        @wraps(method)
        def streamed(*args: Any, **kwargs: Any) -> ResponseContextManager[Any]:
            return ResponseContextManager(partial(in_mode, STREAMED, method, *args, **kwargs))

        return streamed

    def __repr__(self) -> str:
        return f"<{self._mode} responses of {self._target!r}>"


class RawResponseViews:
    """``with_raw_response`` and ``with_streaming_response`` for the Client and each resource:
    ``x.with_raw_response.<method>(...)`` answers with the HTTP response (``.headers``,
    ``.status_code``, ``.parse()``); ``with_streaming_response`` is the same as a context
    manager whose streamed body is read as it is iterated."""

    @property
    def with_raw_response(self) -> ResponseView:
        return ResponseView(self, RAW)

    @property
    def with_streaming_response(self) -> ResponseView:
        return ResponseView(self, STREAMED)
