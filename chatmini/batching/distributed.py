"""A JSONL batch file run as tasks on a Dask ``distributed`` cluster (``run_on_dask``) or on Ray
(``run_on_ray``): the same input and results files as ``chatmini batch``, resumable the same way.

The driver (the calling process) reads the input lazily and sends chunks of jobs as tasks, at
most ``pending`` at a time. A task runs its chunk on threads with its worker process's Client,
built once per process by the caller's ``client_factory`` (give it a ``RedisRateLimiter``, and
every process shares one budget), and returns the result lines. The driver alone writes them,
each once, as tasks finish; a task whose worker dies is rerun by the engine (Dask's
``allowed-failures``, Ray's ``max_retries``), and its lines come back once. At the end the file
is rewritten in the input's order. Dask and Ray are imported only when these functions run.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional, Sequence, Union

from ..client import Client
from ..errors import InvalidRequestError
from .files import (
    SURROGATES_REPLACED,
    Job,
    Key,
    already_done,
    open_results,
    previous_results,
    read_jobs,
    result_line,
    write_lines,
)
from .merge import Merged
from .run import batch_iter, send_job

Path = Union[str, "os.PathLike[str]"]
ClientFactory = Callable[[], Client]
Lines = list[tuple[str, bool]]  # a task's result lines, with whether each succeeded


@dataclass
class RunSummary:
    """What a distributed run did (``sent``, ``skipped``, ``rejected``, ``tasks``) and what the
    results file holds at its end, counted over the input's ids (``ok``, ``failed``,
    ``missing``) and beyond them (``unexpected``: kept at the end of the file)."""

    sent: int = 0  # jobs sent in tasks by this run
    skipped: int = 0  # jobs an earlier run had done
    rejected: int = 0  # lines that could not be read: an error line each, nothing sent
    tasks: int = 0
    ok: int = 0
    failed: int = 0
    missing: int = 0
    unexpected: int = 0
    seconds: float = 0.0
    replaced: bool = False  # lone surrogates in an answer were written as U+FFFD (warned once)


# --- in each worker process -------------------------------------------------------------------

def factory_key(factory: ClientFactory) -> str:
    """What names a factory's Client in the workers: a digest of the factory as it travels
    (equal factories share a Client, however often they are unpickled)."""
    if not callable(factory):
        raise InvalidRequestError(f"client_factory must be a callable returning a "
                                  f"chatmini.Client, not {type(factory).__name__}")
    try:  # what Dask and Ray ship tasks with (Ray has its own copy)
        from cloudpickle import dumps
    except ImportError:
        try:
            from ray.cloudpickle import dumps
        except ImportError:
            raise InvalidRequestError("the distributed runner needs Dask or Ray: pip install "
                                      "'chatmini[dask]' or 'chatmini[ray]'") from None
    try:
        return hashlib.sha256(dumps(factory)).hexdigest()
    except Exception as exc:
        raise InvalidRequestError(f"client_factory cannot be sent to the workers: {exc}") from exc


_clients: dict[str, Client] = {}
_clients_pid = os.getpid()
_clients_lock = threading.Lock()


def worker_client(factory: ClientFactory, key: Optional[str] = None) -> Client:
    """This process's Client from ``factory``, built on its first use here and kept for the
    life of the process (a forked child builds its own). Call it inside your own tasks to
    share one Client per worker process; ``key`` (default ``factory_key(factory)``) names it."""
    global _clients_pid
    key = factory_key(factory) if key is None else key
    with _clients_lock:
        if _clients_pid != os.getpid():
            _clients.clear()
            _clients_pid = os.getpid()
        client = _clients.get(key)
        if client is None:
            client = factory()
            if not isinstance(client, Client):
                raise InvalidRequestError(f"client_factory must return a chatmini.Client, not "
                                          f"{type(client).__name__}")
            _clients[key] = client
        return client


def run_chunk(key: str, factory: ClientFactory, jobs: Sequence[Job], threads: int,
              model: Optional[str]) -> Lines:
    """A task: send ``jobs`` on ``threads`` threads with this process's Client; their result
    lines in the order of ``jobs``."""
    client = worker_client(factory, key)
    lines: list[Any] = [None] * len(jobs)
    runner = batch_iter(client, jobs, workers=min(threads, len(jobs)),
                        call=lambda used, job: send_job(used, job, model))
    for index, result in runner:
        lines[index] = result_line(jobs[index], result)
    return lines


# --- in the driver ----------------------------------------------------------------------------


class _DaskTasks:
    """Tasks on a ``dask.distributed.Client``, collected as they complete."""

    def __init__(self, dask: Any, options: dict[str, Any]) -> None:
        from distributed import as_completed

        for name in ("pure", "key"):
            if name in options:
                raise InvalidRequestError(f"{name}= cannot be set: every task is a new, "
                                          f"impure task sending requests")
        self._dask = dask
        self._options = options
        self._done = as_completed()

    def submit(self, *args: Any) -> Any:
        future = self._dask.submit(run_chunk, *args, pure=False, **self._options)
        self._done.add(future)
        return future

    def next_done(self, pending: Sequence[Any]) -> tuple[Any, Lines]:
        future = next(self._done)
        return future, future.result()

    def cancel(self, pending: Sequence[Any]) -> None:
        self._dask.cancel(list(pending))


class _RayTasks:
    """Ray tasks (``ray.init()`` first, or Ray starts a local instance), as they complete."""

    def __init__(self, options: dict[str, Any]) -> None:
        try:
            import ray
        except ImportError:
            raise InvalidRequestError("run_on_ray needs Ray: pip install 'chatmini[ray]'") from None
        self._ray = ray
        self._remote = ray.remote(**options)(run_chunk) if options else ray.remote(run_chunk)

    def submit(self, *args: Any) -> Any:
        return self._remote.remote(*args)

    def next_done(self, pending: Sequence[Any]) -> tuple[Any, Lines]:
        (ref,), _ = self._ray.wait(list(pending), num_returns=1)
        return ref, self._ray.get(ref)

    def cancel(self, pending: Sequence[Any]) -> None:
        for ref in pending:
            self._ray.cancel(ref)


def _check(chunk_size: int, threads: int, pending: int, input_path: Path,
           output_path: Path) -> None:
    for name, value in (("chunk_size", chunk_size), ("threads", threads), ("pending", pending)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InvalidRequestError(f"{name} must be an integer >= 1, not {value!r}")
    if os.path.abspath(input_path) == os.path.abspath(output_path):
        raise InvalidRequestError(f"input and output are the same file ({os.fspath(input_path)})")


def _drive(tasks: Any, input_path: Path, output_path: Path, factory: ClientFactory, *,
           chunk_size: int, threads: int, pending: int, retry_failed: bool,
           model: Optional[str]) -> RunSummary:
    """Send the jobs not done yet as tasks, write their lines as tasks finish, then rewrite the
    results file in input order."""
    started = time.monotonic()
    key = factory_key(factory)
    output = os.fspath(output_path)
    done: dict[Key, bool] = {}
    if os.path.exists(output):
        with open(output, encoding="utf-8") as old, _utf8(output):
            done, _ = previous_results(old)
    summary = RunSummary()
    order: list[Key] = []
    with open(input_path, encoding="utf-8") as source, _utf8(input_path), \
            open_results(output) as out:

        def write(lines: Lines) -> None:
            if write_lines(out, (line for line, _ in lines)) and not summary.replaced:
                warnings.warn(SURROGATES_REPLACED, UnicodeWarning, stacklevel=2)
                summary.replaced = True

        def chunks() -> Iterator[list[Job]]:
            chunk: list[Job] = []
            for job in read_jobs(source):
                order.append(job.key)
                if already_done(done, job.key, retry_failed):
                    summary.skipped += 1
                elif job.error is not None:
                    write([result_line(job, job.error)])
                    summary.rejected += 1
                else:
                    chunk.append(job)
                    if len(chunk) == chunk_size:
                        yield chunk
                        chunk = []
            if chunk:
                yield chunk

        in_flight: dict[Any, Sequence[Job]] = {}

        def collect() -> None:
            handle, lines = tasks.next_done(list(in_flight))
            summary.sent += len(in_flight.pop(handle))
            write(lines)

        try:
            for chunk in chunks():
                while len(in_flight) >= pending:
                    collect()
                in_flight[tasks.submit(key, factory, chunk, threads, model)] = chunk
                summary.tasks += 1
            while in_flight:
                collect()
        finally:
            if in_flight:  # a task failed for good, or Ctrl-C: the rest is for the next run
                tasks.cancel(list(in_flight))
    merged = Merged()
    merged.add_file(output)
    final = merged.write(order, output, keep_unexpected=True)
    summary.ok, summary.failed = final.written - final.failed, final.failed
    summary.missing, summary.unexpected = len(final.missing), len(final.unexpected)
    summary.seconds = time.monotonic() - started
    return summary


@contextlib.contextmanager
def _utf8(path: Path) -> Iterator[None]:
    """Turn a decoding error while reading ``path`` into one naming the file."""
    try:
        yield
    except UnicodeDecodeError as exc:
        raise InvalidRequestError(f"{os.fspath(path)} is not UTF-8 text: {exc.reason} at byte "
                                  f"{exc.start}") from None


def run_on_dask(
    dask: Any, input_path: Path, output_path: Path, client_factory: ClientFactory, *,
    chunk_size: int = 64, threads: int = 8, pending: int = 32, retry_failed: bool = False,
    model: Optional[str] = None, **submit_options: Any,
) -> RunSummary:
    """Run the batch file ``input_path`` on the cluster of ``dask`` (a
    ``dask.distributed.Client``), appending results to ``output_path`` as ``chatmini batch``
    does, then rewriting it in input order.

    Jobs go in tasks of ``chunk_size``, each sent on ``threads`` threads; at most ``pending``
    tasks are out at once. ``client_factory()`` builds each worker process's Client (once per
    process). Jobs the output already holds are skipped (failures too, unless
    ``retry_failed``); ``model`` fills requests that name none. ``submit_options`` go to
    ``dask.submit`` (``resources``, ``priority``, ...). A task that fails for good (its error,
    or ``KilledWorker``) stops the run: finished results stay, and a rerun resumes.
    """
    _check(chunk_size, threads, pending, input_path, output_path)
    return _drive(_DaskTasks(dask, submit_options), input_path, output_path, client_factory,
                  chunk_size=chunk_size, threads=threads, pending=pending,
                  retry_failed=retry_failed, model=model)


def run_on_ray(
    input_path: Path, output_path: Path, client_factory: ClientFactory, *,
    chunk_size: int = 64, threads: int = 8, pending: int = 32, retry_failed: bool = False,
    model: Optional[str] = None, **remote_options: Any,
) -> RunSummary:
    """``run_on_dask`` as Ray tasks, on the cluster ``ray.init()`` connected to;
    ``remote_options`` go to ``ray.remote`` (``num_cpus``, ``max_retries``, ...)."""
    _check(chunk_size, threads, pending, input_path, output_path)
    return _drive(_RayTasks(remote_options), input_path, output_path, client_factory,
                  chunk_size=chunk_size, threads=threads, pending=pending,
                  retry_failed=retry_failed, model=model)
