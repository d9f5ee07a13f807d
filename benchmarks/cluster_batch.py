"""A batch file on 4 worker processes, on Dask and on Ray, against one ``chatmini.batch`` process.

Usage: ``python benchmarks/cluster_batch.py [--quick] [--rounds N] [--requests N]``; prints a
Markdown table. The embedded test server (50 ms latency) runs in its own process. Rows, run
round-robin (who goes first rotates each round), each a median of ``--rounds`` runs:

- ``chatmini.batch``, 32 threads in one process (the figure of ``benchmarks/throughput.py``);
- ``run_on_dask`` on a LocalCluster of 4 worker processes (1 task each at a time) and
  ``run_on_ray`` on ``ray.init(num_cpus=4)`` (4 worker processes), tasks of 8 lines a thread
  sent on 8 threads: 32 calls in flight, as the single process has; then 32 threads (128);
- the same with a RedisRateLimiter in every worker (a budget far above what is sent: its cost).

Distributed runs read the input file and write the results file (appended, then rewritten in
input order); ``chatmini.batch`` keeps its results in memory.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Optional

from harness import markdown, median, ratio_cell, round_robin, spread
from throughput import KEY, LATENCY, body, run_chatmini

import chatmini
from chatmini.batching.distributed import run_on_dask, run_on_ray
from chatmini.testing.process import ServerProcess
from chatmini.testing.redis_server import RedisServer

PROCESSES = 4
WAVES = 8  # a task's lines: 8 per thread
BASE = "chatmini.batch, 1 process × 32 threads"


def make_client(base_url: str, threads: int, redis_url: Optional[str],
                budget: str) -> chatmini.Client:
    """A worker process's Client (built once per process by the runners)."""
    plugins = []
    if redis_url is not None:
        plugins.append(chatmini.RedisRateLimiter(redis_url, rpm=1_000_000, key=budget))
    return chatmini.Client(api_key=KEY, base_url=base_url, pool_maxsize=threads, plugins=plugins)


def write_requests(path: Path, n: int) -> None:
    with path.open("w") as out:
        for i in range(n):
            out.write(json.dumps({"custom_id": f"r{i}", "body": body(i)}) + "\n")


def distributed_run(run: Callable[..., Any], source: Path, out: Path, n: int,
                    factory: Any, threads: int) -> None:
    """One run of ``run`` (run_on_dask bound to a cluster, or run_on_ray) on a fresh output."""
    if out.exists():
        out.unlink()
    summary = run(source, out, factory, chunk_size=WAVES * threads, threads=threads,
                  pending=2 * PROCESSES)
    assert (summary.ok, summary.failed) == (n, 0), summary


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one short round (a smoke test)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per row (3)")
    parser.add_argument("--requests", type=int, default=3000, help="requests per run (3000)")
    args = parser.parse_args(argv)
    rounds, n = (1, 640) if args.quick else (args.rounds, args.requests)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray
    from dask.distributed import Client as DaskClient
    from dask.distributed import LocalCluster

    startup: dict[str, float] = {}
    with ServerProcess(latency=LATENCY) as server, RedisServer() as redis_server, \
            tempfile.TemporaryDirectory() as tmp:
        source, out = Path(tmp, "requests.jsonl"), Path(tmp, "results.jsonl")
        write_requests(source, n)
        started = time.perf_counter()
        cluster = LocalCluster(n_workers=PROCESSES, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        dask = DaskClient(cluster)
        startup["Dask"] = time.perf_counter() - started
        started = time.perf_counter()
        ray.init(num_cpus=PROCESSES, include_dashboard=False, log_to_driver=False)
        startup["Ray"] = time.perf_counter() - started
        engines = {"Dask": functools.partial(run_on_dask, dask), "Ray": run_on_ray}
        runs: dict[str, Callable[[], None]] = {
            BASE: lambda: run_chatmini(server.base_url, 32, n)}
        in_flight = {BASE: 32}
        for engine, run in engines.items():
            for threads in (8, 32):
                for redis_url in (None, redis_server.url):
                    name = (f"{engine}, {PROCESSES} processes × {threads} threads"
                            + (" + RedisRateLimiter" if redis_url else ""))
                    factory = functools.partial(make_client, server.base_url, threads,
                                                redis_url, uuid.uuid4().hex)
                    runs[name] = functools.partial(distributed_run, run, source, out, n, factory,
                                                   threads)
                    in_flight[name] = PROCESSES * threads
        for run_once in runs.values():  # untimed: worker Clients, first connections
            run_once()

        def measure(name: str) -> dict[str, float]:
            started = time.perf_counter()
            runs[name]()
            return {"rate": n / (time.perf_counter() - started)}

        results = round_robin(list(runs), rounds, measure)
        dask.close()
        cluster.close()
        ray.shutdown()
    base = results[BASE]["rate"]
    rows = []
    for name, samples in results.items():
        ideal = in_flight[name] / LATENCY
        rows.append([name, str(in_flight[name]), spread(samples["rate"]),
                     f"{100 * median(samples['rate']) / ideal:.1f}%",
                     ratio_cell(samples["rate"], base)])
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"# A batch file on {PROCESSES} worker processes\n\npython {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs (load average {load} at the end), {n} requests per run, "
          f"{rounds} round(s), {LATENCY * 1000:.0f} ms server latency\n")
    print(markdown(["run", "in flight", "req/s", "% of ideal", "× chatmini.batch"], rows))
    print(f"\nIdeal: calls in flight / {LATENCY * 1000:.0f} ms. Cluster start-up (not in the "
          f"runs): Dask {startup['Dask']:.1f} s, Ray {startup['Ray']:.1f} s; both stay up, idle, "
          "during every run.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
