"""Soak chatmini under faults: nothing lost, nothing leaked (issue 9).

Usage: ``python benchmarks/soak.py [--calls N] [--threads N] [--quick]``; prints Markdown tables.
Two runs against the test server in a child process, behind the fault proxy, with 10% random
faults (5% from the server: 429 with Retry-After, 503, dropped connection; 5% from the proxy:
resets before the answer, after the headers or at a random byte, truncations):

1. ``--calls`` calls, every other one streamed, from ``--threads`` threads sharing one Client.
2. The same through ``chatmini.batch`` with ``--threads`` workers and a RateLimiter
   (``--rpm``, ``--max-concurrent``).

Each checks that every call ends exactly once in the right answer or a typed chatmini error,
that threads and descriptors come back to where they were, that resident memory grows less
than 10 MB after the first 10% of calls, that no more connections were opened than the pool
plus the faults that broke one, and (run 2) that the limiter's limits held.
"""

from __future__ import annotations

import argparse
import platform
import sys
from typing import Any

import chatmini
from chatmini.testing.soak import SoakReport, faulty_server, soak


def table(title: str, report: SoakReport) -> list[str]:
    """One run as Markdown: the checks, then what happened to the calls and which faults."""
    lines = [f"### {title}", "", f"{report.calls:,} calls in {report.elapsed:.1f} s "
             f"({report.calls / report.elapsed:,.0f} calls/s).", "",
             "| check | measured | bound | result |", "| :--- | :--- | :--- | :--- |"]
    for name, measured, bound, ok in report.checks():
        lines.append(f"| {name} | {measured} | {bound} | {'PASS' if ok else 'FAIL'} |")
    outcomes = ", ".join(f"{name} {n:,}" for name, n in report.outcomes.most_common())
    faults = ", ".join(f"{name} {n:,}" for name, n in sorted(report.faults.items()))
    lines += ["", f"- outcomes: {outcomes}", f"- faults that happened: {faults}"]
    lines += [f"- first {name}: `{text}`" for name, text in report.examples.items()
              if name != "ok"]
    return lines + [""]


def main(argv: Any = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--rpm", type=float, default=18_000, help="limiter requests/minute")
    parser.add_argument("--max-concurrent", type=int, default=16)
    parser.add_argument("--quick", action="store_true", help="2,000 calls per run")
    args = parser.parse_args(argv)
    calls = 2_000 if args.quick else args.calls
    warmup = calls // 10
    lines = [f"python {platform.python_version()}, chatmini {chatmini.__version__}, "
             f"{platform.machine()}, command: python benchmarks/soak.py "
             + " ".join(sys.argv[1:] if argv is None else argv), ""]
    with faulty_server(seed=9) as server:
        report = soak(server, calls=calls, threads=args.threads, warmup=warmup)
        lines += table(f"1. {args.threads} threads, one Client", report)
        limiter = chatmini.RateLimiter(rpm=args.rpm, max_concurrent=args.max_concurrent)
        batched = soak(server, calls=calls, threads=args.threads, warmup=warmup, batch=True,
                       limiter=limiter)
        lines += table(f"2. chatmini.batch, {args.threads} workers, RateLimiter(rpm="
                       f"{args.rpm:,.0f}, max_concurrent={args.max_concurrent})", batched)
    print("\n".join(lines))
    problems = report.problems() + batched.problems()
    return 1 if problems else 0


if __name__ == "__main__":  # the server's child process imports this module again
    sys.exit(main())
