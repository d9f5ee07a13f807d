"""Many calls from blocking code: N worker threads sharing one Client, results in input order
(``batch``) or as they finish (``batch_iter``), with bounded memory and a clean Ctrl-C."""

from __future__ import annotations

import queue
import threading
import time
import warnings
from collections import deque
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, Union

from .client import Client
from .errors import InvalidRequestError
from .objects import ChatCompletion
from .progress import ProgressBar
from .shortcuts import default_model

Result = Union[ChatCompletion, Exception]  # or what a custom ``call`` returns
Progress = Callable[[int, Optional[int], int], None]
Call = Callable[[Client, Any], Any]
DEFAULT_WORKERS = 16
INTERRUPT_TIMEOUT = 10.0
_EXIT = object()  # a worker's last message


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a batch. ``results`` maps input index to each result not yet handed out
    (for ``batch``: every finished one); ``pulled`` counts inputs taken from the iterable."""

    def __init__(self, results: dict[int, Result], pulled: int) -> None:
        super().__init__(f"batch interrupted: {len(results)} results kept, {pulled} inputs taken")
        self.results = results
        self.pulled = pulled


class PoolSizeWarning(UserWarning):
    """More workers than pooled connections: the extra ones open and drop connections."""


def as_request(item: Any, model: Optional[str] = None) -> dict[str, Any]:
    """``chat.completions.create`` arguments for a prompt string or a dict of arguments."""
    if isinstance(item, str):
        return {"model": model or default_model(), "messages": [{"role": "user", "content": item}]}
    if isinstance(item, Mapping):
        kwargs = dict(item)
        kwargs.setdefault("model", model or default_model())
        return kwargs
    raise InvalidRequestError(
        f"batch inputs must be prompt strings or dicts of create() arguments, "
        f"not {type(item).__name__}"
    )


def complete(client: Client, item: Any, model: Optional[str] = None) -> ChatCompletion:
    """The default call: one chat completion (a ``stream=True`` input is read to the end)."""
    kwargs = as_request(item, model)
    if kwargs.get("stream"):
        with client.chat.completions.create(**kwargs) as stream:
            return stream.get_final_completion()
    return client.chat.completions.create(**kwargs)


class _Mailbox:
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
        return self._items[0]

    def drop_head(self) -> None:
        self._items.popleft()


class _Run:
    """Workers pull inputs lazily (under a lock) and queue results; permits cap the inputs taken
    but not yet handed to the consumer, so a lazy iterable is never materialised."""

    def __init__(
        self,
        client: Client,
        inputs: Iterable[Any],
        call: Callable[[Any], Any],
        workers: int,
        fail_fast: bool,
        progress: Optional[Progress],
        interrupt_timeout: float,
        collect_only: bool = False,
    ) -> None:
        self.client = client
        self.total: Optional[int] = len(inputs) if hasattr(inputs, "__len__") else None
        self.pulled = 0
        self._source = iter(inputs)
        self._source_lock = threading.Lock()
        # Look-ahead permits, unless the caller keeps every result anyway and needs none of
        # them before the end (``collect_only``): then results do not even wake the consumer.
        self._wake_each = not collect_only
        self._slots: queue.SimpleQueue[None] = queue.SimpleQueue()
        for _ in range(2 * workers if self._wake_each else 0):
            self._slots.put(None)
        self._results = _Mailbox()
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

    def results(self) -> Iterator[tuple[int, Result]]:
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
        kept: dict[int, Result] = {}
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

    def _absorb(self, message: tuple[Any, Any], kept: dict[int, Result]) -> None:
        index, payload = message
        if index is _EXIT:
            self._exited.add(payload)
        elif index is not None:
            kept[index] = payload


def _start(
    client: Optional[Client],
    inputs: Iterable[Any],
    *,
    workers: int,
    fail_fast: bool,
    progress: Union[Progress, bool, None],
    model: Optional[str],
    call: Optional[Call],
    interrupt_timeout: float,
    collect_only: bool = False,
) -> tuple[_Run, Callable[[], None]]:
    """Check the settings, make a Client if none was given, start the workers."""
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise InvalidRequestError(f"workers must be an integer >= 1, not {workers!r}")
    own = client is None
    if client is None:
        client = Client(pool_maxsize=workers)
    elif client.pool_maxsize < workers:
        warnings.warn(
            f"{workers} workers share a Client with pool_maxsize={client.pool_maxsize}: the "
            f"extra workers open and discard connections; use Client(pool_maxsize={workers})",
            PoolSizeWarning,
            stacklevel=3,
        )
    bar = ProgressBar() if progress is True else None
    callback = bar if bar is not None else (progress or None)
    used = client

    def run_one(item: Any) -> Any:
        return call(used, item) if call is not None else complete(used, item, model)

    run = _Run(
        used, inputs, run_one, workers, fail_fast, callback, interrupt_timeout, collect_only
    )

    def finish() -> None:
        if bar is not None:
            bar.close()
        if own:
            used.close()

    return run, finish


def batch_iter(
    client: Optional[Client],
    inputs: Iterable[Any],
    *,
    workers: int = DEFAULT_WORKERS,
    fail_fast: bool = False,
    progress: Union[Progress, bool, None] = None,
    model: Optional[str] = None,
    call: Optional[Call] = None,
    interrupt_timeout: float = INTERRUPT_TIMEOUT,
) -> Iterator[tuple[int, Result]]:
    """Yield ``(input index, result)`` as calls finish; at most ~3×workers inputs are held.

    Arguments are those of ``batch``. Leaving the loop early stops the workers (calls in flight
    finish in the background); Ctrl-C raises BatchInterrupted with the finished results.
    """
    run, finish = _start(
        client, inputs, workers=workers, fail_fast=fail_fast, progress=progress, model=model,
        call=call, interrupt_timeout=interrupt_timeout,
    )
    try:
        yield from run.results()
    finally:
        finish()


def batch(
    client: Optional[Client],
    inputs: Iterable[Any],
    *,
    workers: int = DEFAULT_WORKERS,
    fail_fast: bool = False,
    progress: Union[Progress, bool, None] = None,
    model: Optional[str] = None,
    call: Optional[Call] = None,
    interrupt_timeout: float = INTERRUPT_TIMEOUT,
) -> list[Result]:
    """Run every input on ``workers`` threads sharing ``client``; results in input order.

    Inputs are prompt strings or dicts of ``chat.completions.create`` arguments (``model``
    defaults to ``model=`` then CHATMINI_MODEL). Each result is a ChatCompletion or the
    exception its call ended with; ``fail_fast=True`` raises the first one instead.
    ``progress`` is a ``(done, total, errors)`` callback, or True for a stderr bar on a TTY.
    ``call(client, item)`` replaces the chat call. ``client=None`` makes one from the
    environment with a pool of ``workers`` connections. On Ctrl-C no new call starts, calls in
    flight get ``interrupt_timeout`` seconds, and BatchInterrupted carries the results.
    """
    run, finish = _start(
        client, inputs, workers=workers, fail_fast=fail_fast, progress=progress, model=model,
        call=call, interrupt_timeout=interrupt_timeout,
        collect_only=not progress and not fail_fast,
    )
    out: dict[int, Result] = {}
    try:
        for index, outcome in run.results():
            out[index] = outcome
    except BatchInterrupted as exc:
        exc.results = {**out, **exc.results}
        raise
    except KeyboardInterrupt:  # landed between two results, outside the generator
        interrupted = run.interrupted()
        interrupted.results = {**out, **interrupted.results}
        raise interrupted from None
    finally:
        finish()
    return [out[i] for i in range(len(out))]
