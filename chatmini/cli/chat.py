"""``chatmini chat``: one prompt from the shell or stdin, the reply streamed to stdout, and an
error as one line on stderr, never a traceback, never the key."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from typing import Any

from ..client import Client
from ..errors import ChatminiError, InsecureTransportWarning
from ..shortcuts import default_model
from ..stats import print_stats
from ..timeouts import DEFAULT_TIMEOUT
from .report import EXIT_ERROR, EXIT_OK, EXIT_USAGE, report


def add_chat_command(commands: Any) -> None:
    """Add ``chat`` to the ``chatmini`` subcommands."""
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


def run_chat(args: argparse.Namespace) -> int:
    """Run the command: the reply on stdout, 0; an error as one line on stderr, 1; 2 usage."""
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
        return EXIT_OK
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
