"""A rolling in-process latency summary per model and endpoint: what ``client.stats()`` shows.

A helper for timing plugins (the built-in one uses it; so can yours): feed it one finished call
record at a time, answer ``chatmini_stats`` with ``report()``. Each (model, endpoint) keeps a
count, an error count and its last ``window`` durations and times to first token in ring
buffers; quantiles are computed only when a report is asked for, so recording a call is a lock,
two appends and two additions. Thread-safe.
"""

from __future__ import annotations

import math
import sys
import threading
from collections import deque
from typing import (
    TYPE_CHECKING,
    Any,
    Container,
    Iterable,
    Iterator,
    Mapping,
    NamedTuple,
    Optional,
    Protocol,
    Sequence,
    TextIO,
)

from .errors import InvalidRequestError

if TYPE_CHECKING:
    from .client import Client

DEFAULT_WINDOW = 1000
QUANTILES = (0.5, 0.9, 0.99)


class CallRecord(Protocol):
    """What Stats reads of a finished call (the timing plugin's ``Timing`` has all of it)."""

    model: Optional[str]
    error: Optional[str]
    duration: Optional[float]
    ttft: Optional[float]

    @property
    def route(self) -> str: ...


class Observer(Protocol):
    """Something told of every recorded call, e.g. a slow-call rule."""

    def observe(self, record: Any) -> object: ...


def nearest_rank(ordered: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0 < q <= 1) of sorted values by the nearest-rank method."""
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


class StatsRow(NamedTuple):
    """One model and endpoint: calls and errors since the start, quantiles (seconds) over the
    window; a quantile is None when no call in the window had that measure."""

    model: str
    endpoint: str
    count: int  # type: ignore[assignment]  # the field, not tuple.count: the table's column
    errors: int
    p50: Optional[float]
    p90: Optional[float]
    p99: Optional[float]
    ttft_p50: Optional[float]
    ttft_p90: Optional[float]
    ttft_p99: Optional[float]


class _Series:
    __slots__ = ("count", "errors", "durations", "ttfts")

    def __init__(self, window: int) -> None:
        self.count = 0
        self.errors = 0
        self.durations: deque[float] = deque(maxlen=window)
        self.ttfts: deque[float] = deque(maxlen=window)


class StatsReport:
    """A snapshot of Stats: iterate its rows, or print it as a table.

    ``sections`` are other plugins' reports by title (endpoint health, a cache's counters),
    printed after the table: a plugin adds one by wrapping ``chatmini_stats``
    (``return (yield).with_section(title, report)``).
    """

    COLUMNS = ("model", "endpoint", "calls", "errors", "p50 ms", "p90 ms", "p99 ms",
               "ttft p50", "ttft p90", "ttft p99")

    def __init__(self, rows: list[StatsRow], sections: Optional[Mapping[str, Any]] = None) -> None:
        self.rows = rows
        self.sections: dict[str, Any] = dict(sections or {})

    def with_section(self, title: str, section: Any) -> StatsReport:
        """This report with one more section (anything that prints), titled ``title``."""
        return StatsReport(self.rows, {**self.sections, title: section})

    def __iter__(self) -> Iterator[StatsRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, model: str, endpoint: str) -> Optional[StatsRow]:
        """The row of one model and endpoint (``route`` form, e.g. ``/chat/completions``)."""
        return next((r for r in self.rows if (r.model, r.endpoint) == (model, endpoint)), None)

    def table(self) -> str:
        """An aligned text table, one line per model and endpoint (times in milliseconds), then
        each section under its title."""
        text = self._rows_table()
        for title, section in self.sections.items():
            text += f"\n\n{title}:\n{section}"
        return text

    def _rows_table(self) -> str:
        if not self.rows:
            return "no calls recorded"
        lines = [list(self.COLUMNS)]
        for r in self.rows:
            lines.append([r.model, r.endpoint, str(r.count), str(r.errors)]
                         + [_ms(v) for v in r[4:]])
        return text_table(lines, left=(0, 1))

    __str__ = table

    def __repr__(self) -> str:
        return f"<StatsReport {len(self.rows)} rows>"


class Stats:
    """Rolling per-model, per-endpoint latency; fed one call record per call.

    ``rules`` (slow-call rules, or any object with ``observe(record)``) are shown every
    recorded call, outside the lock.
    """

    def __init__(self, window: int = DEFAULT_WINDOW, rules: Iterable[Observer] = ()) -> None:
        if window < 1:
            raise InvalidRequestError(f"window must be >= 1, not {window!r}")
        self.window = window
        self._lock = threading.RLock()  # a dropped Stream may record from a finaliser (GC)
        self._series: dict[tuple[str, str], _Series] = {}
        self._rules: list[Observer] = list(rules)

    @property
    def rules(self) -> tuple[Observer, ...]:
        return tuple(self._rules)

    def add_rule(self, rule: Observer) -> None:
        """Show every call from now on to one more rule."""
        with self._lock:
            self._rules.append(rule)

    def record(self, timing: CallRecord) -> None:
        """Count one finished call, then show it to the rules (outside the lock)."""
        key = (timing.model or "-", timing.route)
        duration = timing.duration
        ttft = timing.ttft
        with self._lock:
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = _Series(self.window)
            series.count += 1
            if timing.error is not None:
                series.errors += 1
            if duration is not None:
                series.durations.append(duration)
            if ttft is not None:
                series.ttfts.append(ttft)
            rules = tuple(self._rules) if self._rules else ()
        for rule in rules:
            rule.observe(timing)

    def report(self) -> StatsReport:
        """A snapshot: one row per model and endpoint, sorted by model then endpoint."""
        with self._lock:
            taken = [(key, s.count, s.errors, sorted(s.durations), sorted(s.ttfts))
                     for key, s in self._series.items()]
        rows = [StatsRow(*key, count, errors, *_quantiles(durations), *_quantiles(ttfts))
                for key, count, errors, durations, ttfts in sorted(taken)]
        return StatsReport(rows)

    def reset(self) -> None:
        """Forget every call and the rules' windows (the rules stay)."""
        with self._lock:
            self._series.clear()
            rules = list(self._rules)
        for rule in rules:
            reset = getattr(rule, "reset", None)
            if reset is not None:
                reset()


def add_section(report: Any, title: str, section: Any) -> Any:
    """What a ``chatmini_stats`` wrapper returns to add its section: ``report`` (the answer it
    wrapped) with ``section`` under ``title``; an empty report when no plugin answered, and an
    answer that is not a StatsReport unchanged."""
    if report is None:
        report = StatsReport([])
    return report.with_section(title, section) if isinstance(report, StatsReport) else report


def text_table(lines: Sequence[Sequence[str]], left: Container[int] = (0,)) -> str:
    """Rows of cells as aligned text: the columns numbered in ``left`` flush left, the others
    (numbers) flush right. For every table a report prints (plugins' sections too)."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) if i in left else cell.rjust(w)
                  for i, (cell, w) in enumerate(zip(line, widths))).rstrip()
        for line in lines
    )


def _quantiles(ordered: list[float]) -> list[Optional[float]]:
    return [nearest_rank(ordered, q) if ordered else None for q in QUANTILES]


def _ms(seconds: Optional[float]) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f}"


def print_stats(client: Client, file: Optional[TextIO] = None) -> None:
    """Print the client's latency table (to stderr by default, so stdout stays the output)."""
    out = file if file is not None else sys.stderr
    out.write(client.stats().table() + "\n")
    out.flush()
