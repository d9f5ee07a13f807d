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

import sys
from typing import Any, Sequence

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from timing_overhead import arguments, measure

import chatmini

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


def make_clients(base_url: str, plugins: Sequence[Any] = ()) -> dict[str, chatmini.Client]:
    """One client per configuration, each with ``plugins`` after its own."""
    own = {BARE: [], API_ONLY: [chatmini.OpenTelemetry()], WITH_SDK: [sdk_plugin()]}
    return {name: chatmini.Client(api_key="k", base_url=base_url, plugins=[*extra, *plugins])
            for name, extra in own.items()}


def main() -> int:
    measure([BARE, API_ONLY, WITH_SDK], make_clients, arguments(__doc__.splitlines()[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
