"""The test server's ``/v1/files``: uploads streamed to disk as they arrive (a 200 MB upload never
sits in memory, on either side), and the files kept in a temporary directory until ``reset``.

``server.files`` is the store: ``add(content, filename, purpose)`` puts a file there directly,
``read(file_id)`` gives its bytes, ``objects()`` the file objects; ``max_bytes`` bounds uploads.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from email.message import Message
from io import BufferedIOBase
from typing import Any, Callable, Iterator, Optional

BLOCK = 64 * 1024
HEAD_LIMIT = 16 * 1024  # a part's headers, or a text field, larger than this is refused
PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
BATCH_LIMIT = 200 * 1024 * 1024  # OpenAI's size limit for purpose=batch


class BadUpload(ValueError):
    """An upload the server answers with a 400 (the message says why)."""


@dataclass
class Upload:
    """A multipart request body received to disk: its text fields and its file part."""

    fields: dict[str, str] = field(default_factory=dict)
    filename: Optional[str] = None
    path: Optional[str] = None
    size: int = 0
    error: Optional[str] = None

    def summary(self) -> dict[str, Any]:
        """What ``server.requests`` records instead of the body: fields and the file's size."""
        file = None if self.path is None else {"filename": self.filename, "bytes": self.size}
        return {**self.fields, "file": file}

    def discard(self) -> None:
        """Remove the received file unless the store took it."""
        if self.path is not None and os.path.exists(self.path):
            os.unlink(self.path)


class FileStore:
    """Files of one test server, on disk, in upload order."""

    def __init__(self, max_bytes: int = 512 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._files: dict[str, dict[str, Any]] = {}
        self._dir: Optional[str] = None
        self._count = 0

    def _folder(self) -> str:
        with self._lock:
            if self._dir is None:
                self._dir = tempfile.mkdtemp(prefix="chatmini-files-")
            return self._dir

    def _new_id(self, prefix: str) -> str:
        with self._lock:
            self._count += 1
            return f"{prefix}{self._count:06d}{os.urandom(6).hex()}"

    # -- receiving ---------------------------------------------------------------------------

    def receive(self, headers: Message, rfile: BufferedIOBase) -> Upload:
        """Read a multipart body from ``rfile`` into a file of this store's folder.

        A connection that ends early raises ConnectionError after removing the partial file;
        a malformed body gives an Upload whose ``error`` says why (the body is still drained).
        """
        upload = Upload()
        blocks = body_blocks(headers, rfile)
        try:
            boundary = multipart_boundary(headers.get("Content-Type") or "")
            reader = PartReader(blocks, boundary)
            for _headers, name, filename in reader.parts():
                if filename is None:
                    upload.fields[name] = reader.small_part().decode("utf-8", "replace")
                    continue
                if upload.path is not None:
                    raise BadUpload("Expected one file part, got more.")
                handle, upload.path = tempfile.mkstemp(dir=self._folder(), prefix="incoming-")
                with os.fdopen(handle, "wb") as out:
                    upload.size = reader.copy_part(out.write, self.max_bytes)
                upload.filename = filename
        except BadUpload as exc:
            upload.discard()
            upload.path, upload.error = None, str(exc)
            for _ in blocks:  # drain, so the connection stays usable for the 400
                pass
        except BaseException:
            upload.discard()
            raise
        return upload

    def commit(self, upload: Upload) -> tuple[int, dict[str, Any]]:
        """(status, payload) for ``POST /v1/files``: the new file object, or an error."""
        purpose = upload.fields.get("purpose")
        problem = upload.error
        if problem is None and upload.path is None:
            problem = "Missing required parameter: 'file'."
        if problem is None and not purpose:
            problem = "Missing required parameter: 'purpose'."
        if problem is None and purpose not in PURPOSES:
            problem = f"Invalid value for 'purpose': {purpose!r}; expected one of {PURPOSES}."
        if problem is None and purpose == "batch" and upload.size > BATCH_LIMIT:
            problem = f"File is too large for purpose 'batch' (limit {BATCH_LIMIT} bytes)."
        if problem is not None:
            upload.discard()
            return 400, error_payload(problem)
        assert upload.path is not None and purpose is not None
        record = self._keep(upload.path, upload.filename or "upload", purpose, upload.size)
        upload.path = None
        return 200, record

    def add(self, content: bytes, filename: str, purpose: str = "batch") -> dict[str, Any]:
        """Put a file in the store directly (tests, and the batch engine's output files)."""
        handle, path = tempfile.mkstemp(dir=self._folder(), prefix="file-")
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        return self._keep(path, filename, purpose, len(content))

    def _keep(self, path: str, filename: str, purpose: str, size: int) -> dict[str, Any]:
        file_id = self._new_id("file-")
        created = int(time.time())
        record = {
            "id": file_id, "object": "file", "bytes": size, "created_at": created,
            "expires_at": created + 30 * 86400 if purpose.startswith("batch") else None,
            "filename": filename, "purpose": purpose, "status": "processed",
            "status_details": None,
        }
        stored = os.path.join(os.path.dirname(path), file_id)
        os.replace(path, stored)
        with self._lock:
            self._files[file_id] = {"object": record, "path": stored}
        return record

    # -- reading -----------------------------------------------------------------------------

    def get(self, file_id: str) -> Optional[dict[str, Any]]:
        """The file object, or None."""
        with self._lock:
            entry = self._files.get(file_id)
        return None if entry is None else dict(entry["object"])

    def path(self, file_id: str) -> Optional[str]:
        """Where the file's bytes are, or None."""
        with self._lock:
            entry = self._files.get(file_id)
        return None if entry is None else str(entry["path"])

    def read(self, file_id: str) -> bytes:
        """The file's bytes (KeyError for an unknown id)."""
        path = self.path(file_id)
        if path is None:
            raise KeyError(file_id)
        with open(path, "rb") as stream:
            return stream.read()

    def objects(self, purpose: Optional[str] = None) -> list[dict[str, Any]]:
        """Every file object, oldest first (only those of ``purpose`` when given)."""
        with self._lock:
            found = [dict(entry["object"]) for entry in self._files.values()]
        return [f for f in found if purpose is None or f["purpose"] == purpose]

    def delete(self, file_id: str) -> bool:
        """Remove a file; False when there was none."""
        with self._lock:
            entry = self._files.pop(file_id, None)
        if entry is None:
            return False
        os.unlink(entry["path"])
        return True

    def reset(self) -> None:
        """Forget every file and remove the folder."""
        with self._lock:
            folder, self._dir = self._dir, None
            self._files.clear()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    def __len__(self) -> int:
        with self._lock:
            return len(self._files)


def error_payload(message: str, code: Optional[str] = None) -> dict[str, Any]:
    """OpenAI's error body for a 4xx about the request."""
    return {"error": {"message": message, "type": "invalid_request_error", "param": None,
                      "code": code}}


def multipart_boundary(content_type: str) -> bytes:
    """The boundary of a ``multipart/form-data`` Content-Type (BadUpload when there is none)."""
    message = Message()
    message["Content-Type"] = content_type
    boundary = message.get_param("boundary")
    if message.get_content_type() != "multipart/form-data" or not isinstance(boundary, str):
        raise BadUpload("Expected a multipart/form-data body with a boundary.")
    return boundary.encode("latin-1")


def body_blocks(headers: Message, rfile: BufferedIOBase) -> Iterator[bytes]:
    """The request body in blocks: Content-Length or chunked; ConnectionError when cut."""
    if "chunked" in (headers.get("Transfer-Encoding") or "").lower():
        while True:
            size = int(rfile.readline(1024).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return
            yield from _exactly(rfile, size)
            rfile.readline(1024)
    yield from _exactly(rfile, int(headers.get("Content-Length") or 0))


def _exactly(rfile: BufferedIOBase, size: int) -> Iterator[bytes]:
    while size > 0:
        block = rfile.read(min(BLOCK, size))
        if not block:
            raise ConnectionError("the client closed the connection mid-body")
        size -= len(block)
        yield block


class PartReader:
    """A streaming multipart/form-data parser: parts one after another, each read in blocks."""

    def __init__(self, blocks: Iterator[bytes], boundary: bytes) -> None:
        self._blocks = blocks
        self._buffer = bytearray(b"\r\n")  # so the first delimiter looks like every other one
        self._delimiter = b"\r\n--" + boundary

    def _fill(self) -> bool:
        block = next(self._blocks, None)
        if block is None:
            return False
        self._buffer += block
        return True

    def _take_until(self, marker: bytes, limit: int) -> bytes:
        while True:
            at = self._buffer.find(marker)
            if at >= 0:
                found = bytes(self._buffer[:at])
                del self._buffer[:at + len(marker)]
                return found
            if len(self._buffer) > limit or not self._fill():
                raise BadUpload("Malformed multipart body.")

    def parts(self) -> Iterator[tuple[Message, str, Optional[str]]]:
        """Each part's headers, field name and filename (None for a text field); the caller
        reads the part's data before asking for the next."""
        self._take_until(self._delimiter, HEAD_LIMIT)
        while True:
            while len(self._buffer) < 2 and self._fill():
                pass
            if self._buffer[:2] == b"--":
                return
            raw = self._take_until(b"\r\n\r\n", HEAD_LIMIT)
            headers = Message()
            for line in raw.decode("utf-8", "replace").split("\r\n")[1:]:
                key, _, value = line.partition(":")
                headers[key.strip()] = value.strip()
            name = headers.get_param("name", header="Content-Disposition")
            filename = headers.get_param("filename", header="Content-Disposition")
            if not isinstance(name, str):
                raise BadUpload("A multipart part has no name.")
            yield headers, name, filename if isinstance(filename, str) else None

    def small_part(self) -> bytes:
        """A text field's data, bounded."""
        return self._take_until(self._delimiter, HEAD_LIMIT)

    def copy_part(self, write: Callable[[bytes], Any], limit: int) -> int:
        """Copy a file part's data to ``write``, block by block; its size."""
        keep = len(self._delimiter) - 1
        size = 0
        while True:
            at = self._buffer.find(self._delimiter)
            end = at if at >= 0 else max(0, len(self._buffer) - keep)
            if end:
                write(bytes(self._buffer[:end]))
                size += end
                del self._buffer[:end]
            if size > limit:
                raise BadUpload(f"File is larger than the server's limit of {limit} bytes.")
            if at >= 0:
                del self._buffer[:len(self._delimiter)]
                return size
            if not self._fill():
                raise BadUpload("Malformed multipart body (it ends inside a file).")
