"""``chatmini batch requests.jsonl -o results.jsonl``: run a file of requests concurrently within
rate limits, append each result as it completes, resume where an earlier run stopped; with
``--remote`` the Batch API runs the file instead (``remote``)."""

from __future__ import annotations

import argparse
import sys
import time
from typing import IO, Any, Callable, Iterator, Optional

from ..batching.files import open_results
from .distributed import add_distributed_options, close_shared, shard_filter, shared_limiter
from .report import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, report, stderr_line
from .results import Summary, append, read_previous


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, not {value}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a number > 0."""
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, not {text}")
    return value


def add_batch_command(commands: Any) -> None:
    """Add ``batch`` to the ``chatmini`` subcommands."""
    batch = commands.add_parser(
        "batch", help="run a JSONL file of requests concurrently (resumable)",
        description="Run every request of a JSONL file on worker threads, within optional rate "
        "limits, appending one result line per request to OUTPUT as it completes. Lines are "
        "request bodies for /chat/completions, or OpenAI batch-file lines (custom_id, method, "
        "url, body; url /v1/chat/completions, /v1/responses or another). Rerunning with "
        "the same OUTPUT skips requests already done. "
        "'chatmini batch merge' joins the outputs of --shard runs. With --remote the Batch API "
        "runs the file server-side (within 24 hours, at half the price); 'chatmini batch "
        "status|cancel|fetch BATCH_ID' looks after such a batch later.",
    )
    batch.add_argument("input", help="the JSONL requests file ('-' for stdin)")
    batch.add_argument("-o", "--output", required=True, help="the JSONL results file (appended)")
    batch.add_argument("--workers", type=positive_int, default=16, help="threads (default 16)")
    batch.add_argument("--rpm", type=positive_float, help="requests per minute at most")
    batch.add_argument("--tpm", type=positive_float, help="tokens per minute at most")
    batch.add_argument("--max-concurrent", type=positive_int, help="requests in flight at most")
    batch.add_argument("--retry-failed", action="store_true",
                       help="also rerun requests whose last result in OUTPUT is an error")
    batch.add_argument("--model", help="model for requests that name none")
    batch.add_argument("--base-url", help="API base URL (default: OPENAI_BASE_URL or OpenAI's)")
    batch.add_argument("--timeout", type=positive_float, help="seconds to wait for the server")
    batch.add_argument("--max-retries", type=int, default=2, help="retries per request (2)")
    add_distributed_options(batch)
    remote = batch.add_argument_group("the Batch API (--remote)")
    remote.add_argument("--remote", action="store_true",
                        help="upload the file, create batches, poll them and download the "
                        "results; Ctrl-C leaves them running")
    remote.add_argument("--dry-run", action="store_true",
                        help="with --remote: show the batches, requests, bytes and a token "
                        "estimate, and upload nothing")
    remote.add_argument("--poll-interval", type=positive_float, default=5.0,
                        help="seconds before the first status check (growing to 60; default 5)")
    remote.add_argument("--max-batch-requests", type=positive_int, default=50_000,
                        help="requests per batch at most (default 50000)")
    remote.add_argument("--max-batch-bytes", type=positive_int, default=200_000_000,
                        help="bytes per batch file at most (default 200000000)")


def run_batch(args: argparse.Namespace) -> int:
    """Run the command; 0 when every request succeeded, 1 when any failed, 130 on Ctrl-C."""
    from ..errors import ChatminiError

    if args.remote or args.dry_run:
        from .remote import run_remote  # the Batch API: upload, create, poll, download

        return run_remote(args)
    try:
        done = read_previous(args.output)
        out = open_results(args.output)
    except (OSError, UnicodeDecodeError) as exc:
        report(f"cannot use {args.output} for results: {getattr(exc, 'strerror', None) or exc}")
        return EXIT_ERROR
    try:
        source = sys.stdin if args.input == "-" else open(args.input, encoding="utf-8")
    except OSError as exc:
        out.close()
        report(f"cannot read {args.input}: {exc.strerror or exc}")
        return EXIT_ERROR
    summary = Summary()
    try:
        with source, out:
            interrupted = send_pending(args, source, out, done, summary)
    except UnicodeDecodeError as exc:
        report(f"{args.input} is not UTF-8 text: {exc.reason} at byte {exc.start}")
        return EXIT_ERROR
    except ChatminiError as exc:  # the client or its limiter could not be set up
        report(str(exc))
        return EXIT_ERROR
    finally:
        stderr_line(summary.line())
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_ERROR if summary.failed else EXIT_OK


def send_pending(
    args: argparse.Namespace, source: IO[str], out: IO[str], done: dict[Any, bool],
    summary: Summary,
) -> bool:
    """Send the jobs not done yet and write their results; True when Ctrl-C stopped the run."""
    from ..batching import BatchInterrupted, batch_iter
    from ..batching.files import already_done, read_jobs

    client = make_client(args)
    pending: dict[int, Any] = {}
    mine = shard_filter(args.shard)

    def jobs() -> Iterator[Any]:
        for job in read_jobs(source):
            if not mine(job.key):
                continue
            if already_done(done, job.key, args.retry_failed):
                summary.skipped += 1
                continue
            yield job

    write = result_writer(out, summary)
    runner = batch_iter(client, _Counted(jobs(), pending), workers=args.workers,
                        progress=True, call=make_call(args.model))
    index, result = -1, None
    try:
        try:
            for index, result in runner:
                write(pending[index], result)
                del pending[index]
        except BatchInterrupted:
            raise
        except KeyboardInterrupt:  # landed in this loop: finish the line, let the runner wind down
            job = pending.get(index)
            if job is not None and not job.written:
                write(job, result)
            runner.throw(KeyboardInterrupt())
    except BatchInterrupted as exc:
        for index, result in sorted(exc.results.items()):
            job = pending.pop(index, None)
            if job is not None and not job.written:
                write(job, result)
        return True
    except KeyboardInterrupt:  # a second Ctrl-C: unwritten results are redone by the next run
        return True
    finally:
        if summary.ok or summary.failed:
            from ..stats import print_stats

            print_stats(client)  # stderr: the per-model latency table, as `chat --stats` prints
        client.close()
        if args.redis is not None:
            close_shared(client)
    return False


class _Counted:
    """The job iterator, numbering jobs in the order workers take them (the batch's indexes)."""

    def __init__(self, jobs: Iterator[Any], pending: dict[int, Any]) -> None:
        self._jobs = jobs
        self._pending = pending
        self._next = 0

    def __iter__(self) -> _Counted:
        return self

    def __next__(self) -> Any:
        job = next(self._jobs)
        self._pending[self._next] = job
        self._next += 1
        return job


def make_client(args: argparse.Namespace) -> Any:
    """The shared Client: a pool of ``--workers`` connections and the rate limits asked for."""
    from ..client import Client
    from ..timeouts import DEFAULT_TIMEOUT

    plugins = []
    if args.redis is not None:
        plugins.append(shared_limiter(args))
    elif args.rpm or args.tpm or args.max_concurrent:
        from ..plugins.ratelimit import RateLimiter

        plugins.append(RateLimiter(args.rpm, args.tpm, args.max_concurrent))
    return Client(
        base_url=args.base_url, timeout=args.timeout or DEFAULT_TIMEOUT,
        max_retries=args.max_retries, pool_maxsize=args.workers, plugins=plugins,
    )


def make_call(model: Optional[str]) -> Callable[[Any, Any], Any]:
    """The per-job call: chat completions and Responses through ``complete``, other paths as
    plain POSTs (``send_job``); a bad line raises its error without sending anything. Each job
    records its duration."""
    from ..batching.run import send_job

    def call(client: Any, job: Any) -> Any:
        start = time.perf_counter()
        try:
            return send_job(client, job, model)
        finally:
            job.seconds = time.perf_counter() - start

    return call


def result_writer(out: IO[str], summary: Summary) -> Callable[[Any, Any], None]:
    """Write one result line (flushed at once) and count it in the summary."""
    from ..batching.files import error_record, ok_record
    from ..errors import InvalidRequestError

    def write(job: Any, result: Any) -> None:
        rejected = isinstance(result, InvalidRequestError)  # refused before anything was sent
        if isinstance(result, BaseException):
            record = error_record(job, result)
            if rejected:
                report(str(result) if job.error is not None else f"line {job.line}: {result}")
        else:
            record = ok_record(job, result)
        if not rejected:
            summary.latencies.append(job.seconds)
        append(out, record, summary)
        job.written = True

    return write
