"""What every ``chatmini`` command shares on its way out: the program name, the exit statuses,
and its lines on stderr (one line per message, never a traceback, never the API key).

Commands import from here and nothing imports the commands back, so the command line has one
direction: ``app`` (the parser) -> the commands -> this module.
"""

from __future__ import annotations

import sys
from typing import Iterable

PROG = "chatmini"
EXIT_OK = 0
EXIT_ERROR = 1  # a request failed, or a file could not be used
EXIT_USAGE = 2  # a bad command line (argparse's own status)
EXIT_INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as shells report it


class UsageError(Exception):
    """A command line that cannot run as given (conflicting options, an unavailable --api):
    reported as one line, exit status EXIT_USAGE."""


def report(message: str, secret: str | Iterable[str] | None = None, kind: str = "error") -> None:
    """One ``chatmini: error:`` (or warning) line on stderr, the API key (or each of several
    credentials) blanked if present."""
    for value in [secret] if isinstance(secret, str) else secret or ():
        if value:
            message = message.replace(value, "<redacted>")
    stderr_line(f"{kind}: {' '.join(message.split())}")


def stderr_line(text: str, prog: str = PROG) -> None:
    """``prog: text`` on stderr, flushed at once (a command's closing summary)."""
    sys.stderr.write(f"{prog}: {text}\n")
    sys.stderr.flush()


def usage_status(exit_: SystemExit) -> int:
    """The exit status argparse asked for: 0 after --help or --version, else EXIT_USAGE."""
    return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
