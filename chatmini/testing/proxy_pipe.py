"""What the fault proxy does to the bytes of one connection: the Fault an answer gets, and
the loop that moves bytes both ways and applies it (see ``chatmini.testing.proxy``)."""

from __future__ import annotations

import dataclasses
import random
import select
import socket
import struct
import time
from typing import TYPE_CHECKING, Optional, Union

if TYPE_CHECKING:
    from .proxy import FaultProxy

__all__ = ["DEFAULT_PROXY_FAULTS", "Fault", "Pipe"]

ACTIONS = ("reset", "close", "stall", "drip")
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
    With ``in_request`` the count is of the request's bytes instead (``reset`` or ``close``
    only): the connection is cut while the client is still sending, e.g. mid-upload, and the
    server sees the request end early.
    """

    action: str
    after: Union[int, range] = 0
    after_headers: bool = False
    interval: float = 0.1
    size: int = 1
    limit: Optional[int] = None
    in_request: bool = False

    def __post_init__(self) -> None:
        """Reject actions and numbers that would make the fault ambiguous."""
        if self.action not in ACTIONS:
            raise ValueError(f"action must be one of {ACTIONS}, not {self.action!r}")
        if self.size < 1 or self.interval < 0:
            raise ValueError("size must be >= 1 and interval >= 0")
        if self.in_request and (self.action not in ("reset", "close") or self.after_headers):
            raise ValueError("in_request faults are 'reset' or 'close', counted from the start")

    @property
    def label(self) -> str:
        """A short name: ``reset@headers+0``, ``close@120``, ``reset@request+4096`` ..."""
        where = "headers+" if self.after_headers else "request+" if self.in_request else ""
        return f"{self.action}@{where}{self.after}"

    def resolved(self, rng: random.Random) -> Fault:
        """This fault with a random ``after`` picked from its range (itself if fixed)."""
        if isinstance(self.after, range):
            return dataclasses.replace(self, after=rng.choice(self.after))
        return self


# What the FaultProxy does to a connection (wire level); the Server's own HTTP faults are
# DEFAULT_SERVER_FAULTS.
DEFAULT_PROXY_FAULTS: tuple[Fault, ...] = (
    Fault("reset"),  # before the answer
    Fault("reset", after_headers=True),  # right after the headers
    Fault("reset", after=range(0, 2048)),  # at a random byte (often inside a stream)
    Fault("close", after=range(0, 2048)),  # a clean close: a truncated answer
)


class _Exchange:
    """One request and its answer on a connection, with the fault applied to the answer."""

    __slots__ = ("fault", "sent", "received", "head", "threshold", "fired")

    def __init__(self, fault: Optional[Fault]) -> None:
        self.fault = fault
        self.sent = 0  # answer bytes received from upstream so far
        self.received = 0  # request bytes received from the client so far
        self.head = b""  # the start of the answer, until its headers end
        self.threshold: Optional[int] = None if (
            fault is None or fault.after_headers or fault.in_request
        ) else int(fault.after)  # type: ignore[arg-type]  # resolved: an int
        self.fired = False

    def locate(self, data: bytes) -> None:
        """Note where the headers end, to place an ``after_headers`` threshold."""
        if self.threshold is not None or self.fault is None or self.fault.in_request:
            return
        start = self.sent - len(data) - len(self.head)
        self.head += data
        end = self.head.find(HEADER_END)
        if end >= 0:
            after = int(self.fault.after)  # type: ignore[arg-type]  # resolved: an int
            self.threshold = start + end + len(HEADER_END) + after
            self.head = b""


class Pipe:
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
        while not self.proxy.stopping.is_set():
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
            exchange = self.exchange = _Exchange(self.proxy.pick_fault())
            self.mode = "pass"
        fault = exchange.fault
        if fault is not None and fault.in_request and not exchange.fired:
            exchange.received += len(data)
            cut = int(fault.after) - (exchange.received - len(data))  # type: ignore[arg-type]
            if cut < len(data):
                self.upstream.sendall(data[:max(0, cut)])
                self._fire(exchange, b"")  # ends this connection, upstream closed with it
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
        self.proxy.note_fired(fault)
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
