"""MessagePack bodies, a built-in plugin that is off until configured (``chatmini[msgpack]``):
``Client(plugins=[MessagePack()])``.

Request bodies are sent as ``application/msgpack`` (encoded once per call, so retries resend the
same bytes) and ``Accept`` prefers it for answers that are not streams; an answer whose
Content-Type is msgpack is decoded through ``chatmini_decode_body``, any other stays JSON.
Event streams stay text (SSE), error bodies are read as JSON or text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from chatmini.errors import APIResponseValidationError, InvalidRequestError, excerpt
from chatmini.hookspecs import hookimpl

if TYPE_CHECKING:
    import requests

    from chatmini.errors import ChatminiError
    from chatmini.request import Request

CONTENT_TYPE = "application/msgpack"
CONTENT_TYPES = ("application/msgpack", "application/x-msgpack", "application/vnd.msgpack")
ACCEPT = "application/msgpack, application/json;q=0.5"
_KEY = "chatmini.msgpack"


def _msgpack() -> Any:
    try:
        import msgpack
    except ImportError:
        raise InvalidRequestError(
            "MessagePack needs an optional package: pip install 'chatmini[msgpack]'"
        ) from None
    return msgpack


class MessagePack:
    """Sends request bodies as MessagePack and accepts MessagePack answers.

    ``send=False`` keeps request bodies JSON; ``accept=False`` stops asking for MessagePack
    answers (one that arrives anyway is still decoded).
    """

    chatmini_plugin_name = "msgpack"

    def __init__(self, *, send: bool = True, accept: bool = True) -> None:
        self._msgpack = _msgpack()
        self.send = send
        self.accept = accept

    @hookimpl(tryfirst=True)  # before plugins that sign or compress the body
    def chatmini_prepare_request(self, request: Request) -> None:
        if self.accept and not request.stream:
            request.headers["Accept"] = ACCEPT
        if not self.send or request.params is None or request.body is None:
            return
        body = request.context.get(_KEY)
        if body is None:
            body = request.context[_KEY] = self._pack(request.params)
        if isinstance(body, InvalidRequestError):
            raise body
        request.body = body
        request.headers["Content-Type"] = CONTENT_TYPE

    @hookimpl
    def chatmini_retry_decision(self, request: Request, error: ChatminiError) -> Optional[str]:
        failed = isinstance(request.context.get(_KEY), InvalidRequestError)
        return "raise" if failed else None  # no retry can help

    @hookimpl
    def chatmini_decode_body(self, request: Request, response: requests.Response) -> Any:
        kind = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if kind not in CONTENT_TYPES:
            return None
        content = response.content
        try:
            return self._msgpack.unpackb(content)
        except Exception as exc:  # ExtraData, FormatError, StackError, ValueError: all bad input
            raise APIResponseValidationError(
                f"Expected a MessagePack body from {request.endpoint} but it does not decode "
                f"({type(exc).__name__}): {excerpt(repr(content[:80]))}",
                response=response, body=content, request=request,
            ) from None

    def _pack(self, params: dict[str, Any]) -> Any:
        """The body bytes, or the InvalidRequestError to raise on every attempt."""
        try:
            return self._msgpack.packb(params)
        except (TypeError, ValueError, OverflowError) as exc:
            return InvalidRequestError(f"Request body is not MessagePack-serialisable: {exc}")

    def __repr__(self) -> str:
        return f"<MessagePack send={self.send} accept={self.accept}>"
