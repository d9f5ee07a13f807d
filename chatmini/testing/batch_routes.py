"""The test server's routes for ``/v1/files`` and ``/v1/batches``: the request handler hands these
paths here, after scripted replies, faults and token checks had their say, as for any path."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional
from urllib.parse import parse_qs, unquote

from .filestore import BLOCK, Upload, error_payload
from .replies import Reply

if TYPE_CHECKING:
    from .handler import RequestHandler

PREFIXES = ("/v1/files", "/v1/batches")
FILES_LIMIT = (10000, 10000)  # (default, most) items a list page holds
BATCHES_LIMIT = (20, 100)


def receive_upload(handler: RequestHandler) -> Optional[Upload]:
    """A ``POST /v1/files`` multipart body, streamed to disk; None for any other request."""
    path = handler.path.split("?", 1)[0]
    kind = (handler.headers.get("Content-Type") or "").lower()
    if handler.command != "POST" or not path.endswith("/files") or "multipart/" not in kind:
        return None
    return handler.server.owner.files.receive(handler.headers, handler.rfile)


def route(handler: RequestHandler, reply: Reply, path: str, body: Any) -> None:
    """Answer a request to ``/v1/files...`` or ``/v1/batches...``."""
    owner = handler.server.owner
    files, batches = owner.files, owner.batches
    query = {k: v[-1] for k, v in parse_qs(handler.path.partition("?")[2]).items()}
    parts = [unquote(p) for p in path.split("/")[2:]]  # ["files", id, "content"]
    method = handler.command

    def send(status: int, payload: Any) -> None:
        handler._send_json(status, payload, reply)

    if parts == ["files"] and method == "POST":
        upload = handler._upload
        if upload is None:
            send(400, error_payload("Expected a multipart/form-data body with 'file' and "
                                    "'purpose'."))
        else:
            send(*files.commit(upload))
    elif parts == ["files"] and method == "GET":
        items = files.objects(query.get("purpose"))
        send(*page(items if query.get("order") == "asc" else items[::-1], query, FILES_LIMIT))
    elif len(parts) == 2 and parts[0] == "files" and method in ("GET", "DELETE"):
        found = files.get(parts[1])
        if found is None:
            send(404, error_payload(f"No such File object: {parts[1]}"))
        elif method == "GET":
            send(200, found)
        else:
            files.delete(parts[1])
            send(200, {"id": parts[1], "object": "file", "deleted": True})
    elif len(parts) == 3 and parts[0] == "files" and parts[2] == "content" and method == "GET":
        stored = files.path(parts[1])
        if stored is None:
            send(404, error_payload(f"No such File object: {parts[1]}"))
        else:
            send_file(handler, reply, stored)
    elif parts == ["batches"] and method == "POST":
        send(*batches.create(body))
    elif parts == ["batches"] and method == "GET":
        send(*page(batches.objects(), query, BATCHES_LIMIT))
    elif len(parts) == 2 and parts[0] == "batches" and method == "GET":
        found = batches.retrieve(parts[1])
        send(*((200, found) if found is not None else (404, error_payload(
            f"No batch found with id '{parts[1]}'."))))
    elif len(parts) == 3 and parts[0] == "batches" and parts[2] == "cancel" and method == "POST":
        send(*batches.cancel(parts[1]))
    else:
        send(404, error_payload(f"Invalid URL ({method} {path})"))


def page(items: list[dict[str, Any]], query: dict[str, str],
         limits: tuple[int, int]) -> tuple[int, dict[str, Any]]:
    """(status, payload) of one list page: the items after ``after``, at most ``limit``."""
    try:
        limit = int(query.get("limit") or limits[0])
    except ValueError:
        limit = 0
    if not 1 <= limit <= limits[1]:
        return 400, error_payload(f"Invalid 'limit': must be between 1 and {limits[1]}.")
    after = query.get("after")
    if after is not None:
        ids = [item["id"] for item in items]
        items = items[ids.index(after) + 1:] if after in ids else []
    shown = items[:limit]
    return 200, {"object": "list", "data": shown, "has_more": len(items) > limit,
                 "first_id": shown[0]["id"] if shown else None,
                 "last_id": shown[-1]["id"] if shown else None}


def send_file(handler: RequestHandler, reply: Reply, path: str) -> None:
    """A file's bytes, Content-Length delimited, written in blocks."""
    with open(path, "rb") as stream:
        stream.seek(0, 2)
        size = stream.tell()
        stream.seek(0)
        handler._send_headers(reply.status, {"Content-Type": "application/octet-stream",
                                             "Content-Length": str(size)}, reply)
        while True:
            block = stream.read(BLOCK)
            if not block:
                return
            handler.wfile.write(block)
