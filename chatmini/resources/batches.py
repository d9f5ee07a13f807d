"""``client.batches``: OpenAI's Batch API (create from an uploaded file, retrieve, list, cancel),
which runs a file of requests server-side within 24 hours at half the price."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Optional

from ..errors import InvalidRequestError
from ..objects import Batch
from .pagination import CursorPage, Resource, path_id

Query = Optional[Mapping[str, Any]]

if TYPE_CHECKING:
    from ..timeouts import TimeoutLike as Timeout

TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})


class BatchPage(CursorPage[Batch]):
    """A page of ``client.batches.list()``."""

    __slots__ = ()
    item_type = Batch


class Batches(Resource):
    """``client.batches``."""

    def create(
        self, *, input_file_id: str, endpoint: str, completion_window: str = "24h",
        metadata: Optional[Mapping[str, str]] = None, timeout: Timeout = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Query = None, extra_body: Query = None, **params: Any,
    ) -> Batch:
        """Start a batch over an uploaded file (``purpose="batch"``) whose lines all call
        ``endpoint`` (e.g. ``/v1/chat/completions``); other keywords go into the body."""
        for name, value in (("input_file_id", input_file_id), ("endpoint", endpoint),
                            ("completion_window", completion_window)):
            if not isinstance(value, str) or not value:
                raise InvalidRequestError(f"{name} must be a non-empty string, not {value!r}")
        body: dict[str, Any] = {"input_file_id": input_file_id, "endpoint": endpoint,
                                "completion_window": completion_window}
        if metadata is not None:
            body["metadata"] = dict(metadata)
        body.update(params)
        return self._call("POST", "/batches", Batch, body, timeout=timeout,
                          extra_headers=extra_headers, extra_query=extra_query,
                          extra_body=extra_body)

    def retrieve(self, batch_id: str, *, timeout: Timeout = None,
                 extra_headers: Optional[Mapping[str, str]] = None,
                 extra_query: Query = None, extra_body: Query = None) -> Batch:
        """The batch as it is now (poll it until ``status`` is terminal)."""
        return self._call("GET", f"/batches/{path_id(batch_id, 'batch_id')}", Batch,
                          timeout=timeout, extra_headers=extra_headers, extra_query=extra_query,
                          extra_body=extra_body)

    def list(
        self, *, after: Optional[str] = None, limit: Optional[int] = None,
        timeout: Timeout = None, extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Query = None, extra_body: Query = None,
    ) -> BatchPage:
        """The first page of batches, newest first; iterate it for every batch."""
        return self._list("/batches", BatchPage, {"after": after, "limit": limit},
                          timeout=timeout, extra_headers=extra_headers, extra_query=extra_query,
                          extra_body=extra_body)

    def cancel(self, batch_id: str, *, timeout: Timeout = None,
               extra_headers: Optional[Mapping[str, str]] = None,
               extra_query: Query = None, extra_body: Query = None) -> Batch:
        """Ask the server to stop the batch (``cancelling``, then ``cancelled``); what finished
        stays in its output file."""
        return self._call("POST", f"/batches/{path_id(batch_id, 'batch_id')}/cancel", Batch,
                          {}, timeout=timeout, extra_headers=extra_headers, extra_query=extra_query,
                          extra_body=extra_body)
