"""Reading a streamed body as it arrives, with the least machinery per read.

Real servers write each event as its own HTTP chunk, so a stream costs one read per event and
whatever a read costs is paid per event. A chunked body with no content coding is therefore
read straight from the connection's buffer (``read1``: whatever has arrived, up to 64 KiB,
one ``recv`` at most) and de-chunked here, a few slices a read; urllib3's ``read1`` (its
decoder and buffers, a context manager, http.client's chunk reader underneath) cost about three
times as much. Close-delimited and compressed bodies, and any response that is not urllib3's
over http.client, keep urllib3's ``read1``. Either way a read returns as soon as bytes arrive,
so an event reaches the caller the moment its last byte does.

After a stream's end (``[DONE]``, a terminal event) the rest of the body is read so the
connection can be reused: at most ``MAX_DRAIN`` bytes within ``DRAIN_SECONDS``, each read waiting
no longer than that; a server that keeps sending comments, or goes silent, gets its connection
closed instead, and the caller's loop ends at once either way.
"""

from __future__ import annotations

import contextlib
import http.client
from time import monotonic
from typing import TYPE_CHECKING, Any, Callable, Iterator, Union

if TYPE_CHECKING:
    import requests

READ_SIZE = 65536
MAX_LINE = 4096  # a chunk-size line (size and extensions) or one trailer line
MAX_TRAILERS = 65536  # all trailer lines together
MAX_DRAIN = 8192  # bytes read after the end of a stream to keep its connection; past it, close
DRAIN_SECONDS = 0.5  # and the time that may take
_HEX = b"0123456789abcdefABCDEF"


class WireError(Exception):
    """The body broke its framing, or the connection closed before the body ended."""


class Read1Body:
    """Any body urllib3 can read (close-delimited, compressed): its ``read1``, decoded."""

    __slots__ = ("_raw", "ended")

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self.ended = False  # the body ended (read returned b"" for that reason)

    def read(self) -> bytes:
        """Decoded bytes as they arrive; b"" at the end of the body."""
        data: bytes = self._raw.read1(READ_SIZE, decode_content=True)
        if not data:
            self.ended = True
        return data

    def release(self) -> None:
        """Read what is left (bounded: see the module) so the connection can be reused (urllib3
        returns it to the pool at the end of the body); else close it."""
        if not _drain(self, self._raw):
            self._raw.close()


class ChunkedBody:
    """A chunked body with no content coding, de-chunked straight from the connection's buffer.

    ``read()`` returns the chunk data that arrived (b"" when a read carried only framing, or
    once the body ``ended`` after its last chunk and trailers); a size line, a chunk's missing
    CRLF or a close before the last chunk raise WireError. ``release()`` gives the connection
    back to urllib3's pool once the body is read to its end.
    """

    __slots__ = ("_raw", "_http", "_read1", "_left", "_crlf", "_line", "_trailers", "ended")

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self._http: http.client.HTTPResponse = raw._fp
        self._read1: Callable[[int], bytes] = self._http.fp.read1
        self._left = 0  # data bytes of the current chunk still to come
        self._crlf = 0  # bytes of the CRLF after a chunk's data still to come (2, 1 or 0)
        self._line = b""  # the start of a size (or trailer) line that a read cut
        self._trailers = -1  # trailer bytes read after the last chunk; -1: not there yet
        self.ended = False

    def read(self) -> bytes:
        """The chunk data of the next read from the connection (see the class)."""
        if self.ended:
            return b""
        data = self._read1(READ_SIZE)
        if not data:
            raise WireError("the connection closed before the end of the chunked body")
        if not (self._left or self._crlf or self._line) and self._trailers < 0:
            # A read that is exactly one whole chunk: what a live stream nearly always brings.
            end = data.find(b"\r\n")
            if 0 < end <= 16 and not data[:end].lstrip(_HEX):
                start = end + 2
                stop = start + int(data[:end], 16)
                if stop + 2 == len(data) and stop > start and data[stop:] == b"\r\n":
                    return data[start:stop]
        return self._dechunk(data)

    def _dechunk(self, data: bytes) -> bytes:
        """Every case: reads holding several chunks, parts of one, or framing cut anywhere."""
        out = []
        pos, size = 0, len(data)
        while pos < size and not self.ended:
            if not (self._left or self._crlf or self._line) and self._trailers < 0:
                end = data.find(b"\r\n", pos)  # whole chunks one after another: the fast way
                digits = data[pos:end]
                if 0 < end - pos <= 16 and not digits.lstrip(_HEX):
                    start = end + 2
                    stop = start + int(digits, 16)
                    if start < stop <= size - 2 and data[stop:stop + 2] == b"\r\n":
                        out.append(data[start:stop])
                        pos = stop + 2
                        continue
            if self._left:
                take = min(self._left, size - pos)
                out.append(data[pos:pos + take])
                pos += take
                self._left -= take
                if not self._left:
                    self._crlf = 2
            elif self._crlf:
                want = b"\r\n"[2 - self._crlf:]
                got = data[pos:pos + len(want)]
                if not want.startswith(got):
                    raise WireError("the server's chunked body is malformed: a chunk's data "
                                    "is not followed by CRLF")
                pos += len(got)
                self._crlf -= len(got)
            else:
                end = data.find(b"\n", pos)
                line = self._line + data[pos:size if end < 0 else end]
                if len(line) > MAX_LINE:
                    raise WireError(f"the server's chunked body is malformed: a line of more "
                                    f"than {MAX_LINE:,} bytes")
                if end < 0:
                    self._line = line
                    break
                self._line, pos = b"", end + 1
                self._take_line(line.rstrip(b"\r"))
        return b"".join(out)

    def _take_line(self, line: bytes) -> None:
        """A size line starts a chunk (size 0: the trailers follow); a blank trailer line
        ends the body."""
        if self._trailers >= 0:
            self._trailers += len(line) + 2
            if not line:
                self.ended = True
            elif self._trailers > MAX_TRAILERS:
                raise WireError(f"the server's chunked body is malformed: more than "
                                f"{MAX_TRAILERS:,} bytes of trailers")
            return
        digits = line.split(b";", 1)[0].strip(b" \t")
        if not digits or len(digits) > 16 or digits.lstrip(_HEX):
            raise WireError("the server's chunked body is malformed: a chunk size line is not "
                            "a hexadecimal size")
        self._left = int(digits, 16)
        if not self._left:
            self._trailers = 0

    def release(self) -> None:
        """Read to the end of the body (the last chunk follows a stream's end; bounded: see the
        module), then give the connection back to the pool; a broken, endless or silent body
        closes it instead."""
        if not _drain(self, self._raw):
            self._raw.close()
            return
        self._http.close()  # http.client's own end of a body: the socket stays open
        self._raw.release_conn()


def _drain(body: Union[ChunkedBody, Read1Body], raw: Any) -> bool:
    """Read ``body`` to its end within MAX_DRAIN bytes and DRAIN_SECONDS; whether it ended."""
    end = monotonic() + DRAIN_SECONDS
    drained = 0
    try:
        with _reads_until(raw, end):
            while not body.ended and drained <= MAX_DRAIN and monotonic() < end:
                drained += len(body.read())
    except Exception:  # noqa: BLE001 - a broken or silent body: the connection is closed
        return False
    return body.ended


@contextlib.contextmanager
def _reads_until(raw: Any, end: float) -> Iterator[None]:
    """Each read of the response ``raw`` waits until ``end`` at most (chatmini's connections
    bound their reads by a deadline, any other's socket gets a timeout), as before afterwards."""
    original = getattr(raw, "_original_response", None)
    reader = getattr(original, "deadline_io", None)
    if reader is not None:  # a BoundedResponse's reader (transport.connection)
        deadline, reason = reader.deadline, reader._reason
        if deadline is None or end < deadline:
            reader.limit(end, "draining the end of the stream")
        try:
            yield
        finally:
            reader.limit(deadline, *reason)
        return
    sock = getattr(getattr(raw, "_connection", None), "sock", None)
    before = sock.gettimeout() if sock is not None else None
    if sock is not None:
        sock.settimeout(DRAIN_SECONDS)
    try:
        yield
    finally:
        if sock is not None:
            sock.settimeout(before)


Body = Union[ChunkedBody, Read1Body]


def open_body(response: requests.Response) -> Body:
    """The reader for a streamed response: de-chunked from the socket buffer when it can be."""
    raw = response.raw
    httpresp = getattr(raw, "_fp", None)
    if (
        getattr(raw, "chunked", False)
        and isinstance(httpresp, http.client.HTTPResponse)
        and httpresp.chunked
        and httpresp.chunk_left is None  # http.client has read none of the body
        and getattr(raw, "_fp_bytes_read", None) == 0  # nor has urllib3
        and hasattr(httpresp.fp, "read1")
        and response.headers.get("content-encoding", "identity").lower() == "identity"
    ):
        return ChunkedBody(raw)
    return Read1Body(raw)
