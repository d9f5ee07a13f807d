"""What expiring credentials cost: per-call overhead of each auth plugin, and token requests
when 32 threads need a token at once.

Usage: ``python benchmarks/auth_overhead.py [--calls N] [--rounds N]``. Prints Markdown tables.
Every Client talks to chatmini's embedded test server over loopback.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import chatmini
from chatmini.plugins.oauth2 import OAuth2ClientCredentials
from chatmini.plugins.token_provider import TokenProvider
from chatmini.testing import Server

THREADS = 32


def setups(server: Server) -> dict[str, Callable[[], chatmini.Client]]:
    """One Client factory per auth mode, all against ``server``."""
    url = server.base_url

    def oauth() -> chatmini.Client:
        creds = OAuth2ClientCredentials(server.token_url, server.tokens.client_id,
                                        server.tokens.client_secret)
        return chatmini.Client(base_url=url, auth=creds)

    return {
        "no credential": lambda: chatmini.Client(base_url=url, disabled_plugins=["api_key"]),
        "api_key": lambda: chatmini.Client("sk-bench", base_url=url),
        "oauth2 (cached token)": oauth,
        "token provider, (token, expiry)": lambda: chatmini.Client(
            base_url=url, auth=TokenProvider(lambda: ("t", time.time() + 3600))),
        "token provider, plain string": lambda: chatmini.Client(base_url=url, auth=lambda: "t"),
    }


def per_call(make: Callable[[], chatmini.Client], calls: int, rounds: int) -> tuple[float, float]:
    """Median µs per ``prepare_request`` hook call and per whole call (models.list)."""
    client = make()
    client.models.list()  # warm: connection open, token fetched
    request = client.build_request("GET", "/models")
    hook_times, call_times = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        for attempt in range(calls):
            client.plugin_host.prepare_request(request.for_attempt(attempt + 1, 0), client)
        hook_times.append((time.perf_counter() - start) / calls * 1e6)
        start = time.perf_counter()
        for _ in range(calls):
            client.models.list()
        call_times.append((time.perf_counter() - start) / calls * 1e6)
    client.close()
    return statistics.median(hook_times), statistics.median(call_times)


def first_call(args: tuple[threading.Barrier, chatmini.Client]) -> None:
    """Wait for every thread, then make one call."""
    barrier, client = args
    barrier.wait(10)
    client.models.list()


def contention(server: Server, rounds: int) -> list[int]:
    """Token requests per round when 32 threads make their first call together (cold cache)."""
    counts = []
    for _ in range(rounds):
        client = setups(server)["oauth2 (cached token)"]()
        barrier = threading.Barrier(THREADS)
        before = server.tokens.calls
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(first_call, [(barrier, client)] * THREADS))
        counts.append(server.tokens.calls - before)
        client.close()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with Server() as server:
        server.tokens.configure(lifetime=3600)
        rows = {name: per_call(make, args.calls, args.rounds)
                for name, make in setups(server).items()}
        base_hook, base_call = rows["no credential"]
        print(f"Per call, median of {args.rounds} rounds x {args.calls} calls (loopback):\n")
        print("| auth | prepare_request hook (µs) | over none | whole call (µs) | over none |")
        print("|---|---:|---:|---:|---:|")
        for name, (hook, call) in rows.items():
            print(f"| {name} | {hook:.1f} | {hook - base_hook:+.1f} | {call:.0f} | "
                  f"{call - base_call:+.0f} |")
        print("\nThe hook column is the plugin's own cost; whole-call differences of a few tens of"
              " µs are loopback noise.")
        counts = contention(server, args.rounds)
        print(f"\n{THREADS} threads, first call at once, {args.rounds} rounds:\n")
        print("| token requests per round (each) | API calls per round |")
        print("|---|---:|")
        print(f"| {', '.join(map(str, counts))} | {THREADS} |")


if __name__ == "__main__":
    main()
