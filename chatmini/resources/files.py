"""``client.files``: upload (streamed, never the whole file in memory), retrieve, list, delete,
and download (into a spool, read by line or copied to a path)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Mapping, Optional

from ..downloads import FileContent, SpooledSink
from ..errors import InvalidRequestError
from ..objects import FileDeleted, FileObject
from ..options import checked_mapping
from ..pipeline import send_call
from ..uploads import FileSource, MultipartBody
from .pagination import CursorPage, Resource, path_id

Query = Optional[Mapping[str, Any]]

if TYPE_CHECKING:
    import requests

    from ..request import Request
    from ..timeouts import TimeoutLike as Timeout
    from ..uploads import FileInput


class FilePage(CursorPage[FileObject]):
    """A page of ``client.files.list()``."""

    __slots__ = ()
    item_type = FileObject


class Files(Resource):
    """``client.files``."""

    def create(
        self, *, file: FileInput, purpose: str,
        expires_after: Optional[Mapping[str, Any]] = None, timeout: Timeout = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Query = None, extra_body: Query = None,
    ) -> FileObject:
        """Upload ``file`` (a path, bytes, a binary file object, or ``(filename, content[,
        content_type])``) as multipart/form-data, read in 64 KiB pieces as it is sent.

        A path, bytes or a seekable file is sent again from its first byte when an attempt is
        retried; a pipe is read once, so a failed attempt ends the call (the error says why).
        """
        if not isinstance(purpose, str) or not purpose:
            raise InvalidRequestError(f"purpose must be a non-empty string, not {purpose!r}")
        fields = {"purpose": purpose}
        for name, value in (expires_after or {}).items():
            fields[f"expires_after[{name}]"] = str(value)  # openai-python's form encoding
        for name, value in (checked_mapping("extra_body", extra_body) or {}).items():
            fields[name] = str(value)  # a form has no JSON body: extra fields go in the form
        body = MultipartBody(fields, FileSource(file))
        call = self._build("POST", "/files", timeout=timeout, extra_headers=extra_headers,
                           extra_query=extra_query)
        call.body = body
        call.headers["Content-Type"] = body.content_type
        return self._send(call, FileObject)

    def retrieve(self, file_id: str, *, timeout: Timeout = None,
                 extra_headers: Optional[Mapping[str, str]] = None,
                 extra_query: Query = None, extra_body: Query = None) -> FileObject:
        """The file's metadata."""
        return self._call("GET", f"/files/{path_id(file_id, 'file_id')}", FileObject,
                          timeout=timeout, extra_headers=extra_headers, extra_query=extra_query,
                          extra_body=extra_body)

    def list(
        self, *, after: Optional[str] = None, limit: Optional[int] = None,
        order: Optional[Literal["asc", "desc"]] = None, purpose: Optional[str] = None,
        timeout: Timeout = None, extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Query = None, extra_body: Query = None,
    ) -> FilePage:
        """The first page of files; iterate it for every file (later pages load lazily)."""
        query = {"after": after, "limit": limit, "order": order, "purpose": purpose}
        return self._list("/files", FilePage, query, timeout=timeout,
                          extra_headers=extra_headers, extra_query=extra_query,
                          extra_body=extra_body)

    def delete(self, file_id: str, *, timeout: Timeout = None,
               extra_headers: Optional[Mapping[str, str]] = None,
               extra_query: Query = None, extra_body: Query = None) -> FileDeleted:
        """Delete the file."""
        return self._call("DELETE", f"/files/{path_id(file_id, 'file_id')}", FileDeleted,
                          timeout=timeout, extra_headers=extra_headers, extra_query=extra_query,
                          extra_body=extra_body)

    def content(self, file_id: str, *, timeout: Timeout = None,
                extra_headers: Optional[Mapping[str, str]] = None,
                extra_query: Query = None, extra_body: Query = None) -> FileContent:
        """Download the file's content into a spool (memory up to 1 MiB, then a temporary
        file): ``.write_to_file(path)``, ``.iter_lines()``, ``.read()``. A download cut halfway
        is retried like any attempt; ``max_response_bytes`` of the Client bounds its size."""
        headers = {"Accept": "application/binary", **(extra_headers or {})}
        call = self._build("GET", f"/files/{path_id(file_id, 'file_id')}/content",
                           timeout=timeout, extra_headers=headers, extra_query=extra_query,
                           extra_body=extra_body)
        sink = call.sink = SpooledSink()

        def wrap(response: requests.Response, request: Request) -> FileContent:
            if sink.file is None:  # a plugin answered in place of the transport
                sink.start()
                sink.write(response.content)
            return FileContent(sink, response.headers, response.status_code, request.context)

        try:
            return send_call(self._client, call, wrap)
        except BaseException:
            sink.close()
            raise
