"""The worker threads behind ``chatmini.batch``: inputs pulled lazily under a lock, results
handed to one consumer through a mailbox, a bounded look-ahead, and a Ctrl-C that loses nothing."""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from typing import Any, Callable, Iterable, Iterator, Optional, Sized

Progress = Callable[[int, Optional[int], int], None]
_EXIT = object()  # tags a worker's last message


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a batch. ``results`` maps input index to each result not yet handed out
    (for ``batch``: every finished one); ``pulled`` counts inputs taken from the iterable."""

    def __init__(self, results: dict[int, Any], pulled: int) -> None:
        super().__init__(f"batch interrupted: {len(results)} results kept, {pulled} inputs taken")
        self.results = results
        self.pulled = pulled


class Mailbox:
    """Results from the workers. The consumer reads the head before removing it, so a Ctrl-C
    arriving between the two cannot lose a result (``SimpleQueue.get`` can: the signal is
    raised just after the call returned its item). Wake-ups travel as tokens in a SimpleQueue
    (C code, cheap under contention); a token may outlive its item, never the reverse."""

    def __init__(self) -> None:
        self._items: deque[Any] = deque()
        self._tokens: queue.SimpleQueue[None] = queue.SimpleQueue()

    def put(self, item: Any, wake: bool = True) -> None:
        self._items.append(item)
        if wake:
            self._tokens.put(None)

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Block until a result is there (True) or ``timeout`` seconds passed (False)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._items:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            try:
                self._tokens.get(timeout=left)
            except queue.Empty:
                return False
        return True

    def head(self) -> Any:
        """The oldest result, left in place (see ``drop_head``)."""
        return self._items[0]

    def drop_head(self) -> None:
        """Remove the oldest result, once the consumer has it."""
        self._items.popleft()


class BatchRun:
    """Workers pull inputs lazily (under a lock) and queue results; permits cap the inputs taken
    but not yet handed to the consumer, so a lazy iterable is never materialised."""

    def __init__(
        self,
        inputs: Iterable[Any],
        call: Callable[[Any], Any],
        workers: int,
        fail_fast: bool,
        progress: Optional[Progress],
        interrupt_timeout: float,
        collect_only: bool = False,
    ) -> None:
        self.total: Optional[int] = len(inputs) if isinstance(inputs, Sized) else None
        self.pulled = 0
        self._source = iter(inputs)
        self._source_lock = threading.Lock()
        # Look-ahead permits, unless the caller keeps every result anyway and needs none of
        # them before the end (``collect_only``): then results do not even wake the consumer.
        self._wake_each = not collect_only
        self._slots: queue.SimpleQueue[None] = queue.SimpleQueue()
        for _ in range(2 * workers if self._wake_each else 0):
            self._slots.put(None)
        self._results = Mailbox()
        self._stop = threading.Event()
        self._call = call
        self._workers = workers
        self._running: set[int] = set()  # workers that began (before taking any input)
        self._exited: set[int] = set()  # workers that said goodbye
        self._fail_fast = fail_fast
        self._progress = progress
        self._interrupt_timeout = interrupt_timeout
        self._unyielded: Optional[tuple[Any, Any]] = None
        self._started = 0

    def _start_workers(self) -> None:
        while self._started < self._workers:
            n = self._started
            threading.Thread(
                target=self._work, args=(n,), name=f"chatmini-batch-{n}", daemon=True
            ).start()
            self._started += 1

    def _work(self, number: int) -> None:
        self._running.add(number)
        try:
            while True:
                if self._wake_each:
                    self._slots.get()
                with self._source_lock:
                    if self._stop.is_set():
                        return
                    try:
                        index, item = self.pulled, next(self._source)
                    except StopIteration:
                        return
                    except Exception as exc:  # the caller's iterable failed: stop and report it
                        self._stop.set()
                        self._results.put((None, exc))
                        return
                    self.pulled += 1
                try:
                    outcome = self._call(item)
                except Exception as exc:
                    outcome = exc
                self._results.put((index, outcome), wake=self._wake_each)
        finally:
            self._results.put((_EXIT, number))

    def stop(self) -> None:
        """Take no more inputs; wake workers waiting for a slot so they can exit."""
        if not self._stop.is_set():
            self._stop.set()
            for _ in range(self._workers):
                self._slots.put(None)

    def results(self) -> Iterator[tuple[int, Any]]:
        """(index, result) as calls finish; Ctrl-C while waiting raises BatchInterrupted."""
        done = errors = 0
        try:
            self._start_workers()  # here, so a Ctrl-C while starting still stops them
            while len(self._exited) < self._workers:
                self._results.wait()
                self._unyielded = self._results.head()
                self._results.drop_head()
                index, outcome = self._unyielded
                if index is _EXIT:
                    self._exited.add(outcome)
                    self._unyielded = None
                    continue
                if index is None:
                    self._unyielded = None
                    raise outcome
                self._slots.put(None)
                done += 1
                if isinstance(outcome, Exception):
                    errors += 1
                    if self._fail_fast:
                        raise outcome
                if self._progress is not None:
                    self._progress(done, self.total, errors)
                try:
                    yield index, outcome
                except BaseException:  # thrown in by the caller, who holds this result
                    self._unyielded = None
                    raise
                self._unyielded = None
        except KeyboardInterrupt:
            raise self.interrupted() from None
        finally:
            self.stop()

    def interrupted(self) -> BatchInterrupted:
        """Stop, keep what finishes within the interrupt timeout, abandon the rest."""
        self.stop()
        kept: dict[int, Any] = {}
        if self._unyielded is not None:  # it may also still be in the mailbox: kept once
            self._absorb(self._unyielded, kept)
            self._unyielded = None
        deadline = time.monotonic() + self._interrupt_timeout
        try:
            while len(self._exited) < len(self._running):
                left = deadline - time.monotonic()
                if left <= 0 or not self._results.wait(left):
                    break  # out of time: calls still running are abandoned
                self._absorb(self._results.head(), kept)
                self._results.drop_head()
        except KeyboardInterrupt:  # a second Ctrl-C: stop waiting at once
            pass
        return BatchInterrupted(kept, self.pulled)

    def _absorb(self, message: tuple[Any, Any], kept: dict[int, Any]) -> None:
        index, payload = message
        if index is _EXIT:
            self._exited.add(payload)
        elif index is not None:
            kept[index] = payload
