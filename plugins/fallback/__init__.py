"""The ``fallback`` plugin: several endpoints for one API, each with its own credential and a
circuit breaker; calls go to the healthy ones and fail over when one is unwell. See
docs/fallback.md."""

from .breaker import CLOSED, HALF_OPEN, OPEN, EndpointHealth, HealthReport
from .endpoint import Endpoint
from .plugin import UPSTREAM, EndpointsUnavailableError, Fallback

__all__ = [
    "CLOSED",
    "HALF_OPEN",
    "OPEN",
    "UPSTREAM",
    "Endpoint",
    "EndpointHealth",
    "EndpointsUnavailableError",
    "Fallback",
    "HealthReport",
]
