"""A fault-injecting TCP proxy for tests: it sits between a client and a server and breaks
answers on purpose, per request: connection resets, truncation, stalls and slow drips.

``with FaultProxy(server.url) as proxy:`` then point the client at ``proxy.base_url``;
``proxy.enqueue(Fault("reset", after_headers=True))`` breaks the next answer. It knows no HTTP
beyond this: a request starts when the client sends bytes after answer bytes (or first), and
the answer's headers end at the first blank line.
"""

from __future__ import annotations

import dataclasses
import random
import select
import socket
import struct
import threading
import time
from collections import Counter, deque
from typing import Optional, Sequence, Union
from urllib.parse import urlsplit

__all__ = ["DEFAULT_FAULTS", "Fault", "FaultProxy"]

ACTIONS = ("reset", "close", "stall", "drip")
BREAKING = ("reset", "close")  # actions that end the connection at once
HEADER_END = b"\r\n\r\n"
TICK = 0.05  # how often an idle connection thread looks at the stop flag
READ_SIZE = 65536


@dataclasses.dataclass(frozen=True)
class Fault:
    """What the proxy does to one answer: let ``after`` bytes through, then ``action``.

    ``reset`` aborts the client's connection (TCP RST); ``close`` ends it cleanly (FIN): a
    truncated answer; ``stall`` sends nothing more (the client's read timeout has to fire);
    ``drip`` sends the rest ``size`` bytes every ``interval`` seconds, ``limit`` bytes in all
    (None: to the end), then the rest at once. ``after`` counts from the end of the headers when
    ``after_headers``; a ``range`` picks a random offset in it each time the fault is used.
    """

    action: str
    after: Union[int, range] = 0
    after_headers: bool = False
    interval: float = 0.1
    size: int = 1
    limit: Optional[int] = None

    def __post_init__(self) -> None:
        """Reject actions and numbers that would make the fault ambiguous."""
        if self.action not in ACTIONS:
            raise ValueError(f"action must be one of {ACTIONS}, not {self.action!r}")
        if self.size < 1 or self.interval < 0:
            raise ValueError("size must be >= 1 and interval >= 0")

    @property
    def label(self) -> str:
        """A short name: ``reset@headers+0``, ``close@120``, ``stall@0`` ..."""
        where = "headers+" if self.after_headers else ""
        return f"{self.action}@{where}{self.after}"

    def resolved(self, rng: random.Random) -> Fault:
        """This fault with a random ``after`` picked from its range (itself if fixed)."""
        if isinstance(self.after, range):
            return dataclasses.replace(self, after=rng.choice(self.after))
        return self


DEFAULT_FAULTS: tuple[Fault, ...] = (
    Fault("reset"),  # before the answer
    Fault("reset", after_headers=True),  # right after the headers
    Fault("reset", after=range(0, 2048)),  # at a random byte (often inside a stream)
    Fault("close", after=range(0, 2048)),  # a clean close: a truncated answer
)


class _Exchange:
    """One request and its answer on a connection, with the fault applied to the answer."""

    __slots__ = ("fault", "sent", "head", "threshold", "fired")

    def __init__(self, fault: Optional[Fault]) -> None:
        self.fault = fault
        self.sent = 0  # answer bytes received from upstream so far
        self.head = b""  # the start of the answer, until its headers end
        self.threshold: Optional[int] = None if fault is None or fault.after_headers else (
            int(fault.after)  # type: ignore[arg-type]  # resolved: an int
        )
        self.fired = False

    def locate(self, data: bytes) -> None:
        """Note where the headers end, to place an ``after_headers`` threshold."""
        if self.threshold is not None or self.fault is None:
            return
        start = self.sent - len(data) - len(self.head)
        self.head += data
        end = self.head.find(HEADER_END)
        if end >= 0:
            after = int(self.fault.after)  # type: ignore[arg-type]  # resolved: an int
            self.threshold = start + end + len(HEADER_END) + after
            self.head = b""


class FaultProxy:
    """Forwards connections to ``upstream`` (a URL or (host, port)), breaking chosen answers.

    Scripted faults (``enqueue``) apply to the next requests in order; otherwise a
    ``fault_rate`` share of requests get one of ``faults`` at random (repeatable with ``seed``).
    ``injected`` counts faults used, ``fired`` those whose moment came (an ``after`` beyond the
    end of a short answer never fires), both by label.
    """

    def __init__(
        self, upstream: Union[str, tuple[str, int]], *, host: str = "127.0.0.1",
        fault_rate: float = 0.0, faults: Sequence[Fault] = DEFAULT_FAULTS,
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
        self._queue: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._stopping = threading.Event()
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
        self._stopping.clear()
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
        self._stopping.set()
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

    def _pick(self) -> Optional[Fault]:
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

    def _note_fired(self, fault: Fault) -> None:
        with self._lock:
            self.fired[fault.label] += 1

    # -- connections -------------------------------------------------------------------------

    def _accept(self) -> None:
        listener = self._listener
        while listener is not None and not self._stopping.is_set():
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
            _Pipe(self, client, upstream).run()
        except (OSError, ValueError):
            pass  # a peer went away, or stop() closed the sockets under us
        finally:
            with self._lock:
                self._sockets.discard(client)
                self._sockets.discard(upstream)  # type: ignore[arg-type]
            client.close()
            if upstream is not None:
                upstream.close()

    def __repr__(self) -> str:
        state = "running" if self._listener is not None else "stopped"
        target = f"{self.upstream[0]}:{self.upstream[1]}"
        return f"<FaultProxy {self.host}:{self.port} -> {target} {state}>"


class _Pipe:
    """Moves bytes both ways for one connection and applies each answer's fault."""

    def __init__(self, proxy: FaultProxy, client: socket.socket, upstream: socket.socket):
        self.proxy = proxy
        self.client = client
        self.upstream = upstream
        self.exchange: Optional[_Exchange] = None
        self.mode = "pass"  # pass | hold (stalled) | drip
        self.dripping = bytearray()
        self.dripped = 0
        self.next_drip = 0.0
        self.upstream_open = True

    def run(self) -> None:
        while not self.proxy._stopping.is_set():
            readers = [self.client]
            if self.upstream_open:
                readers.append(self.upstream)
            wait = TICK
            if self.mode == "drip" and self.dripping:
                wait = max(0.0, min(TICK, self.next_drip - time.monotonic()))
            ready, _, _ = select.select(readers, [], [], wait)
            if self.client in ready:
                data = self.client.recv(READ_SIZE)
                if not data:
                    return  # the client hung up
                self._request(data)
            if self.upstream in ready:
                data = self.upstream.recv(READ_SIZE)
                if data:
                    self._answer(data)
                else:
                    self.upstream_open = False
            if self.mode == "drip":
                self._drip()
            if not self.upstream_open and not self.dripping and self.mode != "hold":
                self.client.shutdown(socket.SHUT_WR)  # the server closed: pass the close on
                return

    def _request(self, data: bytes) -> None:
        exchange = self.exchange
        if exchange is None or exchange.sent:  # bytes after an answer: a new request
            self.exchange = _Exchange(self.proxy._pick())
            self.mode = "pass"
        self.upstream.sendall(data)

    def _answer(self, data: bytes) -> None:
        exchange = self.exchange
        if exchange is None:
            self.client.sendall(data)
            return
        exchange.sent += len(data)
        if self.mode == "hold":
            return
        if self.mode == "drip":
            self.dripping += data
            return
        if not exchange.fired:
            exchange.locate(data)
        threshold = exchange.threshold
        if exchange.fired or threshold is None or threshold > exchange.sent:
            self.client.sendall(data)
            return
        cut = max(0, threshold - (exchange.sent - len(data)))
        if cut:
            self.client.sendall(data[:cut])
        self._fire(exchange, data[cut:])

    def _fire(self, exchange: _Exchange, rest: bytes) -> None:
        fault = exchange.fault
        assert fault is not None
        exchange.fired = True
        self.proxy._note_fired(fault)
        if fault.action == "reset":
            self.client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            raise ConnectionAbortedError("fault: reset")
        if fault.action == "close":
            self.client.shutdown(socket.SHUT_RDWR)
            raise ConnectionAbortedError("fault: close")
        if fault.action == "stall":
            self.mode = "hold"
            return
        self.mode = "drip"
        self.dripping = bytearray(rest)
        self.dripped = 0
        self.next_drip = time.monotonic()

    def _drip(self) -> None:
        now = time.monotonic()
        if not self.dripping or now < self.next_drip:
            return
        fault = self.exchange.fault if self.exchange is not None else None
        assert fault is not None
        piece = bytes(self.dripping[: fault.size])
        del self.dripping[: fault.size]
        self.client.sendall(piece)
        self.dripped += len(piece)
        self.next_drip = now + fault.interval
        if fault.limit is not None and self.dripped >= fault.limit:
            self.client.sendall(bytes(self.dripping))  # enough dripping: the rest at once
            self.dripping = bytearray()
            self.mode = "pass"


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
