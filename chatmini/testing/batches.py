"""The test server's ``/v1/batches``: batches that move through OpenAI's states on a background
thread at a speed tests choose, running each line through the server's own answers.

``validating`` (the input is checked; bad lines make the batch ``failed``), ``in_progress`` (one
line per step, ``rate`` lines a second or as fast as possible), ``finalizing`` (the output and
error files are written), ``completed``; ``cancel`` goes through ``cancelling`` to
``cancelled``, and a batch still running when its ``window`` ends is ``expired``. What ran
stays in the output and error files; what never ran gets ``batch_cancelled`` or
``batch_expired`` lines. ``server.batches.configure(rate=..., validating=..., finalizing=...,
window=...)`` sets the pace; ``server.batches.wait(batch_id, "completed")`` waits for a state
and ``history(batch_id)`` lists the states a batch went through.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Optional

from . import batch_lines as script
from .batch_lines import CANCELLED, ENDPOINTS, EXPIRED, Take
from .filestore import FileStore, error_payload

RUNNING = ("validating", "in_progress", "finalizing", "cancelling")
ENDED = ("completed", "failed", "expired", "cancelled")
WINDOWS = {"24h": 86400.0}


class _Batch:
    """One batch: its object as the API shows it, and where the engine is in it."""

    def __init__(self, data: dict[str, Any], input_path: str, deadline: float) -> None:
        self.data = data
        self.input_path = input_path
        self.deadline = deadline
        self.due: Optional[float] = time.monotonic()
        self.requests: list[dict[str, Any]] = []
        self.done = 0
        self.output: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.busy = False  # a line is being answered
        self.history = ["validating"]

    def when(self) -> Optional[float]:
        """When the engine next has something to do with this batch (None: nothing)."""
        if self.due is None or self.busy:
            return None
        if self.data["status"] in ("validating", "in_progress"):
            return min(self.due, self.deadline)
        return self.due

    def set(self, status: str, now: float, *, due: Optional[float] = None) -> None:
        self.history.append(status)
        self.data["status"] = status
        self.data[f"{status}_at"] = int(time.time())
        self.due = due if due is not None else (now if status in RUNNING else None)


class BatchEngine:
    """Batches of one test server, run on one daemon thread started by the first batch."""

    def __init__(self, files: FileStore, take: Take) -> None:
        self.files = files
        self._take = take
        self.rate: Optional[float] = None
        self.validating = 0.0
        self.finalizing = 0.0
        self.window: Optional[float] = None
        self._batches: dict[str, _Batch] = {}
        self._cond = threading.Condition()
        self._thread: Optional[threading.Thread] = None
        self._stopping = False

    def configure(self, *, rate: Optional[float] = None, validating: float = 0.0,
                  finalizing: float = 0.0, window: Optional[float] = None) -> BatchEngine:
        """``rate`` lines a second (None: as fast as possible); seconds spent ``validating``
        and ``finalizing`` (or cancelling); ``window``: seconds a batch may run before it
        expires (None: its ``completion_window``, 24 hours)."""
        with self._cond:
            self.rate, self.validating, self.finalizing = rate, validating, finalizing
            self.window = window
            self._cond.notify_all()
        return self

    # -- the API -----------------------------------------------------------------------------

    def create(self, body: Any) -> tuple[int, dict[str, Any]]:
        """(status, payload) for ``POST /v1/batches``."""
        if not isinstance(body, dict):
            return 400, error_payload("We could not parse the JSON body of your request.")
        input_id, endpoint = body.get("input_file_id"), body.get("endpoint")
        window = body.get("completion_window")
        metadata = body.get("metadata")
        file = self.files.get(input_id) if isinstance(input_id, str) else None
        problem = (
            "Missing required parameter: 'input_file_id'." if not isinstance(input_id, str)
            else f"No such file: {input_id}" if file is None
            else f"File {input_id} has purpose {file['purpose']!r}, not 'batch'."
            if file["purpose"] != "batch"
            else f"Invalid value for 'endpoint': {endpoint!r}; supported: {list(ENDPOINTS)}."
            if endpoint not in ENDPOINTS
            else f"Invalid value for 'completion_window': {window!r}; supported: '24h'."
            if window not in WINDOWS
            else "metadata must be an object of up to 16 string values."
            if metadata is not None and not _metadata_ok(metadata) else None
        )
        if problem is not None:
            return (404 if file is None and isinstance(input_id, str) else 400,
                    error_payload(problem))
        assert isinstance(input_id, str) and isinstance(window, str)
        created = int(time.time())
        data = {
            "id": script.new_id("batch_"), "object": "batch", "endpoint": endpoint,
            "errors": None,
            "input_file_id": input_id, "completion_window": window, "status": "validating",
            "output_file_id": None, "error_file_id": None, "created_at": created,
            "in_progress_at": None, "expires_at": created + int(WINDOWS[window]),
            "finalizing_at": None, "completed_at": None, "failed_at": None, "expired_at": None,
            "cancelling_at": None, "cancelled_at": None, "model": None,
            "request_counts": {"total": 0, "completed": 0, "failed": 0}, "usage": _usage(0, 0),
            "metadata": metadata,
        }
        path = self.files.path(input_id)
        assert path is not None
        with self._cond:
            window_seconds = self.window if self.window is not None else WINDOWS[window]
            batch = _Batch(data, path, time.monotonic() + window_seconds)
            batch.due = time.monotonic() + self.validating
            self._batches[batch.data["id"]] = batch
            self._start()
            self._cond.notify_all()
            return 200, _copy(data)

    def retrieve(self, batch_id: str) -> Optional[dict[str, Any]]:
        """The batch object, or None."""
        with self._cond:
            batch = self._batches.get(batch_id)
            return None if batch is None else _copy(batch.data)

    def objects(self) -> list[dict[str, Any]]:
        """Every batch object, newest first."""
        with self._cond:
            return [_copy(b.data) for b in reversed(self._batches.values())]

    def cancel(self, batch_id: str) -> tuple[int, dict[str, Any]]:
        """(status, payload) for ``POST /v1/batches/{id}/cancel``."""
        with self._cond:
            batch = self._batches.get(batch_id)
            if batch is None:
                return 404, error_payload(f"No batch found with id '{batch_id}'.")
            status = batch.data["status"]
            if status not in ("validating", "in_progress", "finalizing"):
                return 400, error_payload(f"Cannot cancel a batch with status '{status}'.")
            now = time.monotonic()
            batch.set("cancelling", now, due=now + self.finalizing)
            self._cond.notify_all()
            return 200, _copy(batch.data)

    def wait(self, batch_id: str, *statuses: str, timeout: float = 10.0) -> dict[str, Any]:
        """Wait until the batch has been in one of ``statuses`` (however briefly); its object
        now (TimeoutError if that does not happen within ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                batch = self._batches[batch_id]
                if any(status in statuses for status in batch.history):
                    return _copy(batch.data)
                left = deadline - time.monotonic()
                if left <= 0 or batch.data["status"] in ENDED:
                    raise TimeoutError(f"{batch_id} is {batch.data['status']}, not {statuses}")
                self._cond.wait(left)

    def history(self, batch_id: str) -> list[str]:
        """Every status the batch has been in, in order."""
        with self._cond:
            return list(self._batches[batch_id].history)

    # -- the engine --------------------------------------------------------------------------

    def _start(self) -> None:
        if self._thread is None:
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="chatmini-batches",
                                            daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopping:
                    return
                now = time.monotonic()
                times = [(b.when(), n, b) for n, b in enumerate(self._batches.values())]
                due = min(((t, n, b) for t, n, b in times if t is not None), default=None)
                if due is None or due[0] > now:
                    self._cond.wait(None if due is None else due[0] - now)
                    continue
                batch = due[2]
                line = self._step(batch, now)
                self._cond.notify_all()
            if line is not None:  # answered outside the lock: retrieve() is never held up
                self._answer(batch, line)

    def _step(self, batch: _Batch, now: float) -> Optional[dict[str, Any]]:
        """Move ``batch`` on one step; a request line to answer, if the step is one."""
        data, status = batch.data, batch.data["status"]
        if now >= batch.deadline and status in ("validating", "in_progress"):
            self._finish(batch, "expired", EXPIRED, now)
        elif status == "validating":
            batch.requests, errors = script.check_input(batch.input_path, data["endpoint"])
            if errors:
                data["errors"] = {"object": "list", "data": errors}
                batch.set("failed", now)
            else:
                data["request_counts"]["total"] = len(batch.requests)
                data["model"] = batch.requests[0]["body"]["model"]
                batch.set("in_progress", now)
        elif status == "in_progress" and batch.done < len(batch.requests):
            batch.done += 1
            batch.busy = True
            return batch.requests[batch.done - 1]
        elif status == "in_progress":
            batch.set("finalizing", now, due=now + self.finalizing)
        elif status == "finalizing":
            self._finish(batch, "completed", None, now)
        elif status == "cancelling":
            self._finish(batch, "cancelled", CANCELLED, now)
        return None

    def _answer(self, batch: _Batch, line: dict[str, Any]) -> None:
        status, request_id, body = script.answer(self._take, line["url"], line["body"])
        record = script.output_line(line["custom_id"], status, request_id, body)
        with self._cond:
            batch.busy = False
            counts = batch.data["request_counts"]
            if status < 300:
                batch.output.append(record)
                counts["completed"] += 1
            else:
                batch.errors.append(record)
                counts["failed"] += 1
            tokens_in, tokens_out = script.usage_of(body)
            usage = batch.data["usage"]
            batch.data["usage"] = _usage(usage["input_tokens"] + tokens_in,
                                         usage["output_tokens"] + tokens_out)
            if batch.data["status"] == "in_progress":
                pause = 1.0 / self.rate if self.rate else 0.0
                batch.due = time.monotonic() + pause
            self._cond.notify_all()

    def _finish(self, batch: _Batch, status: str, unrun: Optional[tuple[str, str]],
                now: float) -> None:
        """Write the output and error files and end the batch in ``status``."""
        errors = list(batch.errors)
        if unrun is not None:
            errors += [script.not_run_line(r["custom_id"], unrun)
                       for r in batch.requests[batch.done:]]
        for lines, key, suffix in ((batch.output, "output_file_id", "output"),
                                   (errors, "error_file_id", "error")):
            content = script.jsonl(lines)
            if content is not None:
                name = f"{batch.data['id']}_{suffix}.jsonl"
                batch.data[key] = self.files.add(content, name, "batch_output")["id"]
        batch.done = len(batch.requests)
        batch.set(status, now)

    def stop(self) -> None:
        """Stop the engine's thread (batches stay as they are)."""
        with self._cond:
            self._stopping = True
            thread, self._thread = self._thread, None
            self._cond.notify_all()
        if thread is not None:
            thread.join(timeout=2)

    def reset(self) -> None:
        """Forget every batch."""
        with self._cond:
            self._batches.clear()


def _usage(tokens_in: int, tokens_out: int) -> dict[str, Any]:
    return {"input_tokens": tokens_in, "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": tokens_out, "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": tokens_in + tokens_out}


def _metadata_ok(metadata: Any) -> bool:
    return isinstance(metadata, dict) and len(metadata) <= 16 and all(
        isinstance(k, str) and len(k) <= 64 and isinstance(v, str) and len(v) <= 512
        for k, v in metadata.items())


def _copy(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
