"""The results file of ``chatmini batch``, shared by the local and the ``--remote`` runs: what an
earlier run wrote (so a rerun skips it), the file opened for appending, one flushed line per
result, and the run's closing summary line."""

from __future__ import annotations

import os
import time
from collections import Counter
from typing import IO, TYPE_CHECKING, Any

from ..batching.files import SURROGATES_REPLACED, record_line, write_lines
from .report import report

if TYPE_CHECKING:
    from ..batching.files import Key


class Summary:
    """What this run did, for the closing line on stderr."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.ok = 0
        self.failed: Counter[str] = Counter()
        self.skipped = 0
        self.tokens_in = 0
        self.tokens_out = 0
        self.latencies: list[float] = []
        self.replaced = False  # lone surrogates were replaced in a line (said once)

    def count(self, record: dict[str, Any]) -> None:
        """Count one result line: a success and its tokens, or a failure by its type."""
        from ..batching.files import usage_of

        error = record.get("error")
        if error is not None:
            self.failed[str(error.get("type"))] += 1
            return
        self.ok += 1
        tokens_in, tokens_out = usage_of((record.get("response") or {}).get("body"))
        self.tokens_in += tokens_in
        self.tokens_out += tokens_out

    def line(self) -> str:
        """``ok 98, failed 2 (RateLimitError 2), ... p50 0.052 s, p99 0.31 s, wall 4.1 s``."""
        from ..stats import nearest_rank

        failed = sum(self.failed.values())
        kinds = ", ".join(f"{kind} {n}" for kind, n in self.failed.most_common(3))
        parts = [f"ok {self.ok}", f"failed {failed}" + (f" ({kinds})" if kinds else "")]
        if self.skipped:
            parts.append(f"skipped {self.skipped} already done")
        parts.append(f"tokens in {self.tokens_in} out {self.tokens_out}")
        ordered = sorted(self.latencies)
        if ordered:
            parts.append(f"latency p50 {nearest_rank(ordered, 0.5):.3f} s "
                         f"p99 {nearest_rank(ordered, 0.99):.3f} s")
        parts.append(f"wall {time.monotonic() - self.started:.1f} s")
        return ", ".join(parts)


def read_previous(path: str) -> dict[Key, bool]:
    """What an earlier run wrote to ``path``: id -> whether its last result succeeded (OSError
    or UnicodeDecodeError when the file cannot be read)."""
    from ..batching.files import previous_results

    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as old:
        done, unreadable = previous_results(old)
    if unreadable:
        report(f"{unreadable} unreadable line(s) in {path} ignored", kind="warning")
    return done


def append(out: IO[str], record: dict[str, Any], summary: Summary) -> None:
    """Write one result line, flushed at once (a crash loses at most the line being written),
    and count it; lone surrogates are replaced, and said so once per run."""
    if write_lines(out, [record_line(record)]) and not summary.replaced:
        summary.replaced = True
        report(SURROGATES_REPLACED, kind="warning")
    summary.count(record)
