"""What the OpenTelemetry plugin costs: client CPU per call and per stream event.

Usage: ``python benchmarks/otel_overhead.py [--rounds N] [--calls N] [--chunks N]``
(needs ``pip install 'chatmini[otel]' opentelemetry-sdk``).
Three clients, measured like ``timing_overhead.py`` (interleaved rounds, ``time.thread_time()``
of the calling thread; over loopback, and with a plugin answering in place of the network):
the default client; with ``OpenTelemetry()`` on opentelemetry-api alone (no SDK: OpenTelemetry's
no-ops, what a library user pays before the application configures anything); and with the SDK
recording everything (a batch span processor whose exporter drops spans, and a metric reader).
The difference between the last two is the SDK's own work. Goal: the plugin under 5% of a
loopback call.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from timing_overhead import GOAL, Canned, paired, per_call_cpu, per_event_cpu, rounds, table

import chatmini
from chatmini.testing import Server

BARE = "default client (no OpenTelemetry)"
API_ONLY = "OpenTelemetry(), API only (no SDK)"
WITH_SDK = "OpenTelemetry() + SDK (spans and metrics recorded)"


class Dropping(SpanExporter):
    """Accepts every batch and keeps nothing: the SDK's work without an exporter's."""

    def export(self, spans: Any) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def sdk_plugin() -> chatmini.OpenTelemetry:
    """The plugin on a real SDK: batched spans dropped on export, metrics aggregated."""
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(Dropping()))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    return chatmini.OpenTelemetry(tracer_provider=tracer_provider, meter_provider=meter_provider)


def make_clients(base_url: str, *plugins: Any) -> dict[str, chatmini.Client]:
    """One client per configuration, each with ``plugins`` after its own."""
    own = {BARE: [], API_ONLY: [chatmini.OpenTelemetry()], WITH_SDK: [sdk_plugin()]}
    return {name: chatmini.Client(api_key="k", base_url=base_url, plugins=[*extra, *plugins])
            for name, extra in own.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--chunks", type=int, default=20_000)
    args = parser.parse_args()
    names = [BARE, API_ONLY, WITH_SDK]
    with Server() as server:
        clients = make_clients(server.base_url)
        calls = rounds(names, args.rounds, lambda n: per_call_cpu(clients[n], args.calls))
        events = rounds(names, args.rounds,
                        lambda n: per_event_cpu(clients[n], server, args.chunks))
        for client in clients.values():
            client.close()
    offline = make_clients("http://127.0.0.1:9/v1", Canned())
    own = rounds(names, args.rounds, lambda n: per_call_cpu(offline[n], args.calls * 10))
    print(f"Python {platform.python_version()} on {platform.machine()}, "
          f"{args.rounds} rounds: `{' '.join([sys.executable.rsplit('/', 1)[-1], *sys.argv])}`\n")
    print("\n".join(table(f"Non-streamed call over loopback ({args.calls} calls a round)",
                          "CPU µs/call", calls)))
    print("\n".join(table(f"Non-streamed call, network replaced by a plugin "
                          f"({args.calls * 10} calls a round)", "CPU µs/call", own)))
    print("\n".join(table(f"Streamed reply ({args.chunks} chunks a round)", "CPU µs/event",
                          events)))
    bare = statistics.median(calls[BARE])
    for name in names[1:]:
        looped = paired(calls, name, lambda v, b: v / b - 1)
        added = paired(own, name, lambda v, b: v - b)
        verdict = "PASS" if max(looped, added / bare) < GOAL else "MISS"
        print(f"- {name}: {looped:+.1%} per call over loopback; its own work {added:.1f} µs = "
              f"{added / bare:.1%} of a bare call's {bare:.0f} µs (goal < {GOAL:.0%}): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
