"""What every ``client.<resource>`` has: its Client, and openai-python's raw-response views."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import InvalidRequestError
from ..raw_responses import RAW, STREAMED, ResponseView

if TYPE_CHECKING:
    from ..client import Client


class APIResource:
    """Base of every resource: ``with_raw_response.<method>(...)`` answers with the HTTP
    response (headers, status, ``.parse()``), ``with_streaming_response.<method>(...)`` with a
    context manager around it. Methods pass their keyword arguments to ``Client.request``,
    which takes out the per-call options (``extra_body``, ``timeout``, ...)."""

    def __init__(self, client: Client) -> None:
        self._client = client

    @property
    def with_raw_response(self) -> ResponseView:
        return ResponseView(self, RAW)

    @property
    def with_streaming_response(self) -> ResponseView:
        return ResponseView(self, STREAMED)


def check_model(model: Any) -> str:
    """The ``model`` argument, which must be a non-empty string."""
    if not isinstance(model, str) or not model:
        raise InvalidRequestError(f"model must be a non-empty string, not {model!r}")
    return model
