"""``chatmini batch merge -i requests.jsonl -o merged.jsonl OUT...``: join the results files of
``--shard`` runs into one, in input order, naming ids that are missing or in several files."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Optional, Sequence

from .report import EXIT_ERROR, EXIT_OK, PROG, report, stderr_line, usage_status

if TYPE_CHECKING:
    from ..batching.files import Key

MERGE_PROG = f"{PROG} batch merge"
SHOWN = 10  # ids named per problem on stderr


def build_merge_parser() -> argparse.ArgumentParser:
    """The parser of ``chatmini batch merge``."""
    parser = argparse.ArgumentParser(
        prog=MERGE_PROG,
        description="Join the results files of 'chatmini batch --shard I/N' runs into one, in "
        "the order of the requests file; the last line for an id in each file is its result. "
        "Reports ids with no result, ids found in more than one file, and ids the requests "
        "file does not have. Exit status 0 when every request has exactly one successful result.",
    )
    parser.add_argument("outputs", nargs="+", metavar="RESULTS", help="the shards' results files")
    parser.add_argument("-i", "--input", required=True,
                        help="the requests file the shards ran (ids and their order)")
    parser.add_argument("-o", "--output", required=True, help="the merged file (replaced)")
    return parser


def run_merge(argv: Sequence[str]) -> int:
    """Run the command: 0 complete, 1 something missing, duplicated or failed, 2 usage."""
    from ..batching.files import read_jobs
    from ..batching.merge import Merged

    try:
        args = build_merge_parser().parse_args(list(argv))
    except SystemExit as exit_:
        return usage_status(exit_)
    merged = Merged()
    try:
        with open(args.input, encoding="utf-8") as source:
            order = [job.key for job in read_jobs(source)]
        for path in args.outputs:
            merged.add_file(path)
    except (OSError, UnicodeDecodeError) as exc:
        report(f"cannot read {getattr(exc, 'filename', None) or 'a file'}: "
               f"{getattr(exc, 'strerror', None) or exc}")
        return EXIT_ERROR
    try:
        summary = merged.write(order, args.output)
    except OSError as exc:
        report(f"cannot write {args.output}: {exc.strerror or exc}")
        return EXIT_ERROR
    missing, unexpected, failed = summary.missing, summary.unexpected, summary.failed
    stderr_line(f"{summary.written} results from {len(args.outputs)} files into {args.output} "
                f"(input order): ok {summary.written - failed}, failed {failed}", prog=MERGE_PROG)
    problems = [
        ("missing (no result in any file)", missing),
        ("duplicated (in more than one file)", list(merged.duplicated)),
        (f"not in {args.input} (left out)", unexpected),
    ]
    for what, keys in problems:
        if keys:
            report(f"{len(keys)} id(s) {what}: {describe(keys)}", kind="warning")
    if merged.unreadable:
        report(f"{merged.unreadable} unreadable line(s) ignored", kind="warning")
    return EXIT_ERROR if missing or merged.duplicated or unexpected or failed else EXIT_OK


def describe(keys: list[Key]) -> str:
    """The first SHOWN ids (line numbers as ``line N``), and how many more."""
    shown = ", ".join(f"line {k}" if isinstance(k, int) else repr(k) for k in keys[:SHOWN])
    more = len(keys) - SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def merge_requested(argv: Optional[Sequence[str]]) -> Optional[list[str]]:
    """The merge arguments when the command line is ``batch merge ...``, else None."""
    words = list(sys.argv[1:] if argv is None else argv)
    return words[2:] if words[:2] == ["batch", "merge"] else None
