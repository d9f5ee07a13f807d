"""The transport: one pooled requests.Session per Client, and the built-in ``transport`` plugin.

``session`` builds and closes the Session (TCP keepalive on) and resolves its settings once;
``adapter`` is the HTTPAdapter it mounts (requests' own less per-call work), ``connection``
what its pools connect with (1xx skipped, reads bounded by deadlines, one write; a plain
response head read in one go by ``heads``); ``send`` is
the plugin that sends each attempt through the mounted adapter; ``body`` reads a non-stream
body bounded in size and time; ``failures`` turns requests/urllib3 exceptions into chatmini
errors.
"""

from .body import read_body
from .failures import translate_exception
from .send import HTTPTransport
from .session import (
    DEFAULT_POOL_MAXSIZE,
    build_session,
    close_session,
    environment_settings,
    pooled_session,
)

__all__ = [
    "DEFAULT_POOL_MAXSIZE",
    "HTTPTransport",
    "build_session",
    "close_session",
    "environment_settings",
    "pooled_session",
    "read_body",
    "translate_exception",
]
