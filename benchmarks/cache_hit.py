"""What a response-cache hit costs, against the loopback call it replaces.

Usage: ``python benchmarks/cache_hit.py [--rounds N] [--calls N] [--chunks N]``.
The server runs in its own process (``chatmini.testing.ServerProcess``), so its work does not
compete with the client for this process's GIL. Clients, measured in interleaved rounds (who
goes first rotates): no cache (every call over loopback), a memory cache and a SQLite cache
answering hits, and both caches missing (a new question every call: the loopback call plus the
look-up and the store). Per call, the calling thread's CPU (``time.thread_time()``) and the wall
time; a streamed reply of ``--chunks`` chunks is measured the same way, replayed from the cache
through the stream core. Goal: a hit costs less than half a loopback call's wall time.
"""

from __future__ import annotations

import itertools
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from timing_overhead import arguments, rounds

import chatmini
from chatmini.plugins.cache import ResponseCache
from chatmini.testing.process import ServerProcess

GOAL = 0.5
NAMES = ["loopback, no cache", "memory cache: hit", "SQLite cache: hit", "memory cache: miss",
         "SQLite cache: miss"]


def clients(base_url: str, folder: str) -> dict[str, chatmini.Client]:
    """One client per configuration (a SQLite file each, so misses never hit the other's)."""
    def make(*plugins: Any) -> chatmini.Client:
        return chatmini.Client(api_key="k", base_url=base_url, plugins=plugins)

    return {
        NAMES[0]: make(),
        NAMES[1]: make(ResponseCache(streams=True)),
        NAMES[2]: make(ResponseCache(Path(folder) / "hits.sqlite3", streams=True)),
        NAMES[3]: make(ResponseCache(max_entries=100_000)),
        NAMES[4]: make(ResponseCache(Path(folder) / "misses.sqlite3")),
    }


def per_call(client: chatmini.Client, calls: int, fresh: bool) -> tuple[float, float]:
    """(CPU µs, wall µs) per non-streamed call; ``fresh``: a new question every call."""
    counter = itertools.count()
    create = client.chat.completions.create

    def call() -> None:
        text = f"q{next(counter)}-{time.perf_counter_ns()}" if fresh else "the same question"
        create(model="m", messages=[{"role": "user", "content": text}], temperature=0)

    for _ in range(10):
        call()  # warm: the hits' answer is stored here
    start, wall = time.thread_time(), time.perf_counter()
    for _ in range(calls):
        call()
    return ((time.thread_time() - start) / calls * 1e6,
            (time.perf_counter() - wall) / calls * 1e6)


def per_stream(client: chatmini.Client, chunks: int) -> tuple[float, float]:
    """(CPU µs, wall µs) of one streamed reply of ``chunks`` chunks, read to the end."""
    words = " ".join(["tok"] * chunks)
    create = client.chat.completions.create

    def read() -> None:
        with create(model="m", messages=[{"role": "user", "content": words}], stream=True,
                    temperature=0) as stream:
            for _ in stream:
                pass

    read()  # warm: stored here by the caches
    start, wall = time.thread_time(), time.perf_counter()
    read()
    return (time.thread_time() - start) * 1e6, (time.perf_counter() - wall) * 1e6


def rows(results: dict[str, list[tuple[float, float]]], unit: str) -> list[str]:
    """Markdown rows: CPU and wall medians (min–max), and wall × the loopback call's."""
    base = [wall for _, wall in results[NAMES[0]]]
    lines = [f"| client | CPU µs/{unit} median (min–max) | wall µs/{unit} median (min–max) "
             "| wall × loopback |", "|:---|---:|---:|---:|"]
    for name, values in results.items():
        cpu, wall = [v[0] for v in values], [v[1] for v in values]
        ratio = statistics.median(w / b for w, b in zip(wall, base))
        lines.append(f"| {name} | {_cell(cpu)} | {_cell(wall)} | {ratio:.2f}× |")
    return lines + [""]


def _cell(values: list[float]) -> str:
    return f"{statistics.median(values):,.1f} ({min(values):,.1f}–{max(values):,.1f})"


def main() -> int:
    args = arguments(__doc__.splitlines()[0])
    with ServerProcess() as server, tempfile.TemporaryDirectory() as folder:
        made = clients(server.base_url, folder)
        calls = rounds(NAMES, args.rounds, lambda n: per_call(made[n], args.calls, "miss" in n))
        streamed = [n for n in NAMES if "miss" not in n]
        chunks = max(args.chunks // 10, 100)
        streams = rounds(streamed, args.rounds, lambda n: per_stream(made[n], chunks))
        for client in made.values():
            client.close()
    print(f"Python {platform.python_version()} on {platform.machine()}, {args.rounds} rounds: "
          f"`{' '.join([sys.executable.rsplit('/', 1)[-1], *sys.argv])}`\n")
    print(f"### Non-streamed call ({args.calls} calls a round)\n")
    print("\n".join(rows(calls, "call")))
    print(f"### Streamed reply of {chunks:,} chunks (one a round)\n")
    print("\n".join(rows(streams, "stream")))
    loopback = statistics.median(wall for _, wall in calls[NAMES[0]])
    for name in NAMES[1:3]:
        hit = statistics.median(wall for _, wall in calls[name])
        verdict = "PASS" if hit < GOAL * loopback else "MISS"
        print(f"- {name}: {hit:,.0f} µs against {loopback:,.0f} µs over loopback "
              f"({hit / loopback:.2f}×, goal < {GOAL:.1f}×): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
