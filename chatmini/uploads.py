"""Request bodies sent as they are read (file uploads), so a file of hundreds of MB never sits in
memory, and re-readable so that every attempt sends the same bytes from the first one.

``Request.body`` is bytes for JSON calls; an upload's body is a ``StreamedBody``: a length
(None when unknown: it goes chunked), a content type, and ``chunks()``, which starts again from
the first byte for each attempt, or raises APIConnectionError when its source cannot be read
twice (a pipe). The transport streams it; plugins that transform bytes (compression,
MessagePack, signing) leave it alone; logs show ``describe()`` (a name and a size), never data.
"""

from __future__ import annotations

import io
import os
import stat
from typing import IO, Any, Iterator, Mapping, Optional, Union

from .errors import APIConnectionError, InvalidRequestError

CHUNK_SIZE = 64 * 1024
DEFAULT_FILENAME = "upload"  # what httpx (and so openai-python) names a part made from bytes
OCTET_STREAM = "application/octet-stream"
FileInput = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, IO[bytes], tuple[Any, ...]]


class StreamedBody:
    """A request body the transport streams in pieces; subclasses implement ``chunks``.

    ``length`` is the exact byte count (sent as Content-Length) or None (sent chunked);
    ``rewindable`` says whether ``chunks()`` can start over after bytes were read; ``consumed``
    becomes True once any byte was read, so a retry of a body that is not rewindable is refused.
    """

    length: Optional[int] = None
    content_type: str = OCTET_STREAM
    rewindable: bool = True
    consumed: bool = False

    def chunks(self) -> Iterator[bytes]:
        """The body from its first byte, in pieces (a fresh iterator for every attempt)."""
        raise NotImplementedError

    def describe(self) -> str:
        """What a log line may say about the body: never any of its bytes."""
        size = "unknown size" if self.length is None else f"{self.length:,} bytes"
        return f"{self.content_type.split(';', 1)[0]}, {size}"

    @property
    def can_resend(self) -> bool:
        """Whether another attempt can send the whole body again."""
        return self.rewindable or not self.consumed

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()}>"


class FileSource:
    """One file to upload: a path, bytes, a binary file object, or openai-python's tuple
    ``(filename, content[, content_type])``; its name, size and whether it can be read twice."""

    def __init__(self, file: FileInput) -> None:
        self.content_type = OCTET_STREAM
        if isinstance(file, tuple):
            if not 2 <= len(file) <= 3 or not isinstance(file[0], (str, type(None))):
                raise InvalidRequestError(
                    "file=(filename, content[, content_type]) needs 2 or 3 items, the first a "
                    f"name: not a tuple of {len(file)} starting with {type(file[0]).__name__}"
                )
            if len(file) == 3:
                self.content_type = _header_value(str(file[2]), "content type")
            self._take(file[1])
            self.filename = file[0] or DEFAULT_FILENAME
        else:
            self._take(file)

    def _take(self, file: Any) -> None:
        self.path: Optional[str] = None
        self.data: Optional[memoryview] = None
        self.stream: Optional[IO[bytes]] = None
        self.start = 0
        self.rewindable = True
        if isinstance(file, (str, os.PathLike)):
            self.path = os.fspath(file)
            self.filename = os.path.basename(self.path) or DEFAULT_FILENAME
            try:
                found = os.stat(self.path)
            except OSError as exc:
                raise InvalidRequestError(f"Cannot upload {self.path!r}: {exc.strerror}") from None
            if not stat.S_ISREG(found.st_mode):  # a FIFO or device: pass it open, as a stream
                raise InvalidRequestError(f"Cannot upload {self.path!r}: not a regular file")
            self.size: Optional[int] = found.st_size
            return
        if isinstance(file, (bytes, bytearray, memoryview)):
            self.data = memoryview(file).cast("B")
            self.filename, self.size = DEFAULT_FILENAME, self.data.nbytes
            return
        if not callable(getattr(file, "read", None)):
            raise InvalidRequestError(
                "file must be a path, bytes, a binary file object or (filename, content), "
                f"not {type(file).__name__}"
            )
        if isinstance(file, io.TextIOBase):
            raise InvalidRequestError("file is open in text mode: open it with 'rb'")
        self.stream = file
        name = getattr(file, "name", None)
        self.filename = os.path.basename(name) if isinstance(name, str) else DEFAULT_FILENAME
        self.size, self.rewindable = None, False
        try:
            if file.seekable():
                self.start = file.tell()
                self.size = file.seek(0, os.SEEK_END) - self.start
                file.seek(self.start)
                self.rewindable = True
        except (AttributeError, OSError, ValueError):
            pass  # not seekable after all: read once, sent chunked

    def read(self) -> Iterator[bytes]:
        """The file from its start, in CHUNK_SIZE pieces, exactly ``size`` bytes when known."""
        if self.data is not None:
            for at in range(0, self.data.nbytes, CHUNK_SIZE):
                yield bytes(self.data[at:at + CHUNK_SIZE])  # 64 KiB at a time
            return
        if self.path is not None:
            with open(self.path, "rb") as stream:
                yield from self._pieces(stream)
            return
        assert self.stream is not None
        if self.rewindable:
            self.stream.seek(self.start)
        yield from self._pieces(self.stream)

    def _pieces(self, stream: IO[bytes]) -> Iterator[bytes]:
        left = self.size
        while left is None or left > 0:
            piece = stream.read(CHUNK_SIZE if left is None else min(CHUNK_SIZE, left))
            if not piece:
                break
            if not isinstance(piece, bytes):
                raise InvalidRequestError(f"file {self.filename!r} gave {type(piece).__name__}, "
                                          "not bytes: open it in binary mode ('rb')")
            if left is not None:
                left -= len(piece)
            yield piece
        if left:  # Content-Length was sent: fewer bytes now would leave the server waiting
            raise InvalidRequestError(
                f"file {self.filename!r} shrank while it was uploaded ({left:,} bytes missing)"
            )


class MultipartBody(StreamedBody):
    """A ``multipart/form-data`` body: text ``fields``, then one file part named ``file_field``.

    The small parts are encoded once; the file is read in pieces for every attempt.
    """

    def __init__(
        self, fields: Mapping[str, str], source: FileSource, *, file_field: str = "file",
        boundary: Optional[str] = None,
    ) -> None:
        self.source = source
        boundary = boundary or "chatmini-" + os.urandom(16).hex()
        self.content_type = f"multipart/form-data; boundary={boundary}"
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}"\r\n\r\n'
            f"{_header_value(value, name)}\r\n"
            for name, value in fields.items()
        ]
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(file_field)}"; '
            f'filename="{_quoted(source.filename)}"\r\nContent-Type: {source.content_type}\r\n\r\n'
        )
        self.head = "".join(parts).encode("utf-8")
        self.tail = f"\r\n--{boundary}--\r\n".encode("ascii")
        self.rewindable = source.rewindable
        size = source.size
        self.length = None if size is None else len(self.head) + size + len(self.tail)

    def chunks(self) -> Iterator[bytes]:
        if not self.can_resend:
            raise APIConnectionError(
                f"Cannot send the upload of {self.source.filename!r} again: its source was read "
                "once and cannot be read twice (a pipe or a stream). Pass a path, bytes or a "
                "seekable file to let chatmini retry uploads."
            )
        return self._chunks()

    def _chunks(self) -> Iterator[bytes]:
        yield self.head
        for piece in self.source.read():
            self.consumed = True
            yield piece
        yield self.tail

    def describe(self) -> str:
        return f"file {self.source.filename!r}, {super().describe()}"


def _quoted(text: str) -> str:
    """A name or filename inside a quoted header parameter, escaped as browsers do (WHATWG)."""
    return text.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22")


def _header_value(text: str, what: str) -> str:
    if any(c in text for c in "\r\n\0"):
        raise InvalidRequestError(f"{what} must be one line, not {text!r}")
    return text
