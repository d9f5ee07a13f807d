"""``chatmini chat`` as a conversation at the prompt: each line a turn, replies streamed,
Ctrl-C stops a reply (or clears the line), Ctrl-D leaves, ``/`` commands change the session.

On a terminal, lines are edited with the standard library's ``readline`` where the platform
has it (history kept in the data directory unless --no-log); text pasted in one go (or typed
between ``!multi`` and ``!end``) is one prompt.
"""

from __future__ import annotations

import os
import select
import sys
from pathlib import Path
from typing import Any, Callable, Optional

from .conversation import CANCELLED, Session
from .report import EXIT_OK, report
from .store import private_file
from .terminal import is_terminal

PROMPT, MORE = "> ", "... "
MULTI, END = "!multi", "!end"
PASTE_GAP = 0.03  # seconds: lines arriving closer together than typing can were pasted
HISTORY_LENGTH = 1000
HELP = f"""\
/system TEXT   set the system message (/system alone removes it)
/model NAME    use another model (/model alone shows the one in use)
/reset         forget the conversation so far and start a new one
/save FILE     save the conversation: FILE.json as a request body, else as Markdown
/help          this list
/exit          leave (so does Ctrl-D)
{MULTI} starts a prompt of several lines, {END} sends it; lines pasted at once are one prompt.
Ctrl-C stops a reply (what arrived is kept) or clears the line. //text sends "/text"."""


class LineReader:
    """The prompts typed: readline's editing and history on a terminal, several lines joined
    into one prompt when pasted together or typed between ``!multi`` and ``!end``."""

    def __init__(self, history: Optional[Path], secrets: list[str]) -> None:
        self.tty = is_terminal(sys.stdin) and is_terminal(sys.stdout)
        self.history = history
        self.secrets = secrets
        self.readline: Any = None
        if self.tty:
            self.readline = load_readline(history)

    def read(self) -> str:
        """One prompt; EOFError at Ctrl-D or the end of the input, KeyboardInterrupt at
        Ctrl-C."""
        line = input(PROMPT if self.tty else "")
        if line.strip() == MULTI:
            return self._multi()
        lines = [line]
        while self._more_waiting():
            lines.append(input(""))
        return "\n".join(lines)

    def _multi(self) -> str:
        lines: list[str] = []
        while True:
            try:
                line = input(MORE if self.tty else "")
            except EOFError:  # the end of the input ends the prompt too
                break
            if line.strip() == END:
                break
            lines.append(line)
        return "\n".join(lines)

    def _more_waiting(self) -> bool:
        """More input already there, just after a line: it was pasted with it."""
        if not self.tty or os.name != "posix":
            return False
        try:
            return bool(select.select([sys.stdin], [], [], PASTE_GAP)[0])
        except (OSError, ValueError):
            return False

    def close(self) -> None:
        """Save the line history (credentials typed in a prompt are not kept)."""
        readline = self.readline
        if readline is None or self.history is None:
            return
        try:
            for index in range(readline.get_current_history_length()):
                item = readline.get_history_item(index + 1) or ""
                if any(secret in item for secret in self.secrets):
                    readline.replace_history_item(index, "")
            os.close(private_file(self.history))
            readline.write_history_file(str(self.history))
        except OSError as exc:
            report(f"cannot save the line history in {self.history}: {exc.strerror or exc}",
                   kind="warning")


def load_readline(history: Optional[Path]) -> Any:
    """The ``readline`` module with the saved history loaded, or None where there is none
    (Windows without pyreadline): lines are then read plainly."""
    try:
        import readline
    except ImportError:
        return None
    readline.set_history_length(HISTORY_LENGTH)
    if history is not None:
        try:
            readline.read_history_file(str(history))
        except (OSError, ValueError):  # none yet, or unreadable: start afresh
            pass
    return readline


class Commands:
    """The ``/`` commands of a session."""

    names = {"system": "system", "model": "model", "reset": "reset", "save": "save",
             "help": "help", "exit": "leave", "quit": "leave"}  # /name -> method

    def __init__(self, session: Session) -> None:
        self.session = session

    def run(self, line: str) -> bool:
        """Run one command line; False when it asks to leave."""
        name, _, argument = line[1:].strip().partition(" ")
        method = self.names.get(name.lower())
        if method is None:
            report(f"unknown command /{name} (/help lists them)")
            return True
        command: Callable[[str], bool] = getattr(self, method)
        return command(argument.strip())

    def say(self, text: str) -> None:
        self.session.printer.line(text)

    def system(self, text: str) -> bool:
        self.session.system = text or None
        self.say(f"system message: {text}" if text else "system message removed")
        return True

    def model(self, name: str) -> bool:
        if name:
            self.session.model = name
        self.say(f"model: {self.session.model}")
        return True

    def reset(self, _: str) -> bool:
        self.session.reset()
        self.say("conversation reset")
        return True

    def save(self, name: str) -> bool:
        if not name:
            report("/save needs a file name")
            return True
        path = Path(name).expanduser()
        try:
            self.session.save(path)
        except OSError as exc:
            report(f"cannot save to {path}: {exc.strerror or exc}")
        else:
            self.say(f"saved {len(self.session.messages)} messages to {path}")
        return True

    def help(self, _: str) -> bool:
        self.say(HELP)
        return True

    def leave(self, _: str) -> bool:
        return False


def run_interactive(session: Session, reader: LineReader, first: Optional[str] = None) -> int:
    """Chat until Ctrl-D, /exit or the end of the input; 0 (failed turns were reported)."""
    printer = session.printer
    commands = Commands(session)
    if reader.tty:
        earlier = len(session.messages)
        printer.line(f"chatmini chat with {session.model}"
                     + (f", continuing ({earlier} earlier messages)" if earlier else "")
                     + ". /help for commands, Ctrl-D to leave.")
    hinted = False
    try:
        if first is not None:
            note(session, session.turn(first))
        while True:
            try:
                text = reader.read()
            except EOFError:  # Ctrl-D
                printer.write("\n" if reader.tty else "")
                return EXIT_OK
            except KeyboardInterrupt:  # Ctrl-C at the prompt: a fresh line
                printer.write("\n")
                if not hinted:
                    printer.line("(Ctrl-D or /exit to leave)")
                    hinted = True
                continue
            except UnicodeDecodeError:
                report("the input is not UTF-8 text; type it again")
                continue
            try:
                if text.startswith("/") and not text.startswith("//"):
                    if not commands.run(text):
                        return EXIT_OK
                elif text.strip():
                    note(session, session.turn(text[1:] if text.startswith("//") else text))
            except KeyboardInterrupt:  # outside a reply (a /save, the log write): stay
                printer.line()
    finally:
        reader.close()


def note(session: Session, outcome: str) -> None:
    if outcome == CANCELLED:
        session.printer.line("[reply cancelled]")
