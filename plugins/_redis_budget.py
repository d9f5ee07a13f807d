"""A rate-limit budget kept in Redis and shared by every process that names it: one script call
reserves a request's turn (its wait is slept here, no polling), finished requests are settled
by the next call or a keeper thread, and held leases are renewed while their requests run."""

from __future__ import annotations

import itertools
import os
import socket
import threading
import time
import weakref
from collections import deque
from typing import Any, Callable, Optional

from chatmini.plugins._budget import TooLate
from chatmini.plugins._redis_scripts import LIMIT_LUA, NOT_NOW

SETTLE_DELAY = 0.05  # a finished request's token correction waits this long for a ride
MAX_POLL = 0.25  # longest sleep before asking Redis again for a turn
HORIZON = 0.1  # turns are reserved at most this far ahead: later ones ask again (refunds and
# cool-downs may change them), sleeping the time the script says, by one thread per process


class Ticket:
    """One acquired request: its budget name, lease id ("" without a slot cap) and tokens."""

    __slots__ = ("name", "lease", "tokens")

    def __init__(self, name: str, lease: str, tokens: float) -> None:
        self.name = name
        self.lease = lease
        self.tokens = tokens


class RedisBudget:
    """Requests/tokens per minute and leased concurrency slots, in Redis under ``prefix``.

    ``acquire(name, tokens)`` returns a Ticket once the request may go; ``settle`` queues its
    correction, sent with the next acquire or by the keeper thread within SETTLE_DELAY (at
    once when it starts a cool-down, or frees a slot while some worker found none free).
    Redis errors propagate to the caller; the keeper reports its own through ``on_error``.
    ``round_trips`` counts script calls.
    """

    def __init__(
        self,
        redis: Any,
        prefix: str,
        rpm: Optional[float],
        tpm: Optional[float],
        max_concurrent: Optional[int],
        lease_ttl: float,
        on_error: Callable[[Exception], None],
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.lease_ttl = lease_ttl
        self._limits = [f"{(rpm or 0) / 60:.9g}", f"{(tpm or 0) / 60:.9g}",
                        str(max_concurrent or 0), f"{lease_ttl:.6g}", f"{HORIZON:.6g}"]
        self._leases = max_concurrent is not None
        self._script = redis.register_script(LIMIT_LUA)
        self._on_error = on_error
        self._lock = threading.Lock()
        self._pending: dict[str, list[tuple[str, float, float]]] = {}
        self._oldest = 0.0  # when the oldest pending settlement was queued
        self._urgent = False
        self._held: dict[str, str] = {}  # lease id -> budget name, renewed by the keeper
        self._line: deque[threading.Condition] = deque()  # threads waiting for a free slot
        self._cool_until: dict[str, float] = {}  # monotonic time, as last heard from Redis
        self._contended: dict[str, bool] = {}  # some worker recently found every slot taken
        self._ids = itertools.count()
        self._wake = threading.Event()
        self._keeper: Optional[threading.Thread] = None
        self._closed = False
        self.round_trips = 0
        if hasattr(os, "register_at_fork"):
            ref = weakref.ref(self)
            os.register_at_fork(after_in_child=lambda: _forget(ref))

    # -- acquiring ---------------------------------------------------------------------------

    def acquire(self, name: str, tokens: float, deadline: Optional[float] = None) -> Ticket:
        """Wait for this request's turn (and a slot), then return its ticket; TooLate at once
        when the turn is due after ``deadline`` (``time.monotonic()`` seconds), or when it
        passes waiting for a slot."""
        self._ensure_keeper()
        lease = self._new_lease() if self._leases else ""
        while True:
            if self._line:  # others here wait already: queue behind them
                status, wait = self._wait_in_line(name, tokens, lease, 0.0, deadline)
            else:
                status, wait = self._reserve(name, tokens, lease, deadline)
                if status == NOT_NOW:
                    status, wait = self._wait_in_line(
                        name, tokens, lease, max(wait, 0.001), deadline
                    )
            ticket = Ticket(name, lease, tokens)
            if lease:
                with self._lock:
                    self._held[lease] = name
            if wait > 0:
                if deadline is not None and time.monotonic() + wait >= deadline:
                    self.settle(ticket, -tokens, 0.0, True)  # give the reserved turn back
                    raise TooLate(wait)
                time.sleep(wait)
                if self._cool_until.get(name, 0.0) > time.monotonic():
                    self.settle(ticket, -tokens, 0.0, True)  # a cool-down began: queue again
                    lease = self._new_lease() if self._leases else ""
                    continue
            return ticket

    def _new_lease(self) -> str:
        return f"{socket.gethostname()}:{os.getpid()}:{id(self):x}:{next(self._ids)}"

    def _reserve(
        self, name: str, tokens: float, lease: str, deadline: Optional[float]
    ) -> tuple[int, float]:
        """One script call carrying this name's pending settlements; (status, seconds).
        TooLate when not reserved and the turn (or ``deadline``) is past ``deadline``."""
        with self._lock:
            carried = self._pending.pop(name, [])
        reply = self._call(name, ["1", f"{tokens:.9g}", lease], carried, [])
        status = int(reply[0])
        if status == NOT_NOW and deadline is not None:
            turn, now = float(reply[4]), time.monotonic()
            if turn > 0 and now + turn >= deadline:
                raise TooLate(turn)
            if now >= deadline:  # still no slot
                raise TooLate(None)
        return status, float(reply[1])

    def _wait_in_line(
        self, name: str, tokens: float, lease: str, wait: float, deadline: Optional[float]
    ) -> tuple[int, float]:
        """Not this request's turn yet: local threads queue, the head alone asks Redis again
        when told to (at most MAX_POLL later) or at once when this process frees a slot."""
        turn = threading.Condition(self._lock)
        try:
            with self._lock:
                self._line.append(turn)
                while self._line[0] is not turn:
                    if deadline is not None and time.monotonic() >= deadline:
                        raise TooLate(None)
                    turn.wait(None if deadline is None else deadline - time.monotonic())
            while True:
                with self._lock:
                    if wait > 0 and name not in self._pending:
                        poll = min(wait, MAX_POLL)
                        if deadline is not None:
                            poll = max(min(poll, deadline - time.monotonic()), 0.0)
                        turn.wait(poll)
                status, wait = self._reserve(name, tokens, lease, deadline)
                if status != NOT_NOW:
                    return status, wait
                wait = max(wait, 0.001)
        finally:
            with self._lock:
                self._line.remove(turn)
                if self._line:
                    self._line[0].notify()

    # -- settling ----------------------------------------------------------------------------

    def settle(self, ticket: Ticket, token_delta: float, cool_down: float, release: bool) -> None:
        """Queue a request's correction: tokens (real minus estimate), a cool-down for every
        worker, and (``release``) its slot back."""
        lease = ticket.lease if release else ""
        if not lease and not token_delta and not cool_down:
            return
        with self._lock:
            if lease:
                self._held.pop(lease, None)
            queue = self._pending.setdefault(ticket.name, [])
            if not self._pending_count():
                self._oldest = time.monotonic()
            queue.append((lease, token_delta, cool_down))
            if cool_down > 0:
                self._cool_until[ticket.name] = time.monotonic() + cool_down
            if self._line:  # a waiting head carries it at once: it may bring its turn closer
                self._line[0].notify()
            elif cool_down or (lease and self._contended.get(ticket.name, True)):
                self._urgent = True
        self._wake.set()

    def _pending_count(self) -> int:
        return sum(len(queue) for queue in self._pending.values())

    def flush(self, renew: bool = False) -> None:
        """Send every pending settlement (and with ``renew`` extend every held lease) now."""
        with self._lock:
            pending, self._pending, self._urgent = self._pending, {}, False
            held: dict[str, list[str]] = {}
            if renew:
                for lease, name in self._held.items():
                    held.setdefault(name, []).append(lease)
        for name in set(pending) | set(held):
            self._call(name, ["0", "0", ""], pending.get(name, []), held.get(name, []))

    def _call(
        self, name: str, acquire: list[str], settled: list[tuple[str, float, float]],
        renew: list[str],
    ) -> list[Any]:
        args = [*self._limits, *acquire, str(len(settled))]
        for lease, delta, cool in settled:
            args += [lease, f"{delta:.9g}", f"{cool:.6g}"]
        args += [str(len(renew)), *renew]
        keys = [f"{self.prefix}:{{{name}}}:state", f"{self.prefix}:{{{name}}}:slots"]
        with self._lock:
            self.round_trips += 1
        reply = self._script(keys=keys, args=args)
        left = float(reply[2])
        if left > 0:
            self._cool_until[name] = time.monotonic() + left
        self._contended[name] = reply[3] == 1
        return list(reply)

    # -- the keeper thread -------------------------------------------------------------------

    def _ensure_keeper(self) -> None:
        if self._keeper is not None:
            return
        with self._lock:
            if self._keeper is None:
                self._keeper = threading.Thread(
                    target=self._keep, name="chatmini-redis-limiter", daemon=True
                )
                self._keeper.start()

    def _after_fork(self) -> None:
        """In a forked child: the parent's threads, waiters and held leases are not ours."""
        self._lock = threading.Lock()
        self._pending, self._held, self._line = {}, {}, deque()
        self._wake = threading.Event()
        self._keeper = None

    def _keep(self) -> None:
        """Flush settlements SETTLE_DELAY after they queue (at once when urgent) and renew held
        leases every third of their lifetime; sleeps on an event between."""
        renew_every = self.lease_ttl / 3
        renewed = time.monotonic()
        while not self._closed:
            self._wake.clear()  # before looking: a settle() after this wakes the wait below
            with self._lock:
                due = [renewed + renew_every] if self._held else []
                if self._pending:
                    due.append(0.0 if self._urgent else self._oldest + SETTLE_DELAY)
            now = time.monotonic()
            if not due or min(due) > now:  # sleep until due, or until settle() wakes us
                self._wake.wait(min(due) - now if due else None)
                continue
            renew = now >= renewed + renew_every
            if renew:
                renewed = now
            try:
                self.flush(renew)
            except Exception as exc:  # noqa: BLE001 - reported; leases expire by themselves
                self._on_error(exc)

    def close(self) -> None:
        """Send what is pending and stop the keeper thread."""
        self._closed = True
        self._wake.set()
        self.flush()


def _forget(ref: weakref.ReferenceType[RedisBudget]) -> None:
    budget = ref()
    if budget is not None:
        budget._after_fork()
