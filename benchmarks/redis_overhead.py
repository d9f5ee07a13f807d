"""What the Redis-shared limiter costs per call: round trips to Redis and microseconds.

Usage: ``python benchmarks/redis_overhead.py [--calls N] [--rounds R]``; prints a Markdown
table. Calls go to the embedded test server (no latency, its own process) from 1 thread and
from 16, with no limiter, the in-process RateLimiter and RedisRateLimiter (a local
redis-server on loopback), with budgets far above what is sent so nothing waits. Round trips
are counted by the limiter and checked against Redis' own ``INFO commandstats``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from typing import Any, Callable, Optional

import chatmini
from chatmini.plugins.redis_ratelimit import RedisRateLimiter
from chatmini.testing.process import ServerProcess
from chatmini.testing.redis_server import RedisServer

RPM, TPM = 6_000_000, 1_000_000_000  # never binding
REQUEST = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}


def script_calls(redis: Any) -> tuple[int, float]:
    """EVAL/EVALSHA calls Redis has run, and the microseconds it spent in them."""
    stats = redis.info("commandstats")
    picked = [v for k, v in stats.items() if k in ("cmdstat_evalsha", "cmdstat_eval")]
    return sum(v["calls"] for v in picked), sum(v["usec"] for v in picked)


def run(url: str, plugins: list[Any], calls: int, threads: int) -> float:
    """Seconds for ``calls`` chat calls on ``threads`` threads sharing one Client."""
    with chatmini.Client(api_key="sk-bench", base_url=url, pool_maxsize=threads,
                         plugins=plugins) as client:
        client.chat.completions.create(**REQUEST)  # connections and scripts warm
        start = time.perf_counter()
        if threads == 1:
            for _ in range(calls):
                client.chat.completions.create(**REQUEST)
        else:
            results = chatmini.batch(client, [REQUEST] * calls, workers=threads)
            assert not any(isinstance(r, Exception) for r in results)
        return time.perf_counter() - start


def measure(url: str, redis_url: str, calls: int, rounds: int, threads: int) -> list[str]:
    limiters: dict[str, Callable[[], Optional[Any]]] = {
        "no limiter": lambda: None,
        "RateLimiter (in-process) rpm+tpm": lambda: chatmini.RateLimiter(rpm=RPM, tpm=TPM),
        "RedisRateLimiter rpm+tpm": lambda: RedisRateLimiter(
            redis_url, rpm=RPM, tpm=TPM, key=uuid.uuid4().hex),
        "RedisRateLimiter rpm+tpm+max_concurrent": lambda: RedisRateLimiter(
            redis_url, rpm=RPM, tpm=TPM, max_concurrent=64, key=uuid.uuid4().hex),
    }
    import redis as redis_py

    redis = redis_py.Redis.from_url(redis_url)
    times: dict[str, list[float]] = {name: [] for name in limiters}
    trips: dict[str, list[float]] = {name: [] for name in limiters}
    server_us: dict[str, list[float]] = {name: [] for name in limiters}
    for _ in range(rounds):
        for name, make in limiters.items():
            limiter = make()
            before, usec = script_calls(redis)
            own = limiter.round_trips if isinstance(limiter, RedisRateLimiter) else 0
            seconds = run(url, [limiter] if limiter else [], calls, threads)
            if isinstance(limiter, RedisRateLimiter):
                limiter.close()
                sent, spent = (a - b for a, b in zip(script_calls(redis), (before, usec)))
                assert abs(sent - (limiter.round_trips - own)) <= 2, "commandstats disagree"
                trips[name].append(sent / (calls + 1))  # + the warm-up call
                server_us[name].append(spent / max(sent, 1))
            times[name].append(seconds / calls * 1e6)
    base = statistics.median(times["no limiter"])
    lines = [f"| limiter | {threads} thread{'s' if threads > 1 else ''}: µs per call | "
             "overhead µs | Redis round trips per call | Redis µs per script |",
             "|---|---|---|---|---|"]
    for name in limiters:
        per_call = statistics.median(times[name])
        rt = f"{statistics.median(trips[name]):.3f}" if trips[name] else "-"
        us = f"{statistics.median(server_us[name]):.0f}" if server_us[name] else "-"
        overhead = "-" if name == "no limiter" else f"{per_call - base:+.0f}"
        lines.append(f"| {name} | {per_call:.0f} | {overhead} | {rt} | {us} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per run (2000)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved runs (5)")
    args = parser.parse_args(argv)
    print(f"# Redis limiter overhead\n\npython {sys.version.split()[0]}, {args.calls} calls "
          f"per run, median of {args.rounds} interleaved runs\n")
    with RedisServer() as redis_server, ServerProcess() as server:
        for threads in (1, 16):
            print("\n".join(measure(server.base_url, redis_server.url, args.calls, args.rounds,
                                    threads)) + "\n", flush=True)
    print("Round trips: script calls per chat call (acquire; settlements ride on the next "
          "acquire or leave in a batch from the keeper thread), from the limiter's count, "
          "checked against Redis' INFO commandstats.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
