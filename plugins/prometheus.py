"""Prometheus metrics from every call's Timing (``pip install 'chatmini[prometheus]'``).

``Client(plugins=[PrometheusMetrics()])`` records into prometheus-client's default registry,
``PrometheusMetrics(registry=r)`` into another; expose them as usual (``start_http_server``,
``make_wsgi_app``, ...). prometheus-client is imported when the plugin is built, never by
``import chatmini``. Buckets reach minutes: LLM calls are slow, and a long tail is the point.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Optional, Sequence

from chatmini.errors import InvalidRequestError
from chatmini.hookspecs import hookimpl
from chatmini.plugins.timing import warn_unless_declared

if TYPE_CHECKING:
    from chatmini.client import Client
    from chatmini.plugins.timing import Timing

DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
TTFT_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
UNKNOWN = "none"  # label value when a call has no model, or got no HTTP status

_lock = threading.Lock()
_by_registry: dict[int, tuple[Any, Metrics]] = {}


class Metrics:
    """The collectors, registered once per registry (a second plugin on it shares them)."""

    def __init__(
        self, registry: Any, duration_buckets: Sequence[float], ttft_buckets: Sequence[float],
        labels: tuple[str, ...] = (),
    ) -> None:
        from prometheus_client import Counter, Histogram

        self.labels = labels  # call labels (Timing.labels) added to the duration and errors
        self.duration = Histogram(
            "chatmini_request_duration_seconds",
            "Wall time of a call, retries and the whole stream included.",
            ("model", "endpoint", "status", *labels), buckets=duration_buckets,
            registry=registry,
        )
        self.ttft = Histogram(
            "chatmini_time_to_first_token_seconds",
            "Time from the start of a streamed call to its first chunk (any token, reasoning "
            "included).",
            ("model",), buckets=ttft_buckets, registry=registry,
        )
        self.ttfc = Histogram(
            "chatmini_time_to_first_content_seconds",
            "Time from the start of a streamed call to the first piece of its answer, after "
            "any reasoning.",
            ("model",), buckets=ttft_buckets, registry=registry,
        )
        self.retries = Counter(
            "chatmini_retries", "Retries spent (replays not included).",
            ("model", "endpoint"), registry=registry,
        )
        self.tokens = Counter(
            "chatmini_tokens", "Tokens reported in usage, by kind (prompt or completion).",
            ("model", "kind"), registry=registry,
        )
        self.errors = Counter(
            "chatmini_errors", "Calls that failed, by chatmini exception class.",
            ("model", "type", *labels), registry=registry,
        )


def metrics_for(
    registry: Any = None,
    duration_buckets: Sequence[float] = DURATION_BUCKETS,
    ttft_buckets: Sequence[float] = TTFT_BUCKETS,
    labels: tuple[str, ...] = (),
) -> Metrics:
    """The chatmini collectors of ``registry`` (default: prometheus-client's), made once; a
    second plugin on the registry must ask for the same call labels."""
    try:
        import prometheus_client
    except ImportError:
        raise ImportError(
            "PrometheusMetrics needs prometheus-client: pip install 'chatmini[prometheus]'"
        ) from None
    registry = prometheus_client.REGISTRY if registry is None else registry
    with _lock:
        entry = _by_registry.get(id(registry))
        if entry is None or entry[0] is not registry:
            entry = _by_registry[id(registry)] = (
                registry, Metrics(registry, duration_buckets, ttft_buckets, labels)
            )
        elif entry[1].labels != labels:
            raise InvalidRequestError(
                f"PrometheusMetrics(labels={list(labels)}) and the plugin already recording "
                f"into this registry (labels={list(entry[1].labels)}) disagree: metric labels "
                "are fixed once registered; use the same labels, or another registry"
            )
        return entry[1]


class PrometheusMetrics:
    """A plugin observing every finished call into the chatmini Prometheus metrics.

    ``labels`` names call labels (``Timing.labels``, e.g. ``"upstream"`` from the fallback
    plugin, ``"cache"`` from the response cache) to add to the duration histogram and the error
    counter; a call without one gets ``"none"``.
    """

    chatmini_plugin_name = "prometheus"

    def __init__(
        self,
        registry: Optional[Any] = None,
        *,
        duration_buckets: Sequence[float] = DURATION_BUCKETS,
        ttft_buckets: Sequence[float] = TTFT_BUCKETS,
        labels: Sequence[str] = (),
    ) -> None:
        self.metrics = metrics_for(registry, duration_buckets, ttft_buckets, tuple(labels))

    @hookimpl
    def chatmini_client_init(self, client: Client) -> None:
        warn_unless_declared(client, "Prometheus plugin")

    @hookimpl(optionalhook=True)
    def chatmini_timing(self, timing: Timing) -> None:
        m = self.metrics
        model = timing.model or UNKNOWN
        endpoint = timing.route
        status = str(timing.status) if timing.status is not None else UNKNOWN
        extra = [timing.labels.get(name, UNKNOWN) for name in m.labels] if m.labels else ()
        if timing.duration is not None:
            m.duration.labels(model, endpoint, status, *extra).observe(timing.duration)
        if timing.ttft is not None:
            m.ttft.labels(model).observe(timing.ttft)
        if timing.time_to_first_content is not None:
            m.ttfc.labels(model).observe(timing.time_to_first_content)
        if timing.retries:
            m.retries.labels(model, endpoint).inc(timing.retries)
        if timing.prompt_tokens:
            m.tokens.labels(model, "prompt").inc(timing.prompt_tokens)
        if timing.completion_tokens:
            m.tokens.labels(model, "completion").inc(timing.completion_tokens)
        if timing.error is not None:
            m.errors.labels(model, timing.error, *extra).inc()

    def __repr__(self) -> str:
        return "<PrometheusMetrics>"
