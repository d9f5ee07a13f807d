"""Measuring how requests were paced: a plugin noting when each attempt goes, and the most
sends any window of a given length holds (for rate-limit tests and benchmarks)."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

from ..hookspecs import hookimpl


class SendTimes:
    """Notes when each attempt is sent, from inside any rate limiter (which wraps outermost).

    ``clock=time.time`` gives times comparable between processes of one machine.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.times: list[float] = []
        self._clock = clock
        self._lock = threading.Lock()

    @hookimpl(wrapper=True)
    def chatmini_send(self) -> Any:
        with self._lock:
            self.times.append(self._clock())
        return (yield)


def max_in_window(times: list[float], window: float) -> int:
    """The most of the sorted ``times`` that any closed window of ``window`` seconds holds."""
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] < t - window + 1e-9:
            j += 1
        best = max(best, i - j + 1)
    return best


def limit_row(
    what: str, limit: float, unit: str, workers: str, times: list[float], amount: float,
    note: str = "-",
) -> str:
    """One Markdown row of a limit benchmark: ``amount`` sent over the span of ``times``, as a
    rate per minute beside ``limit`` and its deviation."""
    span = times[-1] - times[0]
    achieved = amount / span * 60
    return (f"| {what} | {workers} | {len(times)} | {span:.1f} s | {achieved:.1f} {unit} | "
            f"{100 * (achieved / limit - 1):+.2f}% | {note} |")
