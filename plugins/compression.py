"""Request-body compression, a built-in plugin that is off until configured:
``Client(plugins=[Compression("gzip")])``.

Bodies of at least ``min_size`` bytes are compressed once per call, so retries and replays
resend the very same bytes (streamed file uploads are sent as they are); ``Content-Encoding``
is set and the transport sends the compressed length. A server that refuses compressed bodies
(HTTP 415, or a 400 naming the encoding) fails the call with CompressionRejectedError or, with
``retry_uncompressed=True``, gets the body once more uncompressed and is remembered, so later
calls to that host are not compressed.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import TYPE_CHECKING, Any, Generator, Iterable, Optional, Union
from urllib.parse import urlsplit

from chatmini import codings
from chatmini.errors import APIStatusError, InvalidRequestError, status_error
from chatmini.hookspecs import hookimpl

if TYPE_CHECKING:
    import requests

    from chatmini.errors import ChatminiError
    from chatmini.request import Request

DEFAULT_MIN_SIZE = 1024  # smaller bodies share a packet with the headers: see docs/compression.md
ENCODINGS = ("gzip", "zstd", "br")
ALIASES = {"brotli": "br", "zstandard": "zstd"}
_KEY = "chatmini.compression"
_NAMES = {"gzip": "gzip", "zstd": "zstd|zstandard", "br": "br|brotli"}
logger = logging.getLogger("chatmini")


class CompressionRejectedError(APIStatusError):
    """The server refused a compressed request body (HTTP 415, or a 400 naming the encoding)."""


class _CallState:
    """One call's compression: the body compressed, the bytes sent, or why nothing is."""

    __slots__ = ("source", "packed", "off")

    def __init__(self) -> None:
        self.source: Optional[bytes] = None
        self.packed: Optional[bytes] = None  # None: not worth it (no smaller)
        self.off = False  # this call sends uncompressed (host excluded, refused, or replayed)


class Compression:
    """Compresses request bodies of at least ``min_size`` bytes with ``encoding``.

    ``encoding`` is "gzip" (standard library), "zstd" (``chatmini[zstd]``) or "br"
    (``chatmini[brotli]``); ``level`` defaults to gzip 1, zstd 3, brotli 3 (the measured
    trade-offs in docs/compression.md). ``hosts`` limits compression to those host names (or
    ``host:port``); None compresses for every host. Share one instance between Clients to
    share what it learnt about refusing hosts.
    """

    chatmini_plugin_name = "compression"

    def __init__(
        self,
        encoding: str = "gzip",
        *,
        min_size: int = DEFAULT_MIN_SIZE,
        level: Optional[int] = None,
        hosts: Union[str, Iterable[str], None] = None,
        retry_uncompressed: bool = False,
    ) -> None:
        encoding = ALIASES.get(encoding, encoding)
        if encoding not in ENCODINGS:
            raise InvalidRequestError(
                f"Compression encoding must be one of {', '.join(ENCODINGS)}, not {encoding!r}"
            )
        codings.module_for(encoding)  # a missing optional package fails here, not per call
        if isinstance(min_size, bool) or not isinstance(min_size, int) or min_size < 0:
            raise InvalidRequestError(f"min_size must be an integer >= 0, not {min_size!r}")
        self.encoding = encoding
        self.level = codings.check_level(encoding, level)
        self.min_size = min_size
        if isinstance(hosts, str):
            hosts = [hosts]
        self.hosts = None if hosts is None else frozenset(h.lower() for h in hosts)
        self.retry_uncompressed = retry_uncompressed
        self._refusing: frozenset[str] = frozenset()
        self._lock = threading.Lock()
        self._names = re.compile(
            rf"content[-_ ]encoding|decompress|\b({_NAMES[encoding]})\b", re.I
        )

    @property
    def refusing_hosts(self) -> frozenset[str]:
        """``host:port`` of servers found to refuse compressed bodies (sent uncompressed now)."""
        return self._refusing

    @hookimpl(trylast=True)  # after every plugin that sets or changes the body
    def chatmini_prepare_request(self, request: Request) -> None:
        body = request.body
        if not isinstance(body, bytes) or len(body) < self.min_size:
            return  # no body, or a streamed upload (a StreamedBody): sent as it is
        state = request.context.get(_KEY)
        if state is None:
            state = request.context[_KEY] = _CallState()
            state.off = not self._applies(request)
        if state.off:
            return
        if state.source is not body and state.source != body:  # first attempt, or body changed
            packed = codings.compress(self.encoding, body, self.level)
            state.source, state.packed = body, packed if len(packed) < len(body) else None
        if state.packed is not None:
            request.body = state.packed
            request.headers["Content-Encoding"] = self.encoding

    @hookimpl(wrapper=True)
    def chatmini_send(self, request: Request) -> Generator[None, Any, requests.Response]:
        response: requests.Response = yield
        if response is not None and response.status_code in (400, 415):
            state = request.context.get(_KEY)
            if state is not None and state.packed is not None and request.body is state.packed:
                self._check_refusal(request, response)
        return response

    @hookimpl
    def chatmini_retry_decision(self, request: Request, error: ChatminiError) -> Optional[str]:
        if not self.retry_uncompressed or not isinstance(error, CompressionRejectedError):
            return None
        state = request.context.get(_KEY)
        if state is None or state.off:
            return None
        state.off = True
        host = urlsplit(request.url).netloc.lower()
        with self._lock:
            known, self._refusing = host in self._refusing, self._refusing | {host}
        if not known:
            logger.warning("%s refuses compressed request bodies (%s): sending them "
                           "uncompressed from now on", host, self.encoding)
        return "replay"

    def _applies(self, request: Request) -> bool:
        """Whether this call's body is compressed: host wanted and not refusing, no coding set."""
        if any(name.lower() == "content-encoding" for name in request.headers):
            return False
        parts = urlsplit(request.url)
        netloc = parts.netloc.lower()
        if netloc in self._refusing:
            return False
        return self.hosts is None or netloc in self.hosts or parts.hostname in self.hosts

    def _check_refusal(self, request: Request, response: requests.Response) -> None:
        """Raise CompressionRejectedError when this error answer is about the compressed body."""
        error = status_error(response, request)
        if response.status_code == 400 and not self._names.search(str(error.full_body)):
            return
        advice = "" if self.retry_uncompressed else (
            " Pass Compression(retry_uncompressed=True) to resend such bodies uncompressed,"
            " or leave this host out with Compression(hosts=...).")
        raise CompressionRejectedError(
            f"{urlsplit(request.url).netloc} rejects compressed request bodies "
            f"(Content-Encoding: {self.encoding}): {error.message}.{advice}",
            response=response, body=error.full_body, request=request,
        )

    def __repr__(self) -> str:
        hosts = "all hosts" if self.hosts is None else ", ".join(sorted(self.hosts))
        return (f"<Compression {self.encoding} level={self.level} min_size={self.min_size} "
                f"for {hosts}>")
