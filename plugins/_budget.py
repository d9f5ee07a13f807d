"""The rate limiter's shared budget: evenly paced requests and tokens, a concurrency cap, a
cool-down, and a first-come-first-served line of waiting threads (no busy-waiting)."""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable, Optional

Clock = Callable[[], float]
NEVER = float("-inf")


class TooLate(Exception):
    """A request's turn would come after its deadline: ``wait`` is the time it would have had
    to wait from now (None: until a concurrency slot is free, or for the threads ahead)."""

    def __init__(self, wait: Optional[float]) -> None:
        super().__init__(wait)
        self.wait = wait


class Pacer:
    """Spends a per-minute budget evenly (GCRA virtual scheduling, no burst tolerance).

    ``ready_at`` is when the next spend may happen; each spend pushes it by ``amount / rate``.
    Spending is allowed once ``now >= ready_at``, so one large spend goes at once and later ones
    wait for it to be paid off. Pure arithmetic on the times it is given (unit-testable).
    """

    __slots__ = ("per_second", "ready_at")

    def __init__(self, per_minute: float) -> None:
        if not per_minute > 0:
            raise ValueError(f"a per-minute budget must be > 0, not {per_minute!r}")
        self.per_second = per_minute / 60.0
        self.ready_at = NEVER

    def take(self, now: float, amount: float) -> None:
        """Spend ``amount`` at ``now`` (the caller checked ``now >= ready_at``)."""
        self.ready_at = max(self.ready_at, now) + amount / self.per_second

    def adjust(self, now: float, delta: float) -> None:
        """Correct an earlier spend by ``delta`` (negative: a refund).

        A refund never reaches back before ``now``: unused budget is not saved up for a burst.
        """
        self.ready_at = max(max(self.ready_at, now) + delta / self.per_second, now)


class Budget:
    """Requests and tokens per minute, concurrent requests and a cool-down, shared by threads.

    ``acquire`` blocks until a request fits every budget, in arrival order: only the head of the
    line waits with a timeout (until its turn is due) and each state change wakes just the
    head, so waiting threads use no CPU.
    """

    def __init__(
        self,
        rpm: Optional[float] = None,
        tpm: Optional[float] = None,
        max_concurrent: Optional[int] = None,
        clock: Clock = time.monotonic,
    ) -> None:
        if max_concurrent is not None and max_concurrent < 1:
            raise ValueError(f"max_concurrent must be >= 1, not {max_concurrent!r}")
        self.requests = Pacer(rpm) if rpm else None
        self.tokens = Pacer(tpm) if tpm else None
        self.max_concurrent = max_concurrent
        self.in_flight = 0
        self.cool_until = NEVER
        self.clock = clock
        self._lock = threading.Lock()
        self._line: deque[threading.Condition] = deque()

    def wait_time(self, now: float) -> Optional[float]:
        """Seconds until the next request may go (0.0: now; None: when a slot is released)."""
        ready = self.cool_until
        if self.requests is not None and self.requests.ready_at > ready:
            ready = self.requests.ready_at
        if self.tokens is not None and self.tokens.ready_at > ready:
            ready = self.tokens.ready_at
        if now < ready:
            return ready - now
        if self.max_concurrent is not None and self.in_flight >= self.max_concurrent:
            return None
        return 0.0

    def acquire(self, tokens: float = 0.0, until: Optional[float] = None) -> None:
        """Wait for this request's turn, then spend one request and ``tokens`` and take a slot.

        ``until`` (on this budget's clock) is the request's deadline: TooLate at once when its
        turn is due after it, or when it passes while waiting for a slot or behind others.
        """
        with self._lock:
            line = self._line
            if not line and self.wait_time(self.clock()) == 0.0:
                self._spend(tokens)
                return
            turn = threading.Condition(self._lock)
            line.append(turn)
            try:
                while True:
                    now = self.clock()
                    wait = self.wait_time(now) if line[0] is turn else None
                    if wait == 0.0:
                        break
                    if until is not None:
                        if now + (wait or 0.0) >= until:
                            raise TooLate(wait)
                        wait = until - now if wait is None else wait
                    turn.wait(wait)
                self._spend(tokens)
            finally:
                line.remove(turn)
                if line:
                    line[0].notify()

    def _spend(self, tokens: float) -> None:
        now = self.clock()
        self.in_flight += 1
        if self.requests is not None:
            self.requests.take(now, 1.0)
        if self.tokens is not None and tokens:
            self.tokens.take(now, tokens)

    def release(self, token_delta: float = 0.0) -> None:
        """Give back a slot; correct its tokens by ``token_delta`` (real minus estimate)."""
        with self._lock:
            self.in_flight -= 1
            if self.tokens is not None and token_delta:
                self.tokens.adjust(self.clock(), token_delta)
            if self._line:
                self._line[0].notify()

    def cool_down(self, seconds: float) -> None:
        """Hold every thread's next request back for ``seconds`` from now (a 429, a 0 remaining)."""
        with self._lock:
            until = self.clock() + seconds
            if until > self.cool_until:
                self.cool_until = until
            if self._line:
                self._line[0].notify()  # the head re-reads its wait time

    @property
    def waiting(self) -> int:
        """Threads waiting in line right now."""
        with self._lock:
            return len(self._line)
