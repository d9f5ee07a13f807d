"""OpenTelemetry traces and metrics for GenAI calls, after the GenAI semantic conventions
(``pip install 'chatmini[otel]'``): ``Client(plugins=[chatmini.OpenTelemetry()])``.

``conventions`` pins the names (semantic conventions v1.41.0), ``operations`` maps API paths to
operations and reads requests and answers, ``messages`` shapes opted-in message content, and
``plugin`` holds the hooks. See docs/observability.md.
"""

from .conventions import CAPTURE_ENV, SEMCONV_VERSION
from .operations import OPERATIONS, Operation
from .plugin import OpenTelemetry

__all__ = ["CAPTURE_ENV", "OPERATIONS", "OpenTelemetry", "Operation", "SEMCONV_VERSION"]
