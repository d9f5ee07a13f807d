"""Soak a Client: many calls, streamed and not, from many threads (or through ``chatmini.batch``)
against a faulty server in a child process, with every call accounted for exactly once and the
client's threads, descriptors, memory and connections checked. ``benchmarks/soak.py`` runs it.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ..client import Client
from ..errors import ChatminiError
from ..hookspecs import hookimpl
from ..retry import RetryPolicy
from .process import ServerProcess
from .replies import Reply

__all__ = ["InFlightProbe", "SoakReport", "faulty_server", "soak"]

KEY = "sk-soak-9d3f1c0b7e5a42"  # a unique key: no message may contain it
MB = 1024 * 1024
RSS_GROWTH_LIMIT = 10 * MB
_PROBE_KEY = "chatmini.soak.in_flight"
# The server's faults under a soak: DEFAULT_SERVER_FAULTS with a short Retry-After, so retried
# calls do not spend the soak waiting.
SOAK_SERVER_FAULTS = (Reply(status=429, headers={"Retry-After": "0.05"}), Reply(status=503),
                      Reply(drop=True))


def faulty_server(seed: int) -> ServerProcess:
    """The server a soak runs against (not started): 5% of requests get a server fault (429,
    503, drop) and 5% a proxy fault (resets before the answer, after the headers or at a byte,
    truncations), repeatable with ``seed``."""
    return ServerProcess(fault_rate=0.05, faults=SOAK_SERVER_FAULTS, seed=seed, proxy=True,
                         proxy_fault_rate=0.05)


def open_fds() -> Optional[int]:
    """Descriptors open in this process (None where /proc and /dev/fd are missing)."""
    for path in ("/proc/self/fd", "/dev/fd"):
        if os.path.isdir(path):
            return len(os.listdir(path)) - 1  # less the one listdir itself opened
    return None


def rss() -> Optional[int]:
    """Resident memory of this process in bytes (Linux), else None."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


class InFlightProbe:
    """Counts attempts between the rate limiter's grant and their end (streams: when they end),
    and when each was granted, to check the limits were held."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0
        self.starts: list[float] = []
        self._lock = threading.Lock()

    def _leave(self) -> None:
        with self._lock:
            self.now -= 1

    @hookimpl(wrapper=True)
    def chatmini_send(self, request: Any) -> Any:
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)
            self.starts.append(time.monotonic())
        try:
            response = yield
        except BaseException:
            self._leave()
            raise
        if request.stream and response is not None and response.status_code < 300:
            request.context[_PROBE_KEY] = True  # held until the stream ends
        else:
            self._leave()
        return response

    @hookimpl(tryfirst=True)  # before the limiter frees the slot for the next thread
    def chatmini_stream_end(self, request: Any) -> None:
        if request.context.pop(_PROBE_KEY, None):
            self._leave()


def chat(client: Client, index: int) -> str:
    """Call ``index``: odd ones stream; the server echoes the prompt, so answers can't mix."""
    messages = [{"role": "user", "content": f"soak {index}"}]
    if index % 2:
        with client.chat.completions.create(model="m", messages=messages, stream=True) as s:
            text: str = s.get_final_completion().choices[0].message.content
            return text
    reply = client.chat.completions.create(model="m", messages=messages)
    answer: str = reply.choices[0].message.content
    return answer


def classify(index: int, outcome: Any) -> str:
    """"ok", the chatmini error's class name, or what went wrong with the accounting."""
    if isinstance(outcome, str):
        return "ok" if outcome == f"echo: soak {index}" else "wrong answer"
    if isinstance(outcome, ChatminiError):
        return "secret leaked" if KEY in str(outcome) else type(outcome).__name__
    return f"untyped {type(outcome).__name__}"


@dataclass
class SoakReport:
    """What a soak measured; ``problems()`` names every check that failed."""

    mode: str
    calls: int
    threads: int
    outcomes: Counter[str] = field(default_factory=Counter)
    unaccounted: int = 0
    duplicated: int = 0
    threads_before: int = 0
    threads_after: int = 0
    fds: tuple[Optional[int], Optional[int], Optional[int]] = (None, None, None)
    rss_growth: Optional[int] = None
    connections: int = 0
    faulted: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)  # the first outcome of each kind
    elapsed: float = 0.0
    limits: dict[str, float] = field(default_factory=dict)

    def checks(self) -> list[tuple[str, str, str, bool]]:
        """(check, measured, bound, passed) rows."""
        before, held, after = self.fds
        bad = sum(n for name, n in self.outcomes.items() if name in ("wrong answer",
                  "secret leaked") or name.startswith("untyped"))
        rows = [
            ("calls accounted for once", f"{self.calls - self.unaccounted:,}/{self.calls:,}, "
             f"{self.duplicated} twice", "all, once", not self.unaccounted and not self.duplicated),
            ("results right or typed errors", f"{bad} otherwise", "0", bad == 0),
            ("threads", f"{self.threads_before} -> {self.threads_after}", "equal",
             self.threads_after <= self.threads_before),
            ("open fds (before, pool open, closed)", f"{before}, {held}, {after}",
             f"<= {before} + pool {self.threads}; <= {before}",
             before is None or held is None or after is None
             or (held <= before + self.threads and after <= before)),
            ("RSS growth after warm-up", _mb(self.rss_growth), f"< {_mb(RSS_GROWTH_LIMIT)}",
             self.rss_growth is None or self.rss_growth < RSS_GROWTH_LIMIT),
            ("connections opened", f"{self.connections:,}",
             f"<= pool {self.threads} + faulted {self.faulted:,}",
             self.connections <= self.threads + self.faulted),
        ]
        if "max_concurrent" in self.limits:
            most, cap = self.limits["most_in_flight"], self.limits["max_concurrent"]
            rows.append(("attempts in flight (limiter)", f"{most:g}", f"<= {cap:g}", most <= cap))
        if "rpm" in self.limits:
            rate, cap = self.limits["attempts_per_s"], self.limits["rpm"] / 60
            rows.append(("attempts per second (limiter)", f"{rate:,.1f}", f"<= {cap:,.1f}",
                         rate <= cap * 1.02))
        return rows

    def problems(self) -> list[str]:
        """The failed checks, as readable lines (empty: the soak passed)."""
        return [f"{name}: {measured} (want {bound})"
                for name, measured, bound, ok in self.checks() if not ok]


def _mb(value: Optional[int]) -> str:
    return "n/a" if value is None else f"{value / MB:+.1f} MB"


def _join_new_threads(before: set[threading.Thread]) -> None:
    for thread in threading.enumerate():
        if thread not in before and thread is not threading.current_thread():
            thread.join(timeout=5)


def soak(server: ServerProcess, *, calls: int, threads: int, warmup: int, batch: bool = False,
         limiter: Any = None, retries: int = 2) -> SoakReport:
    """Run ``calls`` (the first ``warmup`` of them before the memory baseline) on ``threads``
    threads, or through ``chatmini.batch`` with that many workers, with an optional
    ``RateLimiter`` whose limits are then checked; return the report. ``server`` is a started
    ServerProcess with a proxy (``faulty_server``): the proxy counts the client's connections."""
    from ..batching import batch_iter  # only a batch soak needs it

    report = SoakReport("batch" if batch else "threads", calls, threads)
    outcomes: list[Optional[str]] = [None] * calls
    runs = [0] * calls
    lock = threading.Lock()
    gc.collect()
    existing = set(threading.enumerate())
    report.threads_before, fds_before = threading.active_count(), open_fds()
    stats = server.stats()
    probe = InFlightProbe() if limiter is not None else None
    client = Client(KEY, base_url=server.base_url, pool_maxsize=threads, timeout=(5, 10),
                    retry=RetryPolicy(retries, backoff_factor=0.02, backoff_jitter=0.02),
                    plugins=[limiter, probe] if limiter is not None else ())

    def one(client: Client, index: int) -> str:
        with lock:
            runs[index] += 1
        return chat(client, index)

    def note(index: int, outcome: Any) -> None:
        """Keep what the call ended in, not the exception (its traceback holds the response)."""
        kind = classify(index, outcome)
        outcomes[index] = kind
        with lock:
            report.examples.setdefault(kind, str(outcome)[:300])

    def threaded(indices: range) -> None:
        pending = iter(indices)

        def work() -> None:
            while True:
                with lock:
                    index = next(pending, None)
                if index is None:
                    return
                try:
                    note(index, one(client, index))
                except Exception as exc:  # noqa: BLE001 - classified
                    note(index, exc)

        workers = [threading.Thread(target=work) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    def batched(indices: range) -> None:
        for position, outcome in batch_iter(client, indices, workers=threads, call=one):
            note(indices[position], outcome)

    phase: Callable[[range], None] = batched if batch else threaded
    start = time.monotonic()
    phase(range(warmup))
    gc.collect()
    rss_warm = rss()
    phase(range(warmup, calls))
    report.elapsed = time.monotonic() - start
    _join_new_threads(existing)
    gc.collect()
    rss_end = rss()
    report.rss_growth = None if rss_end is None or rss_warm is None else rss_end - rss_warm
    report.threads_after = threading.active_count()
    fds_held = open_fds()
    client.close()
    gc.collect()
    report.fds = (fds_before, fds_held, open_fds())
    report.unaccounted = sum(o is None for o in outcomes)
    report.duplicated = sum(n > 1 for n in runs)
    report.outcomes = Counter(kind for kind in outcomes if kind is not None)
    _count_connections(report, stats, server.stats())
    if probe is not None:
        _note_limits(report, probe, limiter.budget)
    return report


def _note_limits(report: SoakReport, probe: InFlightProbe, budget: Any) -> None:
    """The limiter's settings next to what the probe saw: most in flight, attempts a second."""
    if budget.max_concurrent is not None:
        report.limits["max_concurrent"] = budget.max_concurrent
        report.limits["most_in_flight"] = probe.most
    if budget.requests is not None:
        starts = sorted(probe.starts)
        span = starts[-1] - starts[0] if len(starts) > 1 else 0.0
        report.limits["rpm"] = budget.requests.per_second * 60
        report.limits["attempts_per_s"] = (len(starts) - 1) / span if span else 0.0


def _count_connections(report: SoakReport, before: dict[str, Any], after: dict[str, Any]) -> None:
    """Connections the client opened, and the faults that broke one (each forces a new one)."""
    report.connections = after["proxy_connections"] - before["proxy_connections"]
    for side in ("faults", "proxy_fired"):
        for label, count in after[side].items():
            if count > before[side].get(label, 0):
                report.faults[fault_kind(label)] += count - before[side].get(label, 0)
    report.faulted = sum(n for name, n in report.faults.items()
                         if name.startswith(("drop", "reset", "close")))


def fault_kind(label: str) -> str:
    """A fault's label, with the proxy's byte offsets folded: ``reset at a byte`` ..."""
    action, _, where = label.partition("@")
    if not where:
        return label  # the server's: 429, 503, drop
    if where == "0":
        return f"{action} before the answer"
    if where.startswith("headers+"):
        return f"{action} after the headers"
    return f"{action} at a byte"
