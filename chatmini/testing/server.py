"""A real local OpenAI-compatible HTTP server, built on the standard library, for tests."""

from __future__ import annotations

import json
import socket
import socketserver
import ssl
import sys
import threading
from collections import deque
from email.message import Message
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any, Iterable, Union

from ..codings import CODINGS
from .batches import BatchEngine
from .faults import FaultInjector
from .filestore import FileStore
from .handler import RecordedRequest, RequestHandler, api_path
from .replies import FRAMINGS, PER_EVENT, Reply
from .responses import ResponseStore
from .tokens import TokenIssuer

__all__ = ["RecordedRequest", "Server"]

TLS = Union[tuple[str, str], ssl.SSLContext, None]


def server_context(tls: TLS) -> ssl.SSLContext | None:
    """An https server context from (certfile, keyfile), or the context given."""
    if tls is None or isinstance(tls, ssl.SSLContext):
        return tls
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*tls)
    return context


class _HTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that reports accepted connections to its owning Server."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # the default 5 drops bursts of connects (retried only after 1 s)

    def __init__(self, owner: Server, address: tuple[str, int]) -> None:
        """Bind to address (IPv4 or IPv6) on behalf of owner."""
        self.owner = owner
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, RequestHandler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse-DNS lookup, which can be slow."""
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def process_request(self, request: Any, client_address: Any) -> None:
        """Count and track the new connection, then serve it on a daemon thread."""
        self.owner._track(request)
        super().process_request(request, client_address)

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Serve one connection; with TLS, handshake here, on the connection's own thread (a
        duplicate descriptor: stop() shuts the tracked socket down and this one with it)."""
        context = self.owner.tls
        if context is None:
            return super().finish_request(request, client_address)
        with context.wrap_socket(request.dup(), server_side=True) as tls:
            super().finish_request(tls, client_address)

    def shutdown_request(self, request: Any) -> None:
        """Forget the connection, then close it."""
        self.owner._untrack(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet about disconnects and shutdown; report anything else."""
        if isinstance(sys.exc_info()[1], OSError) or self.owner._stopping.is_set():
            return
        super().handle_error(request, client_address)


class Server:
    """A local OpenAI-compatible server in a background thread that replays scripted Replies.

    Use it as a context manager, or call ``start()`` and ``stop()`` yourself. With
    ``tls=(certfile, keyfile)`` (or an ``ssl.SSLContext``) it serves https.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, latency: float = 0.0,
        fault_rate: float = 0.0, seed: int | None = None,
        request_encodings: Iterable[str] = CODINGS,
        tls: TLS = None, framing: str = PER_EVENT,
    ) -> None:
        """Configure the address to bind; port 0 picks a free ephemeral port on start().

        ``latency`` seconds are added to every answer (waited per connection thread, so
        concurrent requests overlap); ``fault_rate`` of unscripted API requests get a random
        429 (Retry-After), 503 or dropped connection, repeatable with ``seed`` (see ``faults``).
        ``request_encodings`` are the request Content-Encodings accepted (others get a 415);
        ``()`` makes a server that refuses every compressed body. ``framing`` is how streams
        are written: ``"per-event"`` (each event its own write and HTTP chunk, as real servers
        send) or ``"coalesced"`` (all events ready at once in one write, read in one go).
        """
        if latency < 0:
            raise ValueError(f"latency must be >= 0, not {latency!r}")
        if framing not in FRAMINGS:
            raise ValueError(f"framing must be one of {', '.join(map(repr, FRAMINGS))}, "
                             f"not {framing!r}")
        self.framing = framing
        self.host = host
        self.latency = latency
        self.request_encodings = frozenset(request_encodings)
        self.faults = FaultInjector(fault_rate, seed)
        self.tls = server_context(tls)
        self._port = port
        self._lock = threading.Lock()
        self._queue: deque[Reply] = deque()
        self._requests: list[RecordedRequest] = []
        self._connections = 0
        self._seq = 0
        self._sockets: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.tokens = TokenIssuer()  # POST /oauth/token; tokens.configure(require=True) etc.
        self.responses = ResponseStore()  # what POST /v1/responses created, by id
        self.files = FileStore()  # /v1/files, kept on disk until reset() or stop()
        self.batches = BatchEngine(self.files, self._batch_request)  # /v1/batches

    @property
    def port(self) -> int:
        """The bound port (the real one once started, even when 0 was requested)."""
        return self._port

    @property
    def url(self) -> str:
        """Root URL of the server, e.g. ``http://127.0.0.1:PORT``."""
        if self._httpd is None:
            raise RuntimeError("server is not running; call start() first")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self._port}"

    @property
    def token_url(self) -> str:
        """URL of the OAuth2 token endpoint, e.g. ``http://127.0.0.1:PORT/oauth/token``."""
        return self.url + self.tokens.path

    @property
    def base_url(self) -> str:
        """OpenAI-style API base URL, e.g. ``http://127.0.0.1:PORT/v1``."""
        return self.url + "/v1"

    def start(self) -> Server:
        """Bind and start serving in a daemon thread; returns self for chaining."""
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = _HTTPServer(self, (self.host, self._port))
        self._port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"chatmini-testing-{self._port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop promptly: close the listener and every open connection, even mid-stream."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        self.batches.stop()
        httpd.shutdown()
        httpd.server_close()
        with self._lock:
            sockets = list(self._sockets)
            self._sockets.clear()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        self.files.reset()

    def __enter__(self) -> Server:
        """Start the server when entering a ``with`` block."""
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Stop the server when leaving a ``with`` block."""
        self.stop()

    def enqueue(self, *replies: Reply) -> None:
        """Append scripted replies to the FIFO queue; each answers one matching request (a
        ``Reply(repeat=True)`` answers every one from then on, until ``reset()``)."""
        with self._lock:
            self._queue.extend(replies)

    @property
    def pending(self) -> int:
        """Number of queued replies not consumed yet."""
        with self._lock:
            return len(self._queue)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Snapshot of every request received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def connections_opened(self) -> int:
        """Number of TCP connections accepted so far (for connection-reuse tests)."""
        with self._lock:
            return self._connections

    def reset(self) -> None:
        """Clear queued replies, recorded requests and counters."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self._connections = 0
            self._seq = 0
            self.faults.reset()
        self.tokens.reset()
        self.responses.clear()
        self.batches.reset()
        self.files.reset()

    def _take(self, record: RecordedRequest,
              scripted: bool = True) -> tuple[int, Reply | None]:
        """Record a request and pop the head reply if it matches (and ``scripted``)."""
        path = api_path(record.path)
        with self._lock:
            self._requests.append(record)
            self._seq += 1
            head = self._queue[0] if self._queue and scripted else None
            if head is not None and (path.endswith(head.path) if head.path is not None
                                     else path == "/v1" or path.startswith("/v1/")):
                return self._seq, head if head.repeat else self._queue.popleft()
            return self._seq, self.faults.pick() if scripted else None

    def _batch_request(self, url: str, body: Any) -> tuple[int, Reply | None]:
        """Record a request a batch runs and take its reply, as for one on the wire."""
        data = json.dumps(body).encode()
        return self._take(RecordedRequest("POST", url, Message(), data, body))

    def _track(self, sock: socket.socket) -> None:
        """Count a newly accepted connection and remember it so stop() can close it."""
        with self._lock:
            self._connections += 1
            self._sockets.add(sock)

    def _untrack(self, sock: socket.socket) -> None:
        """Forget a connection that its handler has finished with."""
        with self._lock:
            self._sockets.discard(sock)

    def __repr__(self) -> str:
        """Show the address and whether the server is running."""
        state = "running" if self._httpd is not None else "stopped"
        return f"<Server {self.host}:{self._port} {state}>"
