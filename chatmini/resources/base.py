"""What every ``client.<resource>`` has: its Client, and openai-python's raw-response views."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import InvalidRequestError
from ..raw_responses import RawResponseViews

if TYPE_CHECKING:
    from ..client import Client


class APIResource(RawResponseViews):
    """Base of every resource: it keeps the Client, and has ``with_raw_response`` and
    ``with_streaming_response``. Methods pass their keyword arguments to ``Client.request``,
    which takes out the per-call options (``extra_body``, ``timeout``, ...)."""

    def __init__(self, client: Client) -> None:
        self._client = client


def check_model(model: Any) -> str:
    """The ``model`` argument, which must be a non-empty string."""
    if not isinstance(model, str) or not model:
        raise InvalidRequestError(f"model must be a non-empty string, not {model!r}")
    return model
