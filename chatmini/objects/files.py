"""Files and Batch API objects (``client.files``, ``client.batches``), openai-python's names."""

from __future__ import annotations

from .base import APIObject, APIResponseObject, known


class FileObject(APIResponseObject):
    """A ``file``."""

    __slots__ = ()
    _fields = known("id bytes created_at filename object purpose status expires_at status_details")


class FileDeleted(APIResponseObject):
    """The answer to a delete."""

    __slots__ = ()
    _fields = known("id deleted object")


class BatchRequestCounts(APIObject):
    __slots__ = ()
    _fields = known("completed failed total")


class BatchError(APIObject):
    __slots__ = ()
    _fields = known("code line message param")


class BatchErrors(APIObject):
    __slots__ = ()
    _fields = known("data object")
    _nested = {"data": BatchError}


class Batch(APIResponseObject):
    """A ``batch``: ``status`` is validating, in_progress, finalizing, completed, failed,
    expired, cancelling or cancelled."""

    __slots__ = ()
    _fields = known(
        "id completion_window created_at endpoint input_file_id object status cancelled_at "
        "cancelling_at completed_at error_file_id errors expired_at expires_at failed_at "
        "finalizing_at in_progress_at metadata model output_file_id request_counts usage"
    )
    _nested = {"request_counts": BatchRequestCounts, "errors": BatchErrors}
