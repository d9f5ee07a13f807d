"""What the terminal gives and takes: server text printed without ever failing, reasoning dimmed,
and Ctrl-C turned into cancelling the reply being read.

Servers send text that cannot be printed: a lone surrogate (``"\\ud83d"``, half an emoji split
by a JavaScript server) makes every UTF-8 encoder fail, and a terminal in an 8-bit encoding
cannot show most of Unicode. ``Printer`` replaces such characters and says so once on stderr;
``json_text`` keeps them exact as ``\\uXXXX`` escapes instead.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from typing import Any, Optional, TextIO

from ..jsoncodec import REPLACEMENT, SURROGATE, escape_surrogates, without_surrogates
from .report import report

DIM, NORMAL = "\x1b[2m", "\x1b[0m"


def is_terminal(stream: Any) -> bool:
    """Whether ``stream`` is a terminal (False for None, closed streams and bare objects)."""
    try:
        return bool(stream is not None and stream.isatty())
    except (ValueError, AttributeError):
        return False


def wants_color(out: TextIO) -> bool:
    """Styles only for a terminal, never with NO_COLOR set (no-color.org) or TERM=dumb."""
    return (is_terminal(out) and not os.environ.get("NO_COLOR")
            and os.environ.get("TERM") != "dumb")


def json_text(data: Any, indent: Optional[int] = 2) -> str:
    """``data`` as JSON, lone surrogates kept as ``\\uXXXX`` escapes: exact, and encodable in
    UTF-8 (``ensure_ascii=False`` alone would leave them raw, and writing them would fail)."""
    return escape_surrogates(json.dumps(data, indent=indent, ensure_ascii=False))


class Printer:
    """Writes to one stream (stdout) text that came from a server or a file: never fails on
    what it is given, dims reasoning on a terminal, and knows whether a line is open."""

    def __init__(self, out: TextIO, color: Optional[bool] = None) -> None:
        self.out = out
        self.color = wants_color(out) if color is None else color
        self.at_line_start = True
        self.reasoning = False  # the text written last was reasoning
        self.used = False  # anything written at all
        self._warned: set[str] = set()
        self._pending: list[str] = []  # warnings held until the line ends

    def clean(self, text: str) -> str:
        """``text`` with lone surrogates replaced by U+FFFD (said once on stderr)."""
        if SURROGATE.search(text) is None:
            return text
        self.warn_once("surrogate", "the server sent text with lone surrogates (invalid "
                       f"Unicode, e.g. half an emoji); they are shown as {REPLACEMENT}")
        return without_surrogates(text)

    def write(self, text: str) -> None:
        """Write ``text`` (cleaned) and flush, so a streamed piece shows at once."""
        self._write(self.clean(text))

    def _write(self, text: str) -> None:
        if not text:
            return
        try:
            self.out.write(text)
        except UnicodeEncodeError as exc:  # e.g. an ASCII or Latin-1 terminal
            encoding = getattr(self.out, "encoding", None) or exc.encoding  # cp1252: "charmap"
            self.warn_once("encoding", f"some characters cannot be shown in this terminal's "
                           f"encoding ({encoding}); they are shown as ?")
            self.out.write(text.encode(encoding, "replace").decode(encoding, "replace"))
        self.out.flush()
        self.used = True
        self.at_line_start = text.endswith("\n")

    def piece(self, text: str, reasoning: bool = False) -> None:
        """One piece of a reply: reasoning dimmed (on a terminal), then a blank line before
        the answer that follows it."""
        if reasoning != self.reasoning:
            if self.reasoning:  # reasoning is over: back to normal, one blank line
                self._write((NORMAL if self.color else "") + ("\n" if self.at_line_start
                                                              else "\n\n"))
            elif self.color:
                self._write(DIM)
            self.reasoning = reasoning
        self.write(text)

    def end_line(self) -> None:
        """End the reply: normal style again, and a newline unless one was just written."""
        if self.reasoning:
            self.reasoning = False
            if self.color:
                self._write(NORMAL)
        if not self.at_line_start:
            self._write("\n")
        pending, self._pending = self._pending, []
        for message in pending:
            report(message, kind="warning")

    def line(self, text: str = "") -> None:
        """One whole line (a command's answer)."""
        self.end_line()
        self.write(text + "\n")

    def warn_once(self, kind: str, message: str) -> None:
        """One warning on stderr per kind of problem, however often it happens; held until
        the line ends when a reply is being printed (a terminal shows both streams)."""
        if kind not in self._warned:
            self._warned.add(kind)
            if self.at_line_start and not self.reasoning:
                report(message, kind="warning")
            else:
                self._pending.append(message)


class CancelGuard:
    """Ctrl-C while a reply is read: the first one raises KeyboardInterrupt where the program
    is (a blocked read included); those that come while the reply is being closed are ignored,
    so the connection is always closed, never left half-read for reuse.

    Use as a context manager around the reply, and ``arm()``/``disarm()`` around the part that
    may be cancelled. Outside the main thread no handler can be installed; a KeyboardInterrupt
    raised there anyway is handled the same way by the caller.
    """

    def __init__(self) -> None:
        self.armed = False
        self._previous: Any = None
        self._installed = False

    def _handle(self, signum: int, frame: Any) -> None:
        if self.armed:
            self.armed = False
            raise KeyboardInterrupt

    def arm(self) -> None:
        self.armed = True

    def disarm(self) -> None:
        self.armed = False

    def __enter__(self) -> CancelGuard:
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if previous is not signal.SIG_IGN:  # ignored (nohup, background): leave it so
                self._previous = signal.signal(signal.SIGINT, self._handle)
                self._installed = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.armed = False
        if self._installed:
            previous = self._previous
            signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)
            self._installed = False
