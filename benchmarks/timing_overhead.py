"""What the built-in timing (and call-log) plugins cost: client CPU per call and per stream event.

Usage: ``python benchmarks/timing_overhead.py [--rounds N] [--calls N] [--chunks N]``.
Three clients (timing and logging blocked, timing only, both as by default), measured in
interleaved rounds (who goes first rotates) with ``time.thread_time()`` of the calling thread:
over loopback against the embedded server in its own process (one event per HTTP chunk), and
with a plugin answering in place of the network, which leaves only chatmini's own work and so
shows the plugins' cost in µs with little noise.
Goal: timing under 5% of chatmini's per-call CPU.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import platform
import statistics
import sys
import time
from typing import Any, Callable

import requests

import chatmini
from chatmini.testing import Reply
from chatmini.testing.process import ServerProcess

MESSAGES = [{"role": "user", "content": "hi"}]
CONFIGS = {  # name -> plugins blocked
    "bare (timing, logging blocked)": ["timing", "logging"],
    "timing (logging blocked)": ["logging"],
    "default (timing + logging)": [],
}
GOAL = 0.05
CANNED = (b'{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"m",'
          b'"choices":[{"index":0,"message":{"role":"assistant","content":"echo: hi"},'
          b'"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2,'
          b'"total_tokens":3}}')


class Canned:
    """Answers every attempt with the same 200 in place of the network."""

    @chatmini.hookimpl
    def chatmini_send(self) -> requests.Response:
        response = requests.Response()
        response.status_code = 200
        response._content = CANNED
        response.headers = requests.structures.CaseInsensitiveDict(
            {"content-type": "application/json", "x-request-id": "req_1"})
        response.elapsed = datetime.timedelta(microseconds=500)
        return response


def per_call_cpu(client: chatmini.Client, calls: int) -> float:
    """Microseconds of this thread's CPU per non-streamed call."""
    create = client.chat.completions.create
    for _ in range(10):
        create(model="m", messages=MESSAGES)
    gc.collect()
    start = time.thread_time()
    for _ in range(calls):
        create(model="m", messages=MESSAGES)
    return (time.thread_time() - start) / calls * 1e6


def per_event_cpu(client: chatmini.Client, server: ServerProcess, chunks: int) -> float:
    """Microseconds of this thread's CPU per event of one long streamed reply."""
    server.enqueue(Reply(chunks=chunks))
    gc.collect()
    start = time.thread_time()
    with client.chat.completions.create(model="m", messages=MESSAGES, stream=True) as stream:
        for _ in stream:
            pass
    return (time.thread_time() - start) / chunks * 1e6


def rounds(names: list[str], count: int, measure: Callable[[str], float]) -> dict[str, list]:
    """``measure(name)`` once per name per round, rotating the order every round."""
    results: dict[str, list[float]] = {name: [] for name in names}
    for r in range(count):
        for name in names[r % len(names):] + names[: r % len(names)]:
            results[name].append(measure(name))
    return results


def paired(results: dict[str, list[float]], name: str, how: Callable[[float, float], float]):
    """Median over rounds of ``how(value, bare value)`` (both measured in the same round)."""
    base = results[next(iter(results))]
    return statistics.median(how(v, b) for v, b in zip(results[name], base))


def table(title: str, unit: str, results: dict[str, list[float]]) -> list[str]:
    """Markdown rows: median (min-max), and paired per-round differences from bare."""
    lines = [f"### {title}", "", f"| client | {unit} median (min–max) | added µs | added % |",
             "|:---|---:|---:|---:|"]
    for name, values in results.items():
        added = paired(results, name, lambda v, b: v - b)
        over = paired(results, name, lambda v, b: v / b - 1)
        lines.append(f"| {name} | {statistics.median(values):.2f} ({min(values):.2f}–"
                     f"{max(values):.2f}) | {added:+.2f} | {over:+.1%} |")
    return lines + [""]


def make_clients(base_url: str, **options: Any) -> dict[str, chatmini.Client]:
    """One client per configuration."""
    return {name: chatmini.Client(api_key="k", base_url=base_url, disabled_plugins=blocked,
                                  **options)
            for name, blocked in CONFIGS.items()}


def arguments(description: str) -> argparse.Namespace:
    """``--rounds``, ``--calls`` and ``--chunks`` from the command line."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--chunks", type=int, default=20_000)
    return parser.parse_args()


def measure(
    names: list[str], make: Callable[..., dict[str, chatmini.Client]], args: argparse.Namespace
) -> None:
    """Measure the clients ``make(base_url, **options)`` returns (``names[0]`` is the baseline)
    over loopback, with the network replaced, and per stream event; print tables and verdicts."""
    with ServerProcess() as server:
        clients = make(server.base_url)
        calls = rounds(names, args.rounds, lambda n: per_call_cpu(clients[n], args.calls))
        events = rounds(names, args.rounds,
                        lambda n: per_event_cpu(clients[n], server, args.chunks))
        for client in clients.values():
            client.close()
    offline = make("http://127.0.0.1:9/v1", plugins=[Canned()])
    own = rounds(names, args.rounds, lambda n: per_call_cpu(offline[n], args.calls * 10))
    print(f"Python {platform.python_version()} on {platform.machine()}, "
          f"{args.rounds} rounds: `{' '.join([sys.executable.rsplit('/', 1)[-1], *sys.argv])}`\n")
    print("\n".join(table(f"Non-streamed call over loopback ({args.calls} calls a round)",
                          "CPU µs/call", calls)))
    print("\n".join(table(f"Non-streamed call, network replaced by a plugin "
                          f"({args.calls * 10} calls a round)", "CPU µs/call", own)))
    print("\n".join(table(f"Streamed reply ({args.chunks} chunks a round)", "CPU µs/event",
                          events)))
    bare = statistics.median(calls[names[0]])
    for name in names[1:]:
        looped = paired(calls, name, lambda v, b: v / b - 1)
        added = paired(own, name, lambda v, b: v - b)
        verdict = "PASS" if max(looped, added / bare) < GOAL else "MISS"
        print(f"- {name}: {looped:+.1%} per call over loopback; its own work {added:.1f} µs = "
              f"{added / bare:.1%} of a bare call's {bare:.0f} µs (goal < {GOAL:.0%}): {verdict}")


def main() -> int:
    measure(list(CONFIGS), make_clients, arguments(__doc__.splitlines()[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
