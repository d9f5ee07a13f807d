"""A rolling in-process latency summary per model and endpoint, and the slow-call rules on it.

Each (model, endpoint) keeps a count, an error count and its last ``window`` durations and
times to first token in ring buffers; quantiles are computed only when a report is asked for,
so recording a call is a lock, two appends and two additions. Thread-safe.
"""

from __future__ import annotations

import sys
import threading
from collections import deque
from typing import TYPE_CHECKING, Any, Iterable, Iterator, NamedTuple, Optional, TextIO

from .alerts import RuleWatch, SlowCallAlert, SlowCallRule, fire, nearest_rank
from .errors import InvalidRequestError

if TYPE_CHECKING:
    from .client import Client
    from .timing import Timing

DEFAULT_WINDOW = 1000
QUANTILES = (0.5, 0.9, 0.99)


class StatsRow(NamedTuple):
    """One model and endpoint: calls and errors since the start, quantiles (seconds) over the
    window; a quantile is None when no call in the window had that measure."""

    model: str
    endpoint: str
    count: int
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
    """A snapshot of Stats: iterate its rows, or print it as a table."""

    COLUMNS = ("model", "endpoint", "calls", "errors", "p50 ms", "p90 ms", "p99 ms",
               "ttft p50", "ttft p90", "ttft p99")

    def __init__(self, rows: list[StatsRow]) -> None:
        self.rows = rows

    def __iter__(self) -> Iterator[StatsRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, model: str, endpoint: str) -> Optional[StatsRow]:
        """The row of one model and endpoint (``route`` form, e.g. ``/chat/completions``)."""
        return next((r for r in self.rows if (r.model, r.endpoint) == (model, endpoint)), None)

    def table(self) -> str:
        """An aligned text table, one line per model and endpoint; times in milliseconds."""
        if not self.rows:
            return "no calls recorded"
        lines = [list(self.COLUMNS)]
        for r in self.rows:
            lines.append([r.model, r.endpoint, str(r.count), str(r.errors)]
                         + [_ms(v) for v in r[4:]])
        widths = [max(len(line[i]) for line in lines) for i in range(len(self.COLUMNS))]
        return "\n".join(
            "  ".join(cell.ljust(w) if i < 2 else cell.rjust(w)
                      for i, (cell, w) in enumerate(zip(line, widths))).rstrip()
            for line in lines
        )

    __str__ = table

    def __repr__(self) -> str:
        return f"<StatsReport {len(self.rows)} rows>"


class Stats:
    """Rolling per-model, per-endpoint latency with slow-call rules; fed one Timing per call."""

    def __init__(self, window: int = DEFAULT_WINDOW, rules: Iterable[SlowCallRule] = ()) -> None:
        if window < 1:
            raise InvalidRequestError(f"window must be >= 1, not {window!r}")
        self.window = window
        self._lock = threading.RLock()  # a dropped Stream may record from a finaliser (GC)
        self._series: dict[tuple[str, str], _Series] = {}
        self._rules: list[SlowCallRule] = list(rules)
        self._watches: dict[tuple[int, str, str], RuleWatch] = {}

    @property
    def rules(self) -> tuple[SlowCallRule, ...]:
        return tuple(self._rules)

    def add_rule(self, rule: SlowCallRule) -> None:
        """Watch one more slow-call rule from now on."""
        with self._lock:
            self._rules.append(rule)

    def record(self, timing: Timing) -> None:
        """Count one finished call; fire any slow-call rule it makes cross (outside the lock)."""
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
            alerts = self._check_rules(key, timing) if self._rules else None
        if alerts:
            for alert in alerts:
                fire(alert)

    def _check_rules(self, key: tuple[str, str], timing: Timing) -> list[SlowCallAlert]:
        alerts = []
        for index, rule in enumerate(self._rules):
            value = getattr(timing, rule.metric)
            if value is None:
                continue
            watch = self._watches.get((index, *key))
            if watch is None:
                watch = self._watches[(index, *key)] = RuleWatch(rule)
            crossed = watch.add(value)
            if crossed is not None:
                alerts.append(SlowCallAlert(rule, key[0], key[1], crossed, timing))
        return alerts

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
            self._watches.clear()


def _quantiles(ordered: list[float]) -> list[Optional[float]]:
    return [nearest_rank(ordered, q) if ordered else None for q in QUANTILES]


def _ms(seconds: Optional[float]) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f}"


def report_of(client: Client) -> StatsReport:
    """The client's summary from its ``timing`` plugin (empty when that plugin is blocked)."""
    stats: Any = getattr(client.plugin_host.get("timing"), "stats", None)
    return stats.report() if isinstance(stats, Stats) else StatsReport([])


def print_stats(client: Client, file: Optional[TextIO] = None) -> None:
    """Print the client's latency table (to stderr by default, so stdout stays the output)."""
    out = file if file is not None else sys.stderr
    out.write(report_of(client).table() + "\n")
    out.flush()
