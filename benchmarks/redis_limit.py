"""Budgets shared through Redis by 4 processes of 16 threads each, held over 30 s (issue 10).

Usage: ``python benchmarks/redis_limit.py [--seconds S]``; prints a Markdown table. The
embedded test server (50 ms latency) runs in its own process, a local redis-server holds the
budget, and four worker processes (tests/redis_worker.py) send through RedisRateLimiter,
noting when each request goes. Goal: the achieved rate within 5% of the budget.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from limit_table import limit_header, limit_row, rpm_row

from chatmini.plugins.ratelimit import DEFAULT_COMPLETION_TOKENS, estimate_tokens
from chatmini.testing.process import ServerProcess
from chatmini.testing.redis_server import RedisServer

WORKER = Path(__file__).resolve().parent.parent / "tests" / "redis_worker.py"
PROCESSES, THREADS = 4, 16
WORDS = " ".join(["word"] * 40)  # 40 prompt tokens; the server's reply is 41 more


def shared_run(redis_url: str, base_url: str, limits: dict[str, Any], total: int,
               prompt: str = "hi", extra: dict[str, Any] | None = None) -> tuple[list, list]:
    """Send ``total`` requests from PROCESSES worker processes; (send times, tokens used)."""
    settings = {"mode": "run", "redis": redis_url, "base_url": base_url,
                "limits": {**limits, "key": uuid.uuid4().hex}, "threads": THREADS,
                "prompt": prompt, "extra": extra or {}}
    workers = []
    for i in range(PROCESSES):
        count = total // PROCESSES + (1 if i < total % PROCESSES else 0)
        workers.append(subprocess.Popen(
            [sys.executable, str(WORKER), json.dumps({**settings, "count": count})],
            stdout=subprocess.PIPE, text=True))
    sends, used = [], []
    for worker in workers:
        out, _ = worker.communicate(timeout=600)
        report = json.loads(out)
        assert worker.returncode == 0 and not report["errors"], report["errors"]
        sends += report["sends"]
        used += report["used"]
    return sorted(sends), used


def limits(seconds: float) -> list[str]:
    lines = limit_header("processes × threads")
    shape = f"{PROCESSES} × {THREADS}"
    with RedisServer() as redis_server, ServerProcess(latency=0.05) as server:
        rpm = 600
        n = int(rpm / 60 * seconds) + 1
        sends, _ = shared_run(redis_server.url, server.base_url, {"rpm": rpm}, n)
        lines.append(rpm_row(rpm, shape, sends))
        tpm = 60_000
        for label, extra in (("max_tokens set", {"max_tokens": 41}), ("no max_tokens", {})):
            count = int(tpm / 81 / 60 * seconds) + 1
            sends, used = shared_run(redis_server.url, server.base_url, {"tpm": tpm}, count,
                                     WORDS, extra)
            request = {"messages": [{"role": "user", "content": WORDS}], **extra}
            estimate = estimate_tokens(request, DEFAULT_COMPLETION_TOKENS)
            lines.append(limit_row(
                f"{tpm} tokens/min ({label}: estimate {estimate}, used {used[0]})", tpm, "tpm",
                shape, sends, sum(used) - used[0]))
    lines.append("")
    lines.append("Achieved: what was sent between the first and the last request of all "
                 "processes, per minute (tokens: the usage the server reported, less one "
                 "request's worth for the window's first).")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each run (30)")
    args = parser.parse_args(argv)
    print(f"# Shared limits through Redis\n\npython {sys.version.split()[0]}, "
          f"{args.seconds:.0f} s per run\n")
    print("\n".join(limits(args.seconds)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
