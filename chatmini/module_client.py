"""The module-level default client, as openai-python has it.

``chatmini.api_key = "..."`` (or ``base_url``, ``organization``, ``project``, ``timeout``,
``max_retries``, ``default_headers``, ``default_query``), then ``chatmini.chat.completions
.create(...)``. A setting left at None comes from the environment, as ``Client()`` reads it.
The Client is built on first use and built again when a setting changed since, so an
assignment made after the first call still counts; ``ask`` and ``ask_stream`` use it too.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, Optional

from .client import Client

SETTINGS = ("api_key", "organization", "project", "base_url", "timeout", "max_retries",
            "default_headers", "default_query")
RESOURCES = frozenset(("chat", "completions", "embeddings", "models", "moderations",
                       "responses", "with_options", "with_raw_response",
                       "with_streaming_response"))

_lock = threading.Lock()
_client: Optional[Client] = None
_built_from: Optional[tuple[Any, ...]] = None


def default_client() -> Client:
    """The module's Client for the package's current settings (built when they change)."""
    global _client, _built_from
    package = sys.modules[__package__]  # the settings are attributes of the chatmini package
    settings = tuple(getattr(package, name, None) for name in SETTINGS)
    with _lock:
        if _client is None or settings != _built_from:
            given = {name: value for name, value in zip(SETTINGS, settings) if value is not None}
            _client, _built_from = Client(**given), settings
        return _client


def resource(name: str) -> Any:
    """``chatmini.<name>``: that attribute of the default client (``chat``, ``embeddings``...)."""
    return getattr(default_client(), name)
