"""``chatmini batch status|cancel|fetch BATCH_ID``: look after a Batch API batch later, e.g. one a
``--remote`` run left running when it was interrupted."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Optional, Sequence

from .report import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, PROG, report, stderr_line, usage_status

if TYPE_CHECKING:
    from ..client import Client
    from ..resources import Batch
    from .remote import InFlight

VERBS = ("status", "cancel", "fetch")


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``chatmini batch status|cancel|fetch``."""
    parser = argparse.ArgumentParser(prog=f"{PROG} batch",
                                     description="Look after a Batch API batch by its id.")
    verbs = parser.add_subparsers(dest="verb", metavar="{status,cancel,fetch}", required=True)
    helps = {"status": "print the batch's status and request counts",
             "cancel": "ask the server to stop the batch (what finished is kept)",
             "fetch": "wait for the batch to end, then append its results to OUTPUT"}
    for verb in VERBS:
        sub = verbs.add_parser(verb, help=helps[verb], description=helps[verb])
        sub.add_argument("batch_id", metavar="BATCH_ID")
        sub.add_argument("--base-url", help="API base URL (default: OPENAI_BASE_URL or OpenAI's)")
        sub.add_argument("--timeout", type=float, help="seconds to wait for the server")
        sub.add_argument("--max-retries", type=int, default=2, help="retries per request (2)")
        if verb == "fetch":
            sub.add_argument("-o", "--output", required=True,
                             help="the JSONL results file (appended)")
            sub.add_argument("-i", "--input", help="the requests file, for the input line of "
                             "each result that has a custom_id")
            sub.add_argument("--poll-interval", type=float, default=5.0,
                             help="seconds before the first status check (growing to 60)")
    return parser


def batch_id_requested(argv: Optional[Sequence[str]]) -> Optional[list[str]]:
    """The arguments when the command line is ``batch status|cancel|fetch ...``, else None."""
    words = list(sys.argv[1:] if argv is None else argv)
    return words[1:] if len(words) > 1 and words[0] == "batch" and words[1] in VERBS else None


def run_batch_id_command(argv: Sequence[str]) -> int:
    """Run ``status``, ``cancel`` or ``fetch``: 0 ok, 1 an error (or failed results), 2 usage."""
    from ..errors import ChatminiError
    from .remote import InFlight, make_client

    try:
        args = build_parser().parse_args(list(argv))
    except SystemExit as exit_:
        return usage_status(exit_)
    client = None
    try:
        client = make_client(args)
        if args.verb == "fetch":
            return fetch(client, args, InFlight(args.output))
        batch = (client.batches.cancel if args.verb == "cancel" else client.batches.retrieve)(
            args.batch_id)
        print(describe(batch))
        return EXIT_OK
    except KeyboardInterrupt:
        report(f"{args.batch_id} keeps running on the server", kind="note")
        return EXIT_INTERRUPTED
    except (ChatminiError, OSError, ValueError) as exc:
        report(str(exc))
        return EXIT_ERROR
    finally:
        if client is not None:
            client.close()


def fetch(client: Client, args: argparse.Namespace, flight: InFlight) -> int:
    """Wait for the batch, append its results to OUTPUT, and forget it in OUTPUT's in-flight
    list if a ``--remote`` run left it there."""
    from ..batching.files import open_results, read_jobs
    from .remote_poll import Poller, collect
    from .results import Summary

    ids: dict[str, int] = {}
    if args.input:
        with open(args.input, encoding="utf-8") as source:
            ids = {job.custom_id: job.line for job in read_jobs(source) if job.custom_id}
    summary = Summary()
    ended: list[Batch] = []
    try:
        with open_results(args.output) as out:
            def finished(batch: Batch) -> None:
                collect(client, batch, out, ids, summary)
                ended.append(batch)
                flight.forget(batch.id)

            Poller(client, args.poll_interval).wait([args.batch_id], finished)
    finally:
        stderr_line(summary.line())
    ok = ended and ended[0].status == "completed" and not summary.failed
    return EXIT_OK if ok else EXIT_ERROR


def describe(batch: Batch) -> str:
    """``batch_abc in_progress: 120 completed, 3 failed of 500 (/v1/chat/completions) ...``."""
    counts = batch.request_counts
    done, failed, total = ((counts.completed, counts.failed, counts.total) if counts is not None
                           else (0, 0, 0))
    text = (f"{batch.id} {batch.status}: {done} completed, {failed} failed of {total} "
            f"({batch.endpoint})")
    for name in ("input_file_id", "output_file_id", "error_file_id"):
        value = getattr(batch, name)
        if value:
            text += f" {name.replace('_id', '')} {value}"
    return text
