"""The connections chatmini's own pools make: interim (1xx) answers skipped, reads that end by a
deadline, TCP keepalive, and the headers and a small body sent in one write.

http.client skips only ``100 Continue``; any other 1xx (``103 Early Hints``) would be taken for
the answer, with an empty body, and the real answer left in the socket for the next request.
RFC 9110 §15.2 says a client must skip them. Every socket read resets the socket's timeout, so a
server sending one header line every 0.3 s holds a 1 s timeout for ever; here the headers must
all arrive within the read timeout, and a deadline (the call's total, a plain body's read
budget) bounds every later read as well, each recv waiting at most the time left (a stream's
reads too, whether urllib3 reads the body or ``streaming.wire`` reads it from the buffer).
urllib3 sends the headers and the body in two writes: two system calls and, on loopback, the
kernel's TCP work twice, each costing the sender about as much as parsing the answer's headers.
"""

from __future__ import annotations

import http.client
import io
import socket
from time import monotonic
from typing import Any, Optional

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from ..timeouts import DeadlineExceeded
from .heads import read_head

MAX_INTERIM = 32  # 1xx answers skipped before one request's answer; more is a broken server
ONE_WRITE = 65536  # a body up to this size goes out in one write with the headers


SLACK = 0.01  # seconds a recv may wait past its deadline: the socket's timeout (a system call
# to change) is only changed when the time left is shorter by more than this
_socket_readinto = socket.SocketIO.readinto


class DeadlineIO(socket.SocketIO):
    """A socket reader whose reads end by ``deadline`` (monotonic seconds), when one is set:
    each recv waits at most the time left (plus SLACK), or the socket's own timeout if shorter.
    Without a deadline it reads as the plain socket reader does (no extra call per read)."""

    deadline: Optional[float] = None
    _reason: tuple[str, float] = ("", 0.0)  # a message and its number, formatted when raised
    _timeout: Optional[float] = None  # the socket's own timeout, put back by ``limit(None)``
    _applied: Optional[float] = None  # the shorter timeout set on the socket, if any

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(sock, "rb")
        self.socket = sock
        self.readinto = _socket_readinto.__get__(self)  # type: ignore[method-assign]

    def limit(self, deadline: Optional[float], reason: str = "", value: float = 0.0) -> None:
        """Bound every later read by ``deadline`` (None: only the socket's own timeout);
        ``reason`` (a format string for ``value``) says which limit that is, in the error."""
        if self._applied is not None:
            self.socket.settimeout(self._timeout)
            self._applied = None
        else:
            self._timeout = self.socket.gettimeout()
        self.deadline, self._reason = deadline, (reason, value)
        if deadline is None:  # BufferedReader calls the plain reader again
            self.readinto = _socket_readinto.__get__(self)  # type: ignore[method-assign]
        else:
            vars(self).pop("readinto", None)

    @property
    def reason(self) -> str:
        """What the deadline is, for the error."""
        text, value = self._reason
        return text.format(value)

    def readinto(self, b: Any) -> Optional[int]:
        deadline = self.deadline
        if deadline is None:
            return _socket_readinto(self, b)
        left = deadline - monotonic()
        if left <= 0:
            raise DeadlineExceeded(self.reason)
        waits = self._applied if self._applied is not None else self._timeout
        if waits is None or left < waits - SLACK:
            self.socket.settimeout(left)
            self._applied = left
        try:
            return _socket_readinto(self, b)
        except socket.timeout as exc:
            if monotonic() >= deadline - 0.001:
                raise DeadlineExceeded(self.reason) from exc
            raise


class BoundedResponse(http.client.HTTPResponse):
    """http.client's response, reading through a DeadlineIO: the headers must arrive within
    the socket's timeout (the read timeout) as a whole, and 1xx answers are skipped; a plain
    head is read in one go (``heads``)."""

    def __init__(self, sock: Any, *args: Any, **kwargs: Any) -> None:
        self.deadline_io: Optional[DeadlineIO] = None
        if isinstance(sock, socket.socket):  # not urllib3's TLS-in-TLS SSLTransport
            self.deadline_io = DeadlineIO(sock)
            sock._io_refs += 1  # type: ignore[attr-defined]  # as socket.makefile() counts it
            sock = _Made(io.BufferedReader(self.deadline_io))
        super().__init__(sock, *args, **kwargs)

    def begin(self) -> None:
        raw = self.deadline_io
        if raw is None or self.headers is not None:
            return super().begin()
        budget = raw.socket.gettimeout()  # the read timeout, as urllib3 just set it
        if budget is not None:
            raw.limit(monotonic() + budget,
                      "the response headers took longer than the {:g} s read timeout", budget)
        try:
            if self.debuglevel > 0 or not read_head(self):
                super().begin()
        finally:
            raw.limit(None)

    def _read_status(self) -> tuple[str, int, str]:
        """The final status line: interim 1xx answers (but 101) and their headers skipped."""
        for _ in range(MAX_INTERIM):
            version, status, reason = super()._read_status()  # type: ignore[misc]
            if not 100 <= status < 200 or status == 101:
                return version, status, reason
            http.client.parse_headers(self.fp)  # bounded in count and line length
        raise http.client.HTTPException(f"more than {MAX_INTERIM} interim (1xx) answers")


class _Made:
    """What http.client's response asks ``makefile("rb")`` of: the reader already made."""

    __slots__ = ("reader",)

    def __init__(self, reader: io.BufferedReader) -> None:
        self.reader = reader

    def makefile(self, mode: str) -> io.BufferedReader:
        return self.reader


class _OneWrite:
    """A connection that sends the headers and a body of bytes up to ONE_WRITE in one write
    (urllib3 sends them in two); a larger or streamed body goes as urllib3 sends it."""

    _held: Optional[bytes] = None

    def request(self, method: str, url: str, body: Any = None, *args: Any, **kwargs: Any) -> None:
        self._held = b"" if type(body) is bytes and len(body) <= ONE_WRITE else None
        try:
            super().request(method, url, body, *args, **kwargs)  # type: ignore[misc]
        finally:
            held, self._held = self._held, None
            if held:  # no body followed the headers
                super().send(held)  # type: ignore[misc]

    def send(self, data: Any) -> None:
        held = self._held
        if held is not None:
            if not held:
                self._held = data  # the headers: held for the body
                return
            self._held, data = None, held + data
        super().send(data)  # type: ignore[misc]


class BoundedHTTPConnection(_OneWrite, HTTPConnection):
    """urllib3's HTTPConnection: bounded responses, headers and a small body in one write."""

    response_class = BoundedResponse


class BoundedHTTPSConnection(_OneWrite, HTTPSConnection):
    """urllib3's HTTPSConnection: bounded responses, headers and a small body in one write."""

    response_class = BoundedResponse


class BoundedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = BoundedHTTPConnection


class BoundedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = BoundedHTTPSConnection


POOL_CLASSES = {"http": BoundedHTTPConnectionPool, "https": BoundedHTTPSConnectionPool}


def limit_reads(raw: Any, deadline: Optional[float], reason: str, value: float = 0.0) -> None:
    """Bound the rest of a response's reads by ``deadline`` (when it came through these
    connections; a Session of the caller's own may use others); ``reason`` formats ``value``."""
    original = getattr(raw, "_original_response", None)
    if isinstance(original, BoundedResponse) and original.deadline_io is not None:
        original.deadline_io.limit(deadline, reason, value)
