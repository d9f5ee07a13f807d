"""The built-in ``logging`` plugin: one INFO record per call on the ``chatmini`` logger, DEBUG
records per attempt with credentials redacted, and bodies (scrubbed) only when asked for.

``CHATMINI_LOG=debug`` (or ``info``) sends the ``chatmini`` logger to stderr for quick
debugging; ``CHATMINI_LOG_BODY=1`` or ``plugin.bodies = True`` adds request and response bodies.
The INFO record is written from ``chatmini_timing``, so it needs a timing plugin: with the
built-in ``timing`` blocked and INFO records wanted, a warning at client creation says so.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import warnings
from typing import TYPE_CHECKING, Any, Mapping, Optional
from urllib.parse import urlsplit

from chatmini.hookspecs import hookimpl
from chatmini.plugins.timing import warn_unless_declared
from chatmini.redaction import redact_headers, redact_url, scrub_text

if TYPE_CHECKING:
    import requests

    from chatmini.client import Client
    from chatmini.errors import ChatminiError
    from chatmini.plugins.timing import Timing
    from chatmini.request import Request

logger = logging.getLogger("chatmini")
LOG_ENV = "CHATMINI_LOG"
BODY_ENV = "CHATMINI_LOG_BODY"
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
          "error": logging.ERROR}
FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"
BODY_LIMIT = 4000
_env_lock = threading.Lock()


def _shown_headers(headers: Mapping[str, str], request: Request) -> dict[str, str]:
    """Response headers fit for a log: credential headers redacted, and any secret the server
    echoed in another header (a key, a token, a credential parameter) scrubbed as in bodies."""
    secrets = request.secrets()
    return {name: scrub_text(value, secrets)
            for name, value in redact_headers(headers, request.credential_header).items()}


class CallLog:
    """Logs each call (INFO) and each attempt (DEBUG); ``bodies`` adds the scrubbed bodies."""

    def __init__(self, bodies: Optional[bool] = None) -> None:
        configure_from_env()
        self.bodies = os.environ.get(BODY_ENV, "") not in ("", "0") if bodies is None else bodies

    @hookimpl
    def chatmini_client_init(self, client: Client) -> None:
        if logger.isEnabledFor(logging.INFO):
            warn_unless_declared(client, "'logging' plugin (its INFO line per call)")

    @hookimpl
    def chatmini_after_attempt(
        self,
        request: Request,
        response: Optional[requests.Response],
        error: Optional[ChatminiError],
    ) -> None:
        if not logger.isEnabledFor(logging.DEBUG):
            return
        target = f"{request.method} {redact_url(request.url)} (attempt {request.attempt})"
        if response is not None:
            logger.debug("received HTTP %s for %s headers=%r", response.status_code, target,
                         _shown_headers(response.headers, request))
        else:
            shown = scrub_text(str(error), request.secrets())
            logger.debug("no response for %s: %s", target, shown)
        if self.bodies:
            self._log_bodies(request, response, target)

    def _log_bodies(
        self, request: Request, response: Optional[requests.Response], target: str
    ) -> None:
        body = request.body
        if isinstance(body, bytes) and body:
            logger.debug("request body of %s: %s", target, _shown(body, request))
        elif body is not None and not isinstance(body, bytes):  # an upload: never its data
            logger.debug("request body of %s: streamed (%s)", target, body.describe())
        if response is not None and (not request.stream or response.status_code >= 300):
            try:
                content = response.content
            except Exception:  # nothing readable: nothing to log
                return
            logger.debug("response body of %s: %s", target, _shown(content, request))

    @hookimpl(optionalhook=True)
    def chatmini_timing(self, request: Request, timing: Timing) -> None:
        if not logger.isEnabledFor(logging.INFO):
            return
        path = urlsplit(request.url).path
        status = timing.status if timing.status is not None else "-"
        ms = (timing.duration or 0.0) * 1000
        parts = [f"{request.method} {path} {status}"]
        if timing.error is not None:
            parts.append(timing.error)
        parts.append(f"{ms:.1f} ms retries={timing.retries}")
        if timing.ttft is not None:
            parts.append(f"ttft={timing.ttft * 1000:.1f} ms")
        if timing.time_to_first_content is not None:  # after any reasoning
            parts.append(f"ttfc={timing.time_to_first_content * 1000:.1f} ms")
        labels = timing.labels
        parts.extend(f"{name}={value}" for name, value in labels.items())
        parts.append(f"request_id={timing.request_id or '-'}")
        fields: dict[str, Any] = {
            "http_method": request.method, "http_path": path, "http_status": timing.status,
            "duration_ms": ms, "retries": timing.retries, "request_id": timing.request_id,
            "labels": dict(labels), "chatmini_timing": timing,
        }
        logger.info("%s", " ".join(parts), extra=fields)


def _shown(body: bytes, request: Request) -> str:
    text = scrub_text(body.decode("utf-8", "replace"), request.secrets())  # before the cut
    if len(text) > BODY_LIMIT:
        text = text[:BODY_LIMIT] + f"... ({len(body)} bytes)"
    return text


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A handler writing to whatever ``sys.stderr`` is when a record arrives."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass  # always the current sys.stderr


def configure_from_env() -> Optional[int]:
    """Apply CHATMINI_LOG (debug, info, warning, error): one stderr handler on the ``chatmini``
    logger at that level, added once per process. Returns the level set, or None."""
    value = os.environ.get(LOG_ENV, "").strip().lower()
    if not value:
        return None
    level = LEVELS.get(value)
    if level is None:
        warnings.warn(f"{LOG_ENV}={value!r} ignored: use one of {', '.join(LEVELS)}",
                      stacklevel=2)
        return None
    with _env_lock:
        if not any(isinstance(h, StderrHandler) for h in logger.handlers):
            handler = StderrHandler()
            handler.setFormatter(logging.Formatter(FORMAT))
            logger.addHandler(handler)
        logger.setLevel(level)
    return level
