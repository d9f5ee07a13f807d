"""Circuit breakers, one per endpoint, kept in this process: closed (calls go), open (calls
skip it until a cool-down ends), half-open (one probe call decides: success closes it, failure
opens it again for a longer cool-down).

What opens a circuit is ``failures`` unwell outcomes in a row, or (with ``error_rate``) that
share of unwell outcomes among at least ``min_calls`` attempts over the last ``window``
seconds. What counts as unwell is the plugin's call (``plugin.unwell``); a breaker only counts.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable, Iterator, NamedTuple, Optional

from chatmini.errors import InvalidRequestError
from chatmini.stats import text_table
from chatmini.timeouts import seconds

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"
BUCKETS = 10  # the error-rate window is kept as this many counters, not one entry per call
PROBE_LEASE = 30.0  # seconds (or the cool-down, if longer) a probe may stay out without a
# verdict: a probe whose process died frees the endpoint for another after that
Clock = Callable[[], float]


class Settings:
    """When a circuit opens and for how long; checked once."""

    def __init__(
        self,
        failures: int = 3,
        error_rate: Optional[float] = None,
        window: float = 60.0,
        min_calls: int = 20,
        cooldown: float = 30.0,
        max_cooldown: float = 300.0,
    ) -> None:
        for name, value in (("failures", failures), ("min_calls", min_calls)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidRequestError(f"{name} must be an integer >= 1, not {value!r}")
        for name, span in (("window", window), ("cooldown", cooldown),
                           ("max_cooldown", max_cooldown)):
            if span is None:
                raise InvalidRequestError(f"{name} must be seconds > 0, not None")
            seconds(span, name)  # finite and > 0: NaN or infinity would never close a breaker
        if max_cooldown < cooldown:
            raise InvalidRequestError(
                f"max_cooldown={max_cooldown} and cooldown={cooldown} disagree: the longest "
                "cool-down cannot be shorter than the first"
            )
        if error_rate is not None and not (isinstance(error_rate, float) and 0 < error_rate <= 1):
            raise InvalidRequestError(f"error_rate must be a float in (0, 1], not {error_rate!r}")
        self.failures = failures
        self.error_rate = error_rate
        self.window = float(window)
        self.min_calls = min_calls
        self.cooldown = float(cooldown)
        self.max_cooldown = float(max_cooldown)
        self.probe_lease = max(self.cooldown, PROBE_LEASE)

    def cool_down(self, retry_after: Optional[float], reopens: int) -> float:
        """Seconds to stay open: what the server asked (Retry-After), else ``cooldown``
        doubled for each failed probe in a row; never beyond ``max_cooldown``."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_cooldown)
        return min(self.cooldown * 2.0 ** reopens, self.max_cooldown)


class Window:
    """Attempts and failures over the last ``span`` seconds, in BUCKETS counters."""

    def __init__(self, span: float) -> None:
        self.step = span / BUCKETS
        self.buckets: deque[list[int]] = deque()  # [index, attempts, failures]

    def add(self, now: float, failed: bool) -> None:
        index = int(now // self.step)
        buckets = self.buckets
        if not buckets or buckets[-1][0] != index:
            buckets.append([index, 0, 0])
        buckets[-1][1] += 1
        buckets[-1][2] += failed
        self._prune(index)

    def counts(self, now: float) -> tuple[int, int]:
        """(attempts, failures) in the window."""
        self._prune(int(now // self.step))
        return sum(b[1] for b in self.buckets), sum(b[2] for b in self.buckets)

    def _prune(self, index: int) -> None:
        while self.buckets and index - self.buckets[0][0] >= BUCKETS:
            self.buckets.popleft()


class EndpointHealth(NamedTuple):
    """One endpoint's breaker as ``fallback.health()`` and ``client.stats()`` show it.

    ``calls`` and ``failures`` count attempts sent there (and unwell ones) by this process;
    ``error_rate`` is over the window; ``retry_in`` is seconds until an open circuit lets a
    probe through (0 when calls may go now); ``last_error`` the latest unwell outcome.
    """

    name: str
    state: str
    calls: int
    failures: int
    error_rate: Optional[float]
    consecutive: int
    retry_in: float
    last_error: Optional[str]


class Circuit:
    """One endpoint's breaker in this process; every method is thread-safe."""

    def __init__(self, name: str, settings: Settings, clock: Clock = time.monotonic) -> None:
        self.name = name
        self.settings = settings
        self.clock = clock
        self.lock = threading.Lock()
        self.state = CLOSED
        self.consecutive = 0
        self.reopens = 0
        self.open_until = 0.0
        self.probe_until: Optional[float] = None  # a probe is out until then
        self.calls = 0
        self.failures = 0
        self.last_error: Optional[str] = None
        self.window = Window(settings.window)

    def ready(self) -> bool:
        """Whether a call could go now (closed, or a probe is due), without claiming it."""
        now = self.clock()
        state = self.state
        if state == CLOSED:
            return True
        if state == OPEN:
            return now >= self.open_until
        until = self.probe_until
        return until is None or now >= until

    def acquire(self) -> Optional[bool]:
        """None: skip this endpoint; False: go; True: go as the one probe (half-open now)."""
        if self.state == CLOSED:  # the common case takes no lock
            return False
        with self.lock:
            if self.state == CLOSED:
                return False
            if not self.ready():
                return None
            self.state = HALF_OPEN
            self.probe_until = self.clock() + self.settings.probe_lease  # a lost probe expires
            return True

    def release(self) -> None:
        """A probe that was never sent (answered from a cache, failed before the send)."""
        with self.lock:
            if self.state == HALF_OPEN:
                self.probe_until = None

    def record(self, failure: Optional[str], retry_after: Optional[float] = None,
               force_open: bool = False) -> Optional[str]:
        """Count one attempt's outcome (``failure``: why it was unwell, None when well).
        Returns the new state when it changed (for the one log line), else None."""
        now = self.clock()
        with self.lock:
            self.calls += 1
            self.window.add(now, failure is not None)
            if failure is None:
                self.consecutive = 0
                if self.state != HALF_OPEN:
                    return None
                self.state, self.reopens, self.probe_until = CLOSED, 0, None
                self.window = Window(self.settings.window)
                return CLOSED
            self.failures += 1
            self.consecutive += 1
            self.last_error = failure
            if self.state == HALF_OPEN:
                self.reopens += 1
            elif self.state == OPEN or not (force_open or self._tripped(now)):
                return None
            self.state, self.probe_until = OPEN, None
            self.open_until = now + self.settings.cool_down(retry_after, self.reopens)
            return OPEN

    def _tripped(self, now: float) -> bool:
        settings = self.settings
        if self.consecutive >= settings.failures:
            return True
        return self.rate_tripped(now)

    def rate_tripped(self, now: float) -> bool:
        """Whether the error rate over the window reached ``error_rate`` (when one is set)."""
        rate = self.settings.error_rate
        if rate is None:
            return False
        calls, failures = self.window.counts(now)
        return calls >= self.settings.min_calls and failures >= rate * calls

    def retry_in(self) -> float:
        """Seconds until a call may go (0: now)."""
        now = self.clock()
        if self.state == OPEN:
            return max(self.open_until - now, 0.0)
        if self.state == HALF_OPEN and self.probe_until is not None:
            return max(self.probe_until - now, 0.0)
        return 0.0

    def health(self) -> EndpointHealth:
        with self.lock:
            calls, failures = self.window.counts(self.clock())
            return EndpointHealth(
                self.name, self.state, self.calls, self.failures,
                failures / calls if calls else None, self.consecutive, self.retry_in(),
                self.last_error,
            )


class HealthReport:
    """Every endpoint's health, in the fallback's order; prints as a table."""

    COLUMNS = ("endpoint", "state", "calls", "failures", "error rate", "in a row", "retry in",
               "last error")

    def __init__(self, rows: list[EndpointHealth]) -> None:
        self.rows = rows

    def __iter__(self) -> Iterator[EndpointHealth]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, name: str) -> Optional[EndpointHealth]:
        """The row of the endpoint named ``name``."""
        return next((row for row in self.rows if row.name == name), None)

    def table(self) -> str:
        lines = [list(self.COLUMNS)]
        for r in self.rows:
            rate = "-" if r.error_rate is None else f"{r.error_rate:.0%}"
            wait = f"{r.retry_in:.1f} s" if r.retry_in else "-"
            lines.append([r.name, r.state, str(r.calls), str(r.failures), rate,
                          str(r.consecutive), wait, r.last_error or "-"])
        return text_table(lines, left=(0, 1, 7))

    __str__ = table

    def __repr__(self) -> str:
        states = ", ".join(f"{r.name}={r.state}" for r in self.rows)
        return f"<HealthReport {states}>"
