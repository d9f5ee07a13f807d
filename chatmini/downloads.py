"""Response bodies kept out of memory (file downloads): the transport writes a 2xx body into the
call's ``Request.sink`` instead of ``response.content``, and the caller reads a ``FileContent``.

The body is read inside the attempt, as every body is (bounded by the read timeout and
``max_response_bytes``), so a download cut halfway is retried like any failed attempt: the sink
starts empty again for each attempt. Up to ``memory`` bytes stay in memory, the rest goes to an
anonymous temporary file; plugins see an empty ``response.content`` and never the data.
"""

from __future__ import annotations

import os
import shutil
from typing import IO, TYPE_CHECKING, Any, Iterator, Optional, Union

if TYPE_CHECKING:
    from requests.structures import CaseInsensitiveDict

SPOOL_MEMORY = 1024 * 1024
READ_SIZE = 64 * 1024


class SpooledSink:
    """Where a download goes: memory up to ``memory`` bytes, then a temporary file."""

    def __init__(self, memory: int = SPOOL_MEMORY) -> None:
        self.memory = memory
        self.file: Optional[IO[bytes]] = None
        self.size = 0

    def start(self) -> None:
        """Begin an attempt's body: whatever an earlier attempt wrote is dropped."""
        import tempfile  # only downloads need it

        self.close()
        self.file = tempfile.SpooledTemporaryFile(max_size=self.memory)  # noqa: SIM115
        self.size = 0

    def write(self, data: bytes) -> None:
        assert self.file is not None, "start() comes first"
        self.file.write(data)
        self.size += len(data)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


class FileContent:
    """A downloaded body (``client.files.content(id)``), read from a spool, not from memory.

    openai-python's binary response names: ``write_to_file(path)``, ``iter_bytes()``,
    ``iter_lines()`` (text lines without their line ending), ``read()`` / ``content`` and
    ``text`` (the whole body in memory: for small files). Use it as a context manager, or call
    ``close()``, to free the temporary file at once.
    """

    def __init__(
        self, sink: SpooledSink, headers: CaseInsensitiveDict[str], status_code: int,
        context: Optional[dict[str, Any]] = None,
    ) -> None:
        self._sink = sink
        self.headers = headers
        self.status_code = status_code
        self.context = context if context is not None else {}

    @property
    def size(self) -> int:
        """The body's length in bytes (decoded)."""
        return self._sink.size

    @property
    def _request_id(self) -> Optional[str]:
        """The server's ``x-request-id``, as openai-python exposes it."""
        return self.headers.get("x-request-id")

    def _file(self) -> IO[bytes]:
        spool = self._sink.file
        if spool is None:
            raise ValueError("FileContent is closed")
        spool.seek(0)
        return spool

    def iter_bytes(self, chunk_size: int = READ_SIZE) -> Iterator[bytes]:
        """The body in pieces of at most ``chunk_size`` bytes."""
        spool = self._file()
        while True:
            piece = spool.read(chunk_size)
            if not piece:
                return
            yield piece

    def iter_lines(self, encoding: str = "utf-8") -> Iterator[str]:
        """Each line of the body, decoded, without its ``\\n`` or ``\\r\\n`` (split on ``\\n``
        only, so a U+2028 inside a JSON string never splits a JSONL line)."""
        for raw in self._file():
            yield raw.decode(encoding).rstrip("\r\n")

    def read(self) -> bytes:
        """The whole body as bytes (in memory)."""
        return self._file().read()

    @property
    def content(self) -> bytes:
        """The whole body as bytes (in memory)."""
        return self.read()

    @property
    def text(self) -> str:
        """The whole body as UTF-8 text (in memory)."""
        return self.read().decode("utf-8")

    def write_to_file(self, file: Union[str, os.PathLike[str]]) -> None:
        """Copy the body to ``file`` (replaced), piece by piece."""
        with open(file, "wb") as out:
            shutil.copyfileobj(self._file(), out, READ_SIZE)

    stream_to_file = write_to_file  # openai-python's streaming-response name

    def close(self) -> None:
        """Free the temporary file (the content cannot be read afterwards)."""
        self._sink.close()

    def __enter__(self) -> FileContent:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<FileContent {self.size:,} bytes>"
