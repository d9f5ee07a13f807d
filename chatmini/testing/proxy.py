"""A fault-injecting TCP proxy for tests: it sits between a client and a server and breaks
answers on purpose, per request: connection resets, truncation, stalls and slow drips.

``with FaultProxy(server.url) as proxy:`` then point the client at ``proxy.base_url``;
``proxy.enqueue(Fault("reset", after_headers=True))`` breaks the next answer. It knows no HTTP
beyond this: a request starts when the client sends bytes after answer bytes (or first), and
the answer's headers end at the first blank line.
"""

from __future__ import annotations

import random
import socket
import threading
from collections import Counter, deque
from typing import Optional, Sequence, Union
from urllib.parse import urlsplit

from .proxy_pipe import DEFAULT_PROXY_FAULTS, TICK, Fault, Pipe

__all__ = ["DEFAULT_PROXY_FAULTS", "Fault", "FaultProxy"]


class FaultProxy:
    """Forwards connections to ``upstream`` (a URL or (host, port)), breaking chosen answers.

    Scripted faults (``enqueue``) apply to the next requests in order; otherwise a
    ``fault_rate`` share of requests get one of ``faults`` at random (repeatable with ``seed``).
    ``injected`` counts faults used, ``fired`` those whose moment came (an ``after`` beyond the
    end of a short answer never fires), both by label.
    """

    def __init__(
        self, upstream: Union[str, tuple[str, int]], *, host: str = "127.0.0.1",
        fault_rate: float = 0.0, faults: Sequence[Fault] = DEFAULT_PROXY_FAULTS,
        seed: Optional[int] = None,
    ) -> None:
        """Configure; nothing listens until ``start()``."""
        if not 0.0 <= fault_rate <= 1.0:
            raise ValueError(f"fault_rate must be between 0 and 1, not {fault_rate!r}")
        if isinstance(upstream, str):
            parts = urlsplit(upstream)
            upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.upstream = upstream
        self.host = host
        self.fault_rate = fault_rate
        self.faults = tuple(faults)
        self.injected: Counter[str] = Counter()
        self.fired: Counter[str] = Counter()
        self._random = random.Random(seed)
        self._queue: deque[Optional[Fault]] = deque()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self.stopping = threading.Event()
        self._listener: Optional[socket.socket] = None
        self._thread: Optional[threading.Thread] = None
        self._connections = 0
        self._requests = 0
        self.port = 0

    # -- lifetime ----------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        """Listen on a free port and accept connections on a daemon thread."""
        if self._listener is not None:
            return self
        self.stopping.clear()
        listener = socket.create_server((self.host, 0), backlog=128)
        listener.settimeout(TICK)
        self._listener, self.port = listener, listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, name=f"fault-proxy-{self.port}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting and cut every open connection."""
        listener, self._listener = self._listener, None
        if listener is None:
            return
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Root URL of the proxy, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """OpenAI-style API base URL through the proxy, e.g. ``http://127.0.0.1:PORT/v1``."""
        return self.url + "/v1"

    # -- scripting and counters --------------------------------------------------------------

    def enqueue(self, *faults: Optional[Fault]) -> None:
        """Faults for the next requests, in order (None: let that one through untouched)."""
        with self._lock:
            self._queue.extend(faults)

    @property
    def pending(self) -> int:
        """Scripted faults not used yet."""
        with self._lock:
            return len(self._queue)

    @property
    def connections_opened(self) -> int:
        """Client connections accepted so far (each opens one connection upstream)."""
        with self._lock:
            return self._connections

    @property
    def requests_seen(self) -> int:
        """Requests seen so far (a request starts with client bytes after answer bytes)."""
        with self._lock:
            return self._requests

    def pick_fault(self) -> Optional[Fault]:
        """The fault for a new request: scripted first, else random at ``fault_rate``."""
        with self._lock:
            self._requests += 1
            if self._queue:
                fault = self._queue.popleft()
            elif self.fault_rate and self.faults and self._random.random() < self.fault_rate:
                fault = self._random.choice(self.faults)
            else:
                return None
            if fault is not None:
                fault = fault.resolved(self._random)
                self.injected[fault.label] += 1
            return fault

    def note_fired(self, fault: Fault) -> None:
        """Count a fault whose moment came (called by the connection's Pipe)."""
        with self._lock:
            self.fired[fault.label] += 1

    # -- connections -------------------------------------------------------------------------

    def _accept(self) -> None:
        listener = self._listener
        while listener is not None and not self.stopping.is_set():
            try:
                client, _ = listener.accept()
            except (socket.timeout, OSError):
                continue
            with self._lock:
                self._connections += 1
                self._sockets.add(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream: Optional[socket.socket] = None
        try:
            upstream = socket.create_connection(self.upstream, timeout=5)
            with self._lock:
                self._sockets.add(upstream)
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.settimeout(None)
            Pipe(self, client, upstream).run()
        except (OSError, ValueError):
            pass  # a peer went away, or stop() closed the sockets under us
        finally:
            with self._lock:
                self._sockets.discard(client)
                self._sockets.discard(upstream)
            client.close()
            if upstream is not None:
                upstream.close()

    def __repr__(self) -> str:
        state = "running" if self._listener is not None else "stopped"
        target = f"{self.upstream[0]}:{self.upstream[1]}"
        return f"<FaultProxy {self.host}:{self.port} -> {target} {state}>"


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
