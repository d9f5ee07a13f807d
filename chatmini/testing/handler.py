"""Request handler of the chatmini test server: records requests and writes the replies."""

from __future__ import annotations

import json
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from .. import codings
from . import answers, batch_routes, chat_reasoning, chat_turns, negotiation, replies
from . import responses as responses_api
from .replies import COALESCED, Reply, StreamEncoder
from .schema_answers import schema_text

if TYPE_CHECKING:
    from .filestore import Upload
    from .server import _HTTPServer

__all__ = ["RecordedRequest"]

_DEFAULT_REPLY = Reply()
OTHER_APIS = ("/v1/embeddings", "/v1/moderations", "/v1/completions")


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it, kept so tests can assert on what was sent."""

    method: str
    path: str
    headers: Message
    body: bytes
    json: Any = None


def api_path(path: str) -> str:
    """The path without its query, Azure's deployment, v1 and classic prefixes mapped to
    ``/v1``."""
    path = path.split("?", 1)[0]
    if path.startswith("/openai/deployments/"):
        rest = path[len("/openai/deployments/"):]
        return "/v1" + (rest[rest.index("/"):] if "/" in rest else "")
    if path.startswith("/openai/v1"):
        return path[len("/openai"):]
    return "/v1" + path[len("/openai"):] if path.startswith("/openai/") else path


class RequestHandler(BaseHTTPRequestHandler):
    """Answers each request from the reply queue or with the default OpenAI behaviour."""

    protocol_version = "HTTP/1.1"
    server_version = "chatmini-testing"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: _HTTPServer
    _seq: int = 0
    _upload: Upload | None = None  # a POST /v1/files body, received to disk

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Silence the default per-request logging to stderr."""

    def version_string(self) -> str:
        """Identify the server without Python's version suffix."""
        return self.server_version

    def handle(self) -> None:
        """Serve requests until the client or the server closes, ignoring disconnects."""
        try:
            super().handle()
        except OSError:
            self.close_connection = True

    def do_GET(self) -> None:  # noqa: N802
        """Dispatch a GET request."""
        self._dispatch()

    def do_POST(self) -> None:  # noqa: N802
        """Dispatch a POST request (an upload's file is removed unless the store took it)."""
        try:
            self._dispatch()
        finally:
            if self._upload is not None:
                self._upload.discard()
                self._upload = None

    def do_PUT(self) -> None:  # noqa: N802
        """Dispatch a PUT request."""
        self._dispatch()

    def do_PATCH(self) -> None:  # noqa: N802
        """Dispatch a PATCH request."""
        self._dispatch()

    def do_DELETE(self) -> None:  # noqa: N802
        """Dispatch a DELETE request."""
        self._dispatch()

    def _read_body(self) -> bytes:
        """Read the whole request body (Content-Length or chunked) so keep-alive stays usable."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        """Record the request, take the scripted reply (if any) and answer it."""
        self._upload = batch_routes.receive_upload(self)
        body = self._read_body() if self._upload is None else b""
        owner = self.server.owner
        parsed, refusal = negotiation.read_body(self.headers, body, owner.request_encodings)
        if self._upload is not None:
            parsed = self._upload.summary()  # recorded in place of the file's bytes
        tokens = owner.tokens
        token_request = None
        if self.command == "POST" and self.path.split("?", 1)[0] == tokens.path:
            token_request, reply = tokens.take(body, self.headers)
        else:
            record = RecordedRequest(self.command, self.path, self.headers, body, parsed)
            refused = tokens.refuses(self.headers.get("Authorization"))
            self._seq, reply = owner._take(record, scripted=not refused and refusal is None)
            if refused:
                reply = tokens.unauthorized()
            elif refusal is not None:
                reply = Reply(status=refusal[0], body=replies.error_payload(*refusal))
        reply = reply or _DEFAULT_REPLY
        delay = reply.delay + owner.latency
        if delay > 0 and owner._stopping.wait(delay):
            self.close_connection = True
            return
        if reply.drop:
            self.close_connection = True
            return
        if reply.body is not None:
            data, content_type = reply.encoded_body()
            self._send(reply.status, data, content_type, reply)
        elif reply.status >= 400:
            self._send_json(reply.status, replies.error_payload(reply.status), reply)
        elif token_request is not None:
            status, payload = tokens.answer(token_request)
            self._send_json(status, payload, reply)
        else:
            self._route(reply, parsed)

    def _route(self, reply: Reply, request: Any) -> None:
        """Produce the default answer for the request's method and path."""
        path = api_path(self.path)
        if reply.raw_stream is not None:
            self._stream(reply, [reply.raw_stream])
        elif self.command == "POST" and path == "/v1/chat/completions":
            if not isinstance(request, dict):
                message = "We could not parse the JSON body of your request."
                self._send_json(400, replies.error_payload(400, message), reply)
                return
            text = reply.content
            if text is None:
                echo = replies.default_text(request)
                text = schema_text(request.get("response_format"), echo) or echo
            turn = None
            if reply.tool_calls or reply.refusal is not None or reply.finish_reason is not None:
                turn = chat_turns.plan(text, reply, self._seq)
            if request.get("stream") is True:
                events = replies.stream_events(
                    request, self._seq, text, chunks=reply.chunks, error_event=reply.error_event,
                    done=not reply.no_done, line_ending=reply.line_ending, turn=turn,
                    reply=reply)
                self._stream(reply, events)
            else:
                payload = replies.completion(request, self._seq, text, turn, reply)
                self._send_json(reply.status, payload, reply)
        elif self.command == "GET" and path == "/v1/models":
            self._send_json(reply.status, replies.models(), reply)
        elif self.command == "GET" and path.startswith("/v1/models/"):
            name = unquote(path[len("/v1/models/"):])
            found = answers.known_model(name)
            if found is None:
                self._send_json(404, answers.model_not_found(name), reply)
            else:
                self._send_json(reply.status, found, reply)
        elif self.command == "POST" and path in OTHER_APIS:
            self._answer_other(path, reply, request)
        elif path == responses_api.PREFIX or path.startswith(responses_api.PREFIX + "/"):
            answer = responses_api.answer(self.command, self.path, path, request, reply,
                                          self._seq, self.server.owner.responses)
            if answer.events is None:
                self._send_json(answer.status, answer.payload, reply)
            else:
                self._stream(reply, answer.events)
        elif path.startswith(batch_routes.PREFIXES):
            batch_routes.route(self, reply, path, request)
        elif self.command == "POST" and path.startswith("/v1/"):
            self._send_json(reply.status, {"object": "echo", "path": self.path, "json": request},
                            reply)
        else:
            message = f"Invalid URL ({self.command} {path})"
            self._send_json(404, replies.error_payload(404, message), reply)

    def _answer_other(self, path: str, reply: Reply, request: Any) -> None:
        """Embeddings, moderations and legacy completions (``answers``); a 400 naming the
        field for a request the API would refuse."""
        try:
            if not isinstance(request, dict):
                raise answers.Invalid("We could not parse the JSON body of your request.")
            if path == "/v1/embeddings":
                payload = answers.embeddings(request)
            elif path == "/v1/moderations":
                payload = answers.moderations(request, self._seq)
            elif request.get("stream") is True:
                self._stream(reply, answers.completion_events(
                    request, self._seq, reply.content, chunks=reply.chunks,
                    error_event=reply.error_event, done=not reply.no_done,
                    extras=reply.chunk_extras,
                    usage_on=chat_reasoning.usage_on(reply, request.get("stream_options") or {})))
                return
            else:
                payload = answers.completion(request, self._seq, reply.content)
        except answers.Invalid as exc:
            self._send_json(400, answers.invalid(exc), reply)
            return
        self._send_json(reply.status, payload, reply)

    def _send_headers(self, status: int, defaults: dict[str, str], reply: Reply) -> None:
        """Send the status line, default headers overridden by the reply's, and x-request-id."""
        headers = {"x-request-id": f"req_{self._seq}", **defaults}
        for name, value in reply.headers.items():
            for existing in [k for k in headers if k.lower() == name.lower()]:
                del headers[existing]
            headers[name] = value
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def _send(self, status: int, data: bytes, content_type: str, reply: Reply) -> None:
        """Send a complete, Content-Length-delimited response (compressed if the reply says)."""
        defaults = {"Content-Type": content_type}
        if reply.content_encoding:
            data = codings.compress(reply.content_encoding, data)
            defaults["Content-Encoding"] = reply.content_encoding
        defaults["Content-Length"] = str(len(data))
        self._send_headers(status, defaults, reply)
        self.wfile.write(data)

    def _send_json(self, status: int, payload: Any, reply: Reply) -> None:
        """Send a JSON response (MessagePack for a success when the request prefers it)."""
        if status < 300:
            data, content_type = negotiation.answer(payload, self.headers.get("Accept"))
        else:
            data, content_type = json.dumps(payload).encode(), "application/json"
        self._send(status, data, content_type, reply)

    def _stream(self, reply: Reply, events: list[bytes]) -> None:
        """Write an event stream with the reply's coding, framing, pause and cut behaviour
        (each event its own HTTP chunk unless the server's framing is coalesced)."""
        defaults = {"Content-Type": "text/event-stream",
                    "Cache-Control": "no-cache"}
        if reply.close_delimited:
            defaults["Connection"] = "close"
        else:
            defaults["Transfer-Encoding"] = "chunked"
        coding = reply.content_encoding or ("gzip" if reply.gzip else None)
        if coding:
            defaults["Content-Encoding"] = coding
        self._send_headers(reply.status, defaults, reply)
        if reply.close_delimited:
            self.close_connection = True
        encoder = StreamEncoder(coding=coding, chunked=not reply.close_delimited)
        total = len(events)
        if reply.cut_after is not None:
            events = events[:reply.cut_after]
        pause_at = reply.pause_after
        if pause_at is not None and pause_at < len(events):
            self._write_events(encoder, events[:pause_at])
            if self.server.owner._stopping.wait(reply.pause):
                self.close_connection = True
                return
            events = events[pause_at:]
        self._write_events(encoder, events)
        if reply.cut_after is not None and reply.cut_after < total:
            self.close_connection = True
            return
        self.wfile.write(encoder.finish())

    def _write_events(self, encoder: StreamEncoder, events: list[bytes]) -> None:
        """Write events as real servers do, each in its own write (and HTTP chunk), or all in
        one (the server's ``framing="coalesced"``)."""
        if self.server.owner.framing == COALESCED:
            self.wfile.write(encoder.encode(events))
            return
        write, encode = self.wfile.write, encoder.encode
        for event in events:
            write(encode([event]))
