"""The ``chatmini`` command: ``chat`` with a prompt from the shell, ``batch`` for a file of
requests, ``demo`` for a tour."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from typing import Sequence

from . import __version__
from .batch_cli import add_batch_command, run_batch
from .batch_merge import merge_requested, run_merge
from .client import DEFAULT_TIMEOUT, Client, InsecureTransportWarning
from .errors import ChatminiError
from .shortcuts import default_model
from .stats import print_stats

PROG = "chatmini"
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand (kept apart so tests and docs can reuse it)."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="A small client for ChatGPT and any OpenAI-compatible API."
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    chat = commands.add_parser(
        "chat", help="send one prompt and print the reply",
        description="Send one prompt and print the reply. The key and base URL come from "
        "OPENAI_API_KEY and OPENAI_BASE_URL.",
    )
    chat.add_argument("prompt", nargs="?", help="the prompt (read from stdin when omitted)")
    chat.add_argument("--model", help=f"model name (default: CHATMINI_MODEL or {default_model()})")
    chat.add_argument("--base-url", help="API base URL (default: OPENAI_BASE_URL or OpenAI's)")
    chat.add_argument("--system", help="a system message to send before the prompt")
    chat.add_argument("--no-stream", action="store_true", help="print the reply only at the end")
    chat.add_argument("--stats", action="store_true",
                      help="print the latency table (p50/p90/p99, TTFT) to stderr at the end")
    chat.add_argument("--timeout", type=float, help="seconds to wait for the server")
    commands.add_parser("demo", help="a short tour against an embedded server (no key needed)")
    add_batch_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit status (0 ok, 1 error, 2 usage, 130 Ctrl-C)."""
    merge = merge_requested(argv)  # ``batch merge`` would read as ``batch INPUT``
    if merge is not None:
        return run_merge(merge)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version and usage errors end here
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        if args.command == "demo":
            from .demo import run_demo  # imported on demand: it pulls in the test server

            return run_demo()
        if args.command == "batch":
            return run_batch(args)
        return chat(args)
    except KeyboardInterrupt:  # Ctrl-C: whatever was open is closed on the way out
        sys.stdout.write("\n")
        sys.stdout.flush()
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader went away (``| head``): stop quietly
        silence_stdout()
        return EXIT_ERROR


def chat(args: argparse.Namespace) -> int:
    """``chatmini chat``: one prompt in, the reply out; errors as one line, never a traceback."""
    prompt = read_prompt(args.prompt)
    if prompt is None:
        return EXIT_USAGE
    messages = [{"role": "system", "content": args.system}] if args.system else []
    messages.append({"role": "user", "content": prompt})
    out = sys.stdout
    printed = False
    client: Client | None = None
    try:
        timeout = DEFAULT_TIMEOUT if args.timeout is None else args.timeout
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", InsecureTransportWarning)
            client = Client(base_url=args.base_url, timeout=timeout)
        for warning in caught:
            report(str(warning.message), kind="warning")
        model = args.model or default_model()
        if args.no_stream:
            completion = client.chat.completions.create(model=model, messages=messages)
            choices = completion.choices
            out.write((choices[0].message.content or "") if choices else "")
        else:
            stream = client.chat.completions.create(model=model, messages=messages, stream=True)
            with stream:  # Ctrl-C or any error closes the connection at once
                for piece in stream.text_deltas():
                    printed = True
                    out.write(piece)
                    out.flush()
        out.write("\n")
        out.flush()
        return 0
    except ChatminiError as exc:
        if printed:  # keep the partial reply, end its line before the error
            out.write("\n")
            out.flush()
        report(str(exc), os.environ.get("OPENAI_API_KEY"))
        return EXIT_ERROR
    finally:
        if client is not None:
            if args.stats:
                print_stats(client)  # stderr: stdout stays the reply
            client.close()


def read_prompt(given: str | None) -> str | None:
    """The prompt argument, else stdin when piped; None (after a message) when there is none."""
    if given is None:
        stdin = sys.stdin
        if stdin is None or stdin.isatty():
            report("no prompt: pass PROMPT or pipe it on stdin")
            return None
        given = stdin.read().strip()
    if not given.strip():
        report("the prompt is empty")
        return None
    return given


def report(message: str, secret: str | None = None, kind: str = "error") -> None:
    """One ``chatmini: error:`` (or warning) line on stderr, the API key blanked if present."""
    if secret:
        message = message.replace(secret, "<redacted>")
    line = " ".join(message.split())
    sys.stderr.write(f"{PROG}: {kind}: {line}\n")
    sys.stderr.flush()


def silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
