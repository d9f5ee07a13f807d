"""Concurrency targets of chatmini.batch, RateLimiter and ``chatmini batch`` (issue 5).

Usage: ``python benchmarks/throughput.py [--quick] [--rounds N]``; prints Markdown tables.
Every section talks to the embedded test server with 50 ms latency, run in its own process.

1. Throughput: 8 and 32 workers, req/s against the ideal workers/0.05 s and TCP connections
   opened, for chatmini.batch, the openai SDK in a ThreadPoolExecutor and requests.Session in
   one (median of interleaved rounds). Goal: 32 workers >= 93% of 640 req/s, <= 32 connections.
2. Limits: 600 requests/minute over 30 s with 64 workers, and a tokens-per-minute limit, as
   achieved rates from the send times. Goal: within 5%.
3. Faults: 5,000 requests through ``chatmini batch`` with 10% injected 429/503/dropped
   connections. Goal: every input in the results file exactly once.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, NamedTuple

import requests
from adapters import OPENAI_MISSING, openai_installed
from harness import Panel, Table, Target, median, num, ratio_cell, spread
from limit_table import limit_header, limit_row, rpm_row

import chatmini
from chatmini.cli import main as chatmini_main
from chatmini.plugins.ratelimit import DEFAULT_COMPLETION_TOKENS, estimate_tokens
from chatmini.testing.pacing import SendTimes
from chatmini.testing.process import ServerProcess

LATENCY = 0.05
MODEL = "gpt-4o-mini"
KEY = "sk-bench"


def body(i: int) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": f"q{i}"}]}


# --- 1. throughput ----------------------------------------------------------------------------


def run_chatmini(url: str, workers: int, n: int) -> None:
    with chatmini.Client(api_key=KEY, base_url=url, pool_maxsize=workers) as client:
        results = chatmini.batch(client, [body(i) for i in range(n)], workers=workers)
    assert not any(isinstance(r, Exception) for r in results)


def run_openai(url: str, workers: int, n: int) -> None:
    import openai

    client = openai.OpenAI(api_key=KEY, base_url=url)
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda i: client.chat.completions.create(**body(i)), range(n)))
    client.close()


def run_requests(url: str, workers: int, n: int) -> None:
    with requests.Session() as session:
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=workers)
        session.mount("http://", adapter)
        headers = {"Authorization": f"Bearer {KEY}"}

        def call(i: int) -> Any:
            r = session.post(url + "/chat/completions", json=body(i), headers=headers)
            r.raise_for_status()
            return r.json()

        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(call, range(n)))


class Runs(NamedTuple):
    """One client's runs at one worker count: a value per run, connections the most of any run."""

    rates: list[float]  # requests per second
    connections: int
    client_cpu: list[float]  # ms of this process's CPU per request (all its threads)
    server_cpu: list[float]  # ms of the server process's CPU per request


def measure_throughput(
    rounds: int, per_worker: int, workers_list: tuple[int, ...] = (8, 32)
) -> tuple[dict[int, dict[str, Runs]], list[str]]:
    """Interleaved runs per client and worker count: {workers: {client: Runs}}, and notes
    saying what was skipped."""
    clients: dict[str, Callable[[str, int, int], None]] = {
        "chatmini.batch": run_chatmini,
        "openai SDK + ThreadPoolExecutor": run_openai,
        "requests.Session + ThreadPoolExecutor": run_requests,
    }
    notes = []
    if not openai_installed():
        del clients["openai SDK + ThreadPoolExecutor"]
        notes.append(f"openai rows skipped: {OPENAI_MISSING}.")
    results: dict[int, dict[str, Runs]] = {}
    with ServerProcess(latency=LATENCY) as server:
        for workers in workers_list:
            n = per_worker * workers
            runs = {name: Runs([], 0, [], []) for name in clients}
            names = list(clients)
            for name in names:  # untimed: first imports, first connections, thread start-up
                clients[name](server.base_url, workers, workers)
            for r in range(rounds):
                for name in names[r % len(names):] + names[: r % len(names)]:
                    server.reset()
                    server_cpu, cpu, start = server.stats()["cpu_seconds"], time.process_time(), \
                        time.perf_counter()
                    clients[name](server.base_url, workers, n)
                    runs[name].rates.append(n / (time.perf_counter() - start))
                    runs[name].client_cpu.append((time.process_time() - cpu) / n * 1e3)
                    after = server.stats()
                    runs[name].server_cpu.append((after["cpu_seconds"] - server_cpu) / n * 1e3)
                    runs[name] = runs[name]._replace(
                        connections=max(runs[name].connections, after["connections"]))
            results[workers] = runs
    return results, notes


def throughput(rounds: int, per_worker: int) -> list[str]:
    results, notes = measure_throughput(rounds, per_worker)
    lines = ["| client | workers | req/s | % of ideal | TCP connections |", "|---|---|---|---|---|"]
    for workers, by_client in results.items():
        ideal = workers / LATENCY
        for name, runs in by_client.items():
            rate = statistics.median(runs.rates)
            lines.append(f"| {name} | {workers} | {rate:.0f} | {100 * rate / ideal:.1f}% "
                         f"| {runs.connections} |")
    lines.append("")
    lines.append(f"Ideal: workers / {LATENCY * 1000:.0f} ms. {per_worker} requests per worker per "
                 f"run, median of {rounds} interleaved runs; connections: the most any run opened.")
    return lines + [f"Note: {note}" for note in notes]


def bench_throughput(ctx: Any) -> Table:
    """f. The throughput section of ``run.py`` (``ctx.settings`` sets rounds and requests)."""
    s = ctx.settings
    results, notes = measure_throughput(s.throughput_rounds, s.throughput_per_worker)
    table = Table(
        f"f. Throughput: 8 and 32 worker threads against {LATENCY * 1000:.0f} ms server "
        f"latency ({s.throughput_per_worker} requests per worker, {s.throughput_rounds} rounds)",
        ["client", "workers", "req/s", "% of ideal", "req/s × chatmini", "client CPU ms/req",
         "server CPU ms/req", "TCP connections"],
        notes=notes,
    )
    for workers, by_client in results.items():
        ideal = workers / LATENCY
        base = by_client["chatmini.batch"].rates
        for name, runs in by_client.items():
            table.rows.append([
                name, str(workers), spread(runs.rates),
                spread([100 * r / ideal for r in runs.rates], num), ratio_cell(runs.rates, base),
                spread(runs.client_cpu), spread(runs.server_cpu), str(runs.connections),
            ])
    best = results[32]["chatmini.batch"]
    share, connections = 100 * median(best.rates) / (32 / LATENCY), best.connections
    wave = 32 * median(best.client_cpu)
    table.notes.append(
        f"Ideal = workers / {LATENCY * 1000:.0f} ms. The server runs in its own process "
        "(chatmini.testing.process.ServerProcess); connections: the most any one run opened; "
        "CPU is process time per request, all threads. `python benchmarks/throughput.py` also "
        "checks rate limits and fault handling."
    )
    table.notes.append(
        f"What bounds it: the workers move in waves (all wait the same {LATENCY * 1000:.0f} ms), "
        f"so 32 answers arrive together and are handled one at a time under the GIL, "
        f"{wave:.0f} ms of client CPU per wave for chatmini.batch (plus the server's); every "
        "other process on the machine lengthens the queue. Compare the load average above."
    )
    table.targets.append(Target(
        "throughput, 32 workers", "≥ 93% of ideal, ≤ 32 connections",
        f"{share:.1f}%, {connections} connections", share >= 93 and connections <= 32,
    ))
    short = {name: name.split(" ")[0].split(".")[0] for name in results[32]}  # as elsewhere
    table.panels.append(Panel(
        f"Throughput, 32 workers, {LATENCY * 1000:.0f} ms latency", "% of ideal",
        {short[name]: 100 * median(runs.rates) / (32 / LATENCY)
         for name, runs in results[32].items()},
        higher_is_better=True,
    ))
    return table


# --- 2. rate limits ---------------------------------------------------------------------------


def limited_run(url: str, limiter: chatmini.RateLimiter, inputs: list[Any]) -> tuple[list, list]:
    times = SendTimes()
    with chatmini.Client(api_key=KEY, base_url=url, pool_maxsize=64,
                         plugins=[limiter, times]) as client:
        results = chatmini.batch(client, inputs, workers=64)
    assert not any(isinstance(r, Exception) for r in results)
    return sorted(times.times), results


def limits(seconds: float) -> list[str]:
    lines = limit_header("workers")
    with ServerProcess(latency=LATENCY) as server:
        rpm = 600
        n = int(rpm / 60 * seconds) + 1
        times, _ = limited_run(server.base_url, chatmini.RateLimiter(rpm=rpm),
                               [body(i) for i in range(n)])
        lines.append(rpm_row(rpm, "64", times))
        tpm = 60_000
        for label, extra in (("max_tokens set", {"max_tokens": 41}), ("no max_tokens", {})):
            words = " ".join(["word"] * 40)  # 40 prompt tokens, 41 completion tokens
            inputs = [{"model": MODEL, "messages": [{"role": "user", "content": words}], **extra}
                      for _ in range(int(tpm / 81 / 60 * seconds) + 1)]
            limiter = chatmini.RateLimiter(tpm=tpm)
            times, results = limited_run(server.base_url, limiter, inputs)
            used = [r.usage.total_tokens for r in results]
            estimate = estimate_tokens(inputs[0], DEFAULT_COMPLETION_TOKENS)
            lines.append(limit_row(
                f"{tpm} tokens/min ({label}: estimate {estimate}, used {used[0]})", tpm, "tpm",
                "64", times, sum(used[:-1])))
    lines.append("")
    lines.append("Achieved: what was sent between the first and the last request, per minute "
                 "(tokens: the real usage the server reported).")
    return lines


# --- 3. faults --------------------------------------------------------------------------------


def faults(n: int) -> list[str]:
    lines = ["| run | inputs | lines written | ok | failed | lost | duplicated | wall |",
             "|---|---|---|---|---|---|---|---|"]
    with ServerProcess(latency=LATENCY, fault_rate=0.1, seed=5) as server, \
            tempfile.TemporaryDirectory() as tmp:
        source, out = Path(tmp, "requests.jsonl"), Path(tmp, "results.jsonl")
        with source.open("w") as f:
            for i in range(n):
                f.write(json.dumps({"custom_id": f"r{i}", "body": body(i)}) + "\n")
        args = ["batch", str(source), "-o", str(out), "--base-url", server.base_url,
                "--workers", "32"]
        before = 0
        for label, extra in (("first run", []), ("rerun --retry-failed", ["--retry-failed"])):
            start = time.perf_counter()
            chatmini_main(args + extra)
            wall = time.perf_counter() - start
            records = [json.loads(line) for line in out.read_text().splitlines()]
            final = {r["custom_id"]: r for r in records}  # the last line for an id wins
            for cid, r in final.items():  # each answer belongs to its own input
                assert r["error"] is not None or (r["response"]["body"]["choices"][0]["message"]
                                                  ["content"] == f"echo: q{cid[1:]}")
            ok = sum(r["error"] is None for r in final.values())
            added = records[before:]
            duplicated = len(added) - len({r["custom_id"] for r in added})
            before = len(records)
            lines.append(f"| {label} | {n} | {len(added)} | {ok} | {len(final) - ok} "
                         f"| {n - len(final)} | {duplicated} | {wall:.1f} s |")
        stats = server.stats()
        injected, received = stats["faults"], stats["requests"]
    lines.append("")
    lines.append(f"Faults injected: {injected} over {received} requests received (dropped "
                 "connections are retried, so the server may see an input twice; the results "
                 "file holds it once). The rerun appends one line per id that had failed.")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke test)")
    parser.add_argument("--rounds", type=int, default=5, help="throughput runs per client")
    args = parser.parse_args(argv)
    quick = args.quick
    print(f"# chatmini concurrency benchmark\n\npython {sys.version.split()[0]}, "
          f"{'quick' if quick else 'full'} run\n")
    sections = [
        ("Throughput (50 ms latency)", lambda: throughput(1 if quick else args.rounds,
                                                          5 if quick else 30)),
        ("Rate limits", lambda: limits(3.0 if quick else 30.0)),
        ("Faults (10%: 429 with Retry-After, 503, dropped connections)",
         lambda: faults(300 if quick else 5000)),
    ]
    for title, section in sections:
        print(f"## {title}\n")
        print("\n".join(section()) + "\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
