"""The ``chatmini`` program: the argument parser for every subcommand, and ``main``, which hands
the command line to the one command it names (``chat``, ``models``, ``logs``, ``batch``,
``batch merge``, ``batch status|cancel|fetch``, ``demo``) and turns Ctrl-C and a closed pipe
into exit statuses."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from ..version import __version__
from .batch import add_batch_command, run_batch
from .batch_ids import batch_id_requested, run_batch_id_command
from .chat import add_chat_command, run_chat
from .connect import credentials
from .logs import add_logs_command, run_logs
from .merge import merge_requested, run_merge
from .models import add_models_command, run_models
from .report import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_USAGE, PROG, report, usage_status


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand (kept apart so tests and docs can reuse it)."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="A small client for ChatGPT and any OpenAI-compatible API."
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_chat_command(commands)
    add_models_command(commands)
    add_logs_command(commands)
    commands.add_parser("demo", help="a short tour against an embedded server (no key needed)")
    add_batch_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit status (0 ok, 1 error, 2 usage, 130 Ctrl-C)."""
    merge = merge_requested(argv)  # ``batch merge`` would read as ``batch INPUT``
    if merge is not None:
        return run_merge(merge)
    by_id = batch_id_requested(argv)  # ``batch status|cancel|fetch BATCH_ID``
    if by_id is not None:
        return run_batch_id_command(by_id)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version and usage errors end here
        return usage_status(exit_)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        if args.command == "demo":
            from .demo import run_demo  # imported on demand: it pulls in the test server

            return run_demo()
        if args.command == "batch":
            return run_batch(args)
        if args.command == "models":
            return run_models(args)
        if args.command == "logs":
            return run_logs(args)
        return run_chat(args)
    except KeyboardInterrupt:  # Ctrl-C: whatever was open is closed on the way out
        sys.stdout.write("\n")
        sys.stdout.flush()
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader went away (``| head``): stop quietly
        silence_stdout()
        return EXIT_ERROR
    except OSError as exc:  # e.g. stdout failed: a full disk, a terminal gone
        report(f"{exc.filename + ': ' if exc.filename else ''}{exc.strerror or exc}")
        return EXIT_ERROR
    except Exception as exc:  # a bug: still one line, and no credential in it
        report(f"unexpected {type(exc).__name__}: {exc} (a bug in chatmini: please report "
               "it)", credentials())
        return EXIT_ERROR


def silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
