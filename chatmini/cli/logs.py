"""``chatmini logs``: the conversations ``chatmini chat`` kept, the most recent last, each
with its id (for ``chatmini chat --cid ID``), its turns, prompts marked ``>``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .batch import positive_int
from .report import EXIT_ERROR, EXIT_OK, report
from .store import SUFFIX, conversations_dir, read_turns, recent
from .terminal import Printer, json_text


def add_logs_command(commands: Any) -> None:
    """Add ``logs`` to the ``chatmini`` subcommands."""
    logs = commands.add_parser(
        "logs", help="show recent conversations",
        description="Show the conversations 'chatmini chat' kept in the user's data "
        "directory, the most recent last ('chatmini chat -c' continues it, '--cid ID' any).",
    )
    logs.add_argument("-n", "--count", type=positive_int, default=3,
                      help="how many conversations (default 3)")
    logs.add_argument("--json", action="store_true",
                      help="print the turns as JSON lines, each with its conversation id")
    logs.add_argument("--path", action="store_true", help="print the directory and stop")


def run_logs(args: argparse.Namespace) -> int:
    """Run the command: 0 (nothing kept yet is not an error), 1 when the logs cannot be read."""
    directory = conversations_dir()
    printer = Printer(sys.stdout)
    if args.path:
        printer.write(f"{directory}\n")
        return EXIT_OK
    try:
        paths = recent(directory, args.count)
        conversations = [(path.name[:-len(SUFFIX)], read_turns(path)) for path in paths]
    except OSError as exc:
        report(f"cannot read the conversations in {directory}: {exc.strerror or exc}")
        return EXIT_ERROR
    if not conversations:
        report(f"no conversations kept yet (in {directory})", kind="note")
    for number, (ident, (turns, unreadable)) in enumerate(conversations):
        if unreadable:
            report(f"{unreadable} unreadable line(s) in conversation {ident}", kind="warning")
        if args.json:
            for turn in turns:
                printer.write(json_text({"conversation": ident, **turn}, indent=None) + "\n")
            continue
        if number:
            printer.write("\n")
        show(printer, ident, turns)
    return EXIT_OK


def show(printer: Printer, ident: str, turns: list[dict[str, Any]]) -> None:
    """One conversation for reading: a header line, then each prompt and reply."""
    models = sorted({turn["model"] for turn in turns})
    when = turns[-1].get("time", "") if turns else ""
    printer.write(f"# {ident}  {len(turns)} turn{'s' if len(turns) != 1 else ''}, "
                  f"{', '.join(models)}{', last ' + when if when else ''}\n")
    system = None
    for turn in turns:
        if turn.get("system") != system:
            system = turn.get("system")
            printer.write(f"[system] {system or '(none)'}\n")
        printer.write("".join(f"> {line}\n" for line in turn["prompt"].split("\n")))
        printer.write(turn["reply"] + (" [cancelled]" if turn.get("cancelled") else "") + "\n")
