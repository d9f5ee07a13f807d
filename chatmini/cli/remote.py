"""``chatmini batch requests.jsonl -o results.jsonl --remote``: the file run by the Batch API.

Every line is checked before anything is uploaded (bad lines are named, exit 2); the lines still
to do are split into batch files by endpoint and model within the per-batch limits, each one
uploaded and started; the batches are polled, and their output and error files appended to
OUTPUT as result lines of the local run's shape, so resuming and ``chatmini batch merge`` work
the same. Batches in flight are noted in ``OUTPUT.batches.json``: Ctrl-C leaves them running
(their ids are printed), and the next run with the same OUTPUT collects them before it sends
anything new.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any, Callable, Iterator

from ..batching.files import open_results
from .report import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, report, stderr_line
from .results import Summary, read_previous

if TYPE_CHECKING:
    from ..client import Client
    from ..resources import Batch
    from .remote_plan import Plan

STATE_SUFFIX = ".batches.json"
DOWNLOAD_LIMIT = 1 << 32  # output files are spooled to disk: far above any batch's files
SHOWN = 20  # bad lines named before "and N more"
LOCAL_ONLY = ("rpm", "tpm", "max_concurrent", "redis")


class InFlight:
    """The batches an OUTPUT has running, in ``OUTPUT.batches.json`` (replaced atomically):
    ``{"input_file_id", "batch_id", "requests", "endpoint"}`` each, batch_id None until created."""

    def __init__(self, output: str) -> None:
        self.path = output + STATE_SUFFIX
        self.entries: list[dict[str, Any]] = []
        self.loaded: set[Any] = set()  # input files noted by an earlier run
        if os.path.exists(self.path):
            with open(self.path, encoding="utf-8") as stored:
                try:
                    data = json.load(stored)
                    batches = data["batches"]
                except (ValueError, KeyError, TypeError):
                    raise ValueError(f"{self.path} is not chatmini's list of running batches; "
                                     "move it away if no batch of this output runs") from None
            self.entries = [e for e in batches if isinstance(e, dict) and e.get("input_file_id")]
            self.loaded = {e.get("input_file_id") for e in self.entries}

    @property
    def batch_ids(self) -> list[str]:
        return [e["batch_id"] for e in self.entries if e.get("batch_id")]

    def note(self, entry: dict[str, Any]) -> None:
        """Add or update (by input file) an entry, and save."""
        self.entries = [e for e in self.entries if e["input_file_id"] != entry["input_file_id"]]
        self.entries.append(entry)
        self.save()

    def forget(self, name: str) -> None:
        """Drop a batch (by its id or its input file's) that needs no more work, and save."""
        self.entries = [e for e in self.entries if name not in (e.get("batch_id"),
                                                                 e["input_file_id"])]
        self.save()

    def save(self) -> None:
        if not self.entries:
            if os.path.exists(self.path):
                os.unlink(self.path)
            return
        partial = self.path + ".partial"
        with open(partial, "w", encoding="utf-8") as out:
            json.dump({"batches": self.entries}, out, indent=1)
        os.replace(partial, self.path)


def make_client(args: argparse.Namespace) -> Client:
    """The Client for the Batch API (no rate limiter: the API queues the work itself)."""
    from ..client import Client
    from ..timeouts import DEFAULT_TIMEOUT

    return Client(base_url=args.base_url, timeout=args.timeout or DEFAULT_TIMEOUT,
                  max_retries=args.max_retries, max_response_bytes=DOWNLOAD_LIMIT)


def run_remote(args: argparse.Namespace) -> int:
    """Run the command with the Batch API; 0 when every request succeeded, 1 when any failed
    (or a batch did), 2 for bad lines (nothing uploaded), 130 on Ctrl-C (batches keep running)."""
    if not args.remote:
        report("--dry-run needs --remote (it shows what --remote would upload)")
        return EXIT_USAGE
    given = [f"--{name.replace('_', '-')}" for name in LOCAL_ONLY if getattr(args, name)]
    if given:
        report(f"{', '.join(given)} limit the local run and cannot apply to --remote (the "
               "Batch API paces batches itself): drop one of them")
        return EXIT_USAGE
    with readable_input(args.input) as path:
        try:
            done = read_previous(args.output)
            flight = InFlight(args.output)
            plan = _plan(path, args, done)
        except (OSError, UnicodeDecodeError) as exc:
            report(f"cannot read {getattr(exc, 'filename', None) or args.input}: "
                   f"{getattr(exc, 'strerror', None) or exc}")
            return EXIT_ERROR
        except ValueError as exc:
            report(str(exc))
            return EXIT_ERROR
        if plan.bad:
            for why in plan.bad[:SHOWN]:
                report(why)
            more = len(plan.bad) - SHOWN
            report(f"{len(plan.bad)} bad line(s){f' ({more} not shown)' if more > 0 else ''}; "
                   "nothing was uploaded")
            return EXIT_USAGE
        if args.dry_run:
            return _dry_run(plan, flight)
        return _send(args, path, plan, flight)


def _plan(path: str, args: argparse.Namespace, done: dict[Any, bool]) -> Plan:
    from .distributed import shard_filter
    from .remote_plan import make_plan

    mine = shard_filter(args.shard)

    def pending(key: Any) -> bool:
        previous = done.get(key)
        return mine(key) and not (previous or (previous is False and not args.retry_failed))

    with open(path, encoding="utf-8") as source:
        return make_plan(source, model=args.model, pending=pending,
                         max_requests=args.max_batch_requests, max_bytes=args.max_batch_bytes)


def _dry_run(plan: Plan, flight: InFlight) -> int:
    from .remote_plan import describe

    for line in describe(plan):
        print(line)
    if flight.entries:
        print(f"{len(flight.entries)} batch(es) of an earlier run still to collect: "
              f"{', '.join(flight.batch_ids) or '(uploaded, not created)'}")
    return EXIT_OK


def _send(args: argparse.Namespace, path: str, plan: Plan, flight: InFlight) -> int:
    """Collect earlier batches, then upload, create, poll and collect the new ones."""
    from ..errors import ChatminiError
    from .remote_poll import Poller

    summary = Summary()
    client = make_client(args)
    failed: list[str] = []
    try:
        with open_results(args.output) as out:
            poller = Poller(client, args.poll_interval)
            finished = _collector(client, out, plan, summary, flight, failed)
            if flight.entries:  # an earlier run's batches first: their ids must not go twice
                _create(client, args, flight, failed)
                poller.wait(flight.batch_ids, finished)
                plan = _plan(path, args, read_previous(args.output))
            summary.skipped = plan.skipped
            _upload(client, path, plan, args, flight)
            _create(client, args, flight, failed)
            poller.wait(flight.batch_ids, finished)
    except KeyboardInterrupt:
        _still_running(flight, args.output)
        return EXIT_INTERRUPTED
    except (ChatminiError, OSError) as exc:
        report(str(exc))
        _still_running(flight, args.output)
        return EXIT_ERROR
    finally:
        client.close()
        stderr_line(summary.line())
    return EXIT_ERROR if summary.failed or failed else EXIT_OK


def _upload(client: Client, path: str, plan: Plan, args: argparse.Namespace,
            flight: InFlight) -> None:
    """Write and upload each part's file, noting each in flight as its upload ends."""
    import tempfile

    from .remote_plan import write_parts

    with tempfile.TemporaryDirectory(prefix="chatmini-batch-") as folder:
        with open(path, encoding="utf-8") as source:
            files = write_parts(source, plan, folder, args.model)
        for part, file in zip(plan.parts, files):
            uploaded = client.files.create(file=file, purpose="batch")
            entry = {"input_file_id": uploaded.id, "batch_id": None,
                     "requests": len(part.lines), "endpoint": part.url}
            flight.note(entry)  # uploaded: the next run creates its batch if this one stops
            stderr_line(f"uploaded {len(part.lines)} requests ({part.size:,} bytes) as "
                        f"{uploaded.id}")


def _create(client: Client, args: argparse.Namespace, flight: InFlight,
            failed: list[str]) -> None:
    """Create the batch of every uploaded file that has none yet. A file the API refuses to
    make a batch of (400, 404, 422) is reported and forgotten: a rerun sends its lines again."""
    from ..errors import BadRequestError, NotFoundError, UnprocessableEntityError

    waiting = [e for e in flight.entries if not e.get("batch_id")]
    for number, entry in enumerate(waiting, start=1):
        batch = None
        if entry["input_file_id"] in flight.loaded:  # a Ctrl-C may have hit just after create
            batch = find_batch(client, entry["input_file_id"])
        try:
            batch = batch or client.batches.create(
                input_file_id=entry["input_file_id"], endpoint=entry["endpoint"],
                metadata={"chatmini_output": os.path.basename(args.output)[:512],
                          "chatmini_part": f"{number}/{len(waiting)}"},
            )
        except (BadRequestError, NotFoundError, UnprocessableEntityError) as exc:
            report(f"no batch for {entry['input_file_id']} ({entry['requests']} requests to "
                   f"{entry['endpoint']}): {exc}")
            failed.append(entry["input_file_id"])
            flight.forget(entry["input_file_id"])
            continue
        flight.note({**entry, "batch_id": batch.id})
        stderr_line(f"batch {batch.id} created ({entry['requests']} requests to "
                    f"{entry['endpoint']})")


def find_batch(client: Client, input_file_id: str, look: int = 500) -> Batch | None:
    """The newest batch made from ``input_file_id`` among the ``look`` newest, if any."""
    for number, batch in enumerate(client.batches.list(limit=100)):
        if batch.input_file_id == input_file_id:
            return batch
        if number + 1 >= look:
            break
    return None


def _collector(client: Client, out: IO[str], plan: Plan, summary: Summary, flight: InFlight,
               failed: list[str]) -> Callable[[Batch], None]:
    from .remote_poll import collect

    def finished(batch: Batch) -> None:
        collect(client, batch, out, plan.ids, summary)
        if batch.status != "completed":
            failed.append(batch.id)
        flight.forget(batch.id)

    return finished


def _still_running(flight: InFlight, output: str) -> None:
    ids = flight.batch_ids
    if ids:
        report(f"{', '.join(ids)} still running on the server: rerun the same command (same "
               f"-o {output}) to collect the results, or 'chatmini batch fetch ID -o {output}'",
               kind="note")


@contextmanager
def readable_input(name: str) -> Iterator[str]:
    """The input as a path that can be read twice (stdin is copied to a temporary file)."""
    if name != "-":
        yield name
        return
    import shutil
    import tempfile

    handle, copy = tempfile.mkstemp(prefix="chatmini-stdin-", suffix=".jsonl")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            shutil.copyfileobj(sys.stdin, out)
        yield copy
    finally:
        os.unlink(copy)
