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
