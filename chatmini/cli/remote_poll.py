"""Waiting for Batch API batches and collecting what they produced: status checks at a growing
interval, one progress line on a TTY (status, completed/failed/total, elapsed) or one line per
change elsewhere, then the output and error files appended to the results file as result lines
of the local run's shape."""

from __future__ import annotations

import json
import sys
import time
from typing import IO, TYPE_CHECKING, Any, Callable, Mapping, Optional, TextIO

from .report import report, stderr_line
from .results import Summary, append

if TYPE_CHECKING:
    from ..client import Client
    from ..resources import Batch

MAX_INTERVAL = 60.0
GROWTH = 1.5
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})


class Poller:
    """Checks batches until each is terminal, handing each finished one to ``finished``."""

    def __init__(
        self, client: Client, interval: float, stream: Optional[TextIO] = None,
        clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        from ..batching.progress import is_tty

        self.client = client
        self.interval = interval
        self.stream = stream if stream is not None else sys.stderr
        self.tty = is_tty(self.stream)
        self._clock, self._sleep = clock, sleep
        self._start = clock()
        self._seen: dict[str, str] = {}
        self._drawn = False

    def wait(self, ids: list[str], finished: Callable[[Batch], None]) -> None:
        """Poll ``ids`` until every batch is terminal. A connection failure, 429 or 5xx (after
        the client's retries) is reported and polling goes on; other API errors are raised."""
        from ..errors import APIError

        pending, delay = list(ids), self.interval
        latest: dict[str, Batch] = {}
        try:
            while pending:
                for batch_id in list(pending):
                    batch = self._retrieve(batch_id)
                    if batch is None:
                        continue
                    if not isinstance(batch.status, str):
                        raise APIError(f"The server's batch {batch_id} has no status.")
                    latest[batch_id] = batch
                    self._show(latest)
                    if batch.status in TERMINAL:
                        self.end_line()
                        pending.remove(batch_id)
                        del latest[batch_id]
                        finished(batch)
                if pending:
                    self._sleep(delay)
                    delay = min(delay * GROWTH, max(MAX_INTERVAL, self.interval))
        finally:
            self.end_line()

    def _retrieve(self, batch_id: str) -> Optional[Batch]:
        from ..errors import APIConnectionError, InternalServerError, RateLimitError

        try:
            return self.client.batches.retrieve(batch_id)
        except (APIConnectionError, InternalServerError, RateLimitError) as exc:
            self.end_line()
            report(f"checking {batch_id} failed ({exc}); trying again", kind="warning")
            return None

    def _show(self, latest: Mapping[str, Batch]) -> None:
        from ..batching.progress import CLEAR_TO_END, clock_text

        counts = [_counts(b) for b in latest.values()]
        done, failed, total = (sum(c[i] for c in counts) for i in range(3))
        statuses = ", ".join(f"{b.id} {b.status}" for b in latest.values())
        text = (f"{statuses}: {done} completed, {failed} failed of {total}; "
                f"elapsed {clock_text(self._clock() - self._start)}")
        if self.tty:
            self.stream.write("\r" + text + CLEAR_TO_END)
            self.stream.flush()
            self._drawn = True
            return
        for batch in latest.values():
            if self._seen.get(batch.id) != batch.status:
                self._seen[batch.id] = batch.status
                stderr_line(f"{batch.id} {batch.status} ({_counts(batch)[2]} requests)")

    def end_line(self) -> None:
        """End the progress line, so what follows starts on a fresh one."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


def _counts(batch: Batch) -> tuple[int, int, int]:
    counts = batch.get("request_counts")
    if not hasattr(counts, "get"):
        return 0, 0, 0
    numbers = [counts.get(name) for name in ("completed", "failed", "total")]
    done, failed, total = (n if isinstance(n, int) else 0 for n in numbers)
    return done, failed, total


def collect(client: Client, batch: Batch, out: IO[str], ids: Mapping[str, int],
            summary: Summary) -> int:
    """Append a result line for each line of a finished batch's output and error files; the
    number written. A failed batch (its file refused) has none: its errors are reported."""
    from ..batching.files import remote_record

    written = unreadable = 0
    for file_id in (batch.output_file_id, batch.error_file_id):
        if not file_id:
            continue
        with client.files.content(file_id) as content:
            for text in content.iter_lines():
                record = remote_record(_json(text), ids) if text.strip() else None
                if record is None:
                    unreadable += bool(text.strip())
                    continue
                append(out, record, summary)
                written += 1
    if unreadable:
        report(f"{unreadable} unreadable line(s) in the files of {batch.id} ignored",
               kind="warning")
    listed = batch.errors.data if batch.errors is not None else None
    errors = [e for e in listed if hasattr(e, "get")] if isinstance(listed, list) else []
    for error in errors[:10]:
        where = f" (line {error.line} of its file)" if error.line else ""
        report(f"{batch.id} {batch.status}: {error.code}: {error.message}{where}")
    if len(errors) > 10:
        report(f"{batch.id}: and {len(errors) - 10} more error(s)")
    return written


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
