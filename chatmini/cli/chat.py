"""``chatmini chat``: one prompt from the shell or stdin, or a conversation at the prompt
(``-i``, or no prompt on a terminal); the reply streamed to stdout, an error as one line on
stderr, never a traceback, never the key. Conversations are kept in the user's data
directory (``-c`` continues the last one) unless --no-log."""

from __future__ import annotations

import argparse
import re
import sys
from typing import TYPE_CHECKING, Any, Optional

from ..errors import ChatminiError
from ..shortcuts import default_model
from ..stats import print_stats
from .apis import APIS
from .connect import credentials, open_client
from .conversation import CANCELLED, DONE, Session, Settings
from .params import add_body_options, body_params
from .report import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UsageError, report
from .store import (
    SUFFIX,
    ConversationLog,
    conversations_dir,
    data_dir,
    messages_of,
    read_turns,
    recent,
)
from .terminal import Printer, is_terminal

if TYPE_CHECKING:
    from .apis import API

CONVERSATION_ID = re.compile(r"[\w-]+")


def add_chat_command(commands: Any) -> None:
    """Add ``chat`` to the ``chatmini`` subcommands."""
    chat = commands.add_parser(
        "chat", help="chat with a model: one prompt, or a conversation at the prompt",
        description="Send a prompt and print the reply as it arrives; with no prompt on a "
        "terminal (or with -i), chat turn after turn (/help lists the commands). The key and "
        "base URL come from OPENAI_API_KEY and OPENAI_BASE_URL. Conversations are kept in "
        "the user's data directory: -c continues the last one, 'chatmini logs' shows them.",
    )
    chat.add_argument("prompt", nargs="?",
                      help="the prompt (read from stdin when omitted and stdin is not a terminal)")
    chat.add_argument("-i", "--interactive", action="store_true",
                      help="keep chatting after the prompt (the default on a terminal without "
                      "a prompt)")
    chat.add_argument("-c", "--continue", dest="resume", action="store_true",
                      help="continue the last conversation")
    chat.add_argument("--cid", metavar="ID",
                      help="continue the conversation ID (as 'chatmini logs' shows it)")
    chat.add_argument("--no-log", action="store_true",
                      help="keep nothing of this chat in the conversation log")
    chat.add_argument("--model", help=f"model name (default: CHATMINI_MODEL or {default_model()}"
                      "; with -c, the conversation's)")
    chat.add_argument("--system", help="a system message to send before the conversation")
    chat.add_argument("--api", choices=sorted(APIS), default="chat",
                      help="Chat Completions (chat, the default) or the Responses API")
    add_body_options(chat)
    chat.add_argument("--no-stream", action="store_true", help="print the reply only at the end")
    chat.add_argument("--json", action="store_true",
                      help="print the whole response object as JSON (one call, not streamed)")
    chat.add_argument("--reasoning", action=argparse.BooleanOptionalAction, default=None,
                      help="show the reasoning text some servers send, dimmed (default: shown "
                      "when stdout is a terminal)")
    chat.add_argument("--base-url", help="API base URL (default: OPENAI_BASE_URL or OpenAI's)")
    chat.add_argument("--timeout", type=float, help="seconds to wait for the server")
    chat.add_argument("--stats", action="store_true",
                      help="print the latency table (p50/p90/p99, TTFT) to stderr at the end")


def run_chat(args: argparse.Namespace) -> int:
    """Run the command: 0 done, 1 an error (one line on stderr), 2 usage, 130 Ctrl-C."""
    interactive = args.interactive or (args.prompt is None and is_terminal(sys.stdin))
    prompt = args.prompt
    if not interactive:
        prompt = read_prompt(args.prompt)
        if prompt is None:
            return EXIT_USAGE
    client = None
    try:
        if args.json and args.reasoning is not None:
            option = "--reasoning" if args.reasoning else "--no-reasoning"
            raise UsageError(f"--json prints the whole response, reasoning included: drop "
                             f"{option}")
        client = open_client(args.base_url, args.timeout)
        api = APIS[args.api](client)
        printer = Printer(sys.stdout)
        settings = Settings(
            stream=not args.no_stream, json=args.json,
            reasoning=is_terminal(sys.stdout) if args.reasoning is None else args.reasoning,
            params=body_params(args, api.max_tokens_key, api.reserved),
        )
        session = open_session(args, api, printer, settings)
        if interactive:
            from .interactive import LineReader, run_interactive

            history = None if args.no_log else data_dir() / "history"
            return run_interactive(session, LineReader(history, credentials()), prompt)
        outcome = session.turn(prompt)
        if outcome == CANCELLED and not printer.used:
            printer.write("\n")  # past the ^C the terminal echoed
        return {DONE: EXIT_OK, CANCELLED: EXIT_INTERRUPTED}.get(outcome, EXIT_ERROR)
    except UsageError as exc:
        report(str(exc))
        return EXIT_USAGE
    except ChatminiError as exc:
        report(str(exc), credentials())
        return EXIT_ERROR
    finally:
        if client is not None:
            if args.stats:
                print_stats(client)  # stderr: stdout stays the reply
            client.close()


def open_session(args: argparse.Namespace, api: API, printer: Printer,
                 settings: Settings) -> Session:
    """The session the options ask for: a new conversation, or one continued (-c, --cid)
    with its messages, model and system message (--model and --system override them)."""
    directory = conversations_dir()
    turns: list[dict[str, Any]] = []
    ident: Optional[str] = None
    if args.resume or args.cid:
        if args.cid and not CONVERSATION_ID.fullmatch(args.cid):
            raise UsageError(f"--cid {args.cid!r} is not a conversation id")
        path = directory / (args.cid + SUFFIX) if args.cid else next(
            iter(recent(directory, 1)), None)
        if path is None or not path.is_file():
            what = f"conversation {args.cid}" if args.cid else "earlier conversation"
            raise UsageError(f"no {what} to continue in {directory}")
        turns, unreadable = read_turns(path)  # an OSError is reported by main(): status 1
        if unreadable:
            report(f"{unreadable} unreadable line(s) in {path} left out", kind="warning")
        ident = path.name[:-len(SUFFIX)]
    last = turns[-1] if turns else {}
    log = None if args.no_log else ConversationLog(directory, ident, credentials())
    session = Session(api, printer, settings, args.model or last.get("model") or default_model(),
                      args.system if args.system is not None else last.get("system"), log)
    session.messages = messages_of(turns)
    return session


def read_prompt(given: str | None) -> str | None:
    """The prompt argument, else stdin when piped; None (after a message) when there is none."""
    if given is None:
        stdin = sys.stdin
        if stdin is None:
            report("no prompt: pass PROMPT or pipe it on stdin")
            return None
        try:
            given = stdin.read().strip()
        except UnicodeDecodeError as exc:
            report(f"stdin is not UTF-8 text: {exc.reason} at byte {exc.start}")
            return None
    if not given.strip():
        report("the prompt is empty")
        return None
    return given
