"""A one-line terminal progress bar (done/total, rate, ETA, errors), drawn only on a TTY."""

from __future__ import annotations

import sys
import time
from typing import Callable, Optional, TextIO

BAR_WIDTH = 24
CLEAR_TO_END = "\x1b[K"


def is_tty(stream: object) -> bool:
    """Whether ``stream`` is an interactive terminal (False for files, pipes and odd objects)."""
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError, OSError):
        return False


def render(done: int, total: Optional[int], errors: int, elapsed: float) -> str:
    """The bar's text, e.g. ``[######----]  450/1000  45%  91.3/s  ETA 0:06  errors 2``."""
    rate = done / elapsed if elapsed > 0 else 0.0
    parts = []
    if total:
        filled = min(BAR_WIDTH, BAR_WIDTH * done // total)
        parts.append("[" + "#" * filled + "-" * (BAR_WIDTH - filled) + "]")
        parts.append(f"{done}/{total}")
        parts.append(f"{100 * done // total}%")
    else:
        parts.append(f"{done} done")
    parts.append(f"{rate:.1f}/s")
    if total and rate > 0 and done < total:
        parts.append("ETA " + clock_text((total - done) / rate))
    parts.append(f"errors {errors}")
    return "  ".join(parts)


def clock_text(seconds: float) -> str:
    """``m:ss`` (or ``h:mm:ss``) for a duration in seconds."""
    seconds = int(seconds + 0.5)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ProgressBar:
    """A progress callback ``(done, total, errors)`` that redraws one stderr line in place.

    It writes nothing unless the stream is a TTY, so logs and pipes stay clean; redraws at most
    every ``min_interval`` seconds (and always for the last item). ``close()`` ends the line.
    """

    def __init__(
        self,
        stream: Optional[TextIO] = None,
        *,
        min_interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = is_tty(self.stream)
        self.min_interval = min_interval
        self._clock = clock
        self._start = clock()
        self._last_draw = float("-inf")
        self._drawn = False

    def __call__(self, done: int, total: Optional[int], errors: int) -> None:
        if not self.enabled:
            return
        now = self._clock()
        if done != total and now - self._last_draw < self.min_interval:
            return
        self._last_draw = now
        self.stream.write("\r" + render(done, total, errors, now - self._start) + CLEAR_TO_END)
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """End the bar's line so later output starts on a fresh one."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
