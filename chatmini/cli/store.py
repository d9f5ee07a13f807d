"""Conversations kept across invocations: one JSONL file per conversation, one line per turn,
in the user's data directory as the platform has it (XDG_DATA_HOME or ~/.local/share on
Linux and other POSIX systems, ~/Library/Application Support on macOS, %APPDATA% on Windows).

Each line holds one turn: its time, model, system message, prompt and reply (and reasoning,
or ``"cancelled": true`` when Ctrl-C cut the reply). Nothing else is written: no header, no
URL, no key; a key that appears in the text itself is replaced by ``<redacted>``. The
directory is private to the user (0700, files 0600).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Optional

from ..redaction import scrub_values
from .terminal import json_text

APP_DIR = "chatmini"
SUFFIX = ".jsonl"


def data_dir() -> Path:
    """chatmini's directory in the user's data directory (created only when written to)."""
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:  # the XDG base directory spec: a relative XDG_DATA_HOME is invalid, so ignored
        xdg = os.environ.get("XDG_DATA_HOME", "")
        base = Path(xdg) if os.path.isabs(xdg) else home / ".local" / "share"
    return base / APP_DIR


def conversations_dir() -> Path:
    return data_dir() / "conversations"


def private_file(path: Path) -> int:
    """A descriptor appending to ``path`` (in chatmini's data directory), created 0600 in
    0700 directories when new."""
    data_dir().mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)


def new_id() -> str:
    """``20260509-141502-034527``: the start time to the microsecond, so ids sort by it."""
    now = time.time()
    return time.strftime("%Y%m%d-%H%M%S", time.localtime(now)) + f"-{int(now % 1 * 1e6):06d}"


class ConversationLog:
    """One conversation's file, created with its first turn; ``secrets`` are scrubbed from
    every text written."""

    def __init__(self, directory: Path, ident: Optional[str] = None,
                 secrets: Iterable[Optional[str]] = ()) -> None:
        self.directory = directory
        self.ident = ident or new_id()
        self.secrets = [s for s in secrets if s]

    @property
    def path(self) -> Path:
        return self.directory / (self.ident + SUFFIX)

    def restart(self) -> None:
        """Later turns go to a new conversation (``/reset``)."""
        self.ident = new_id()

    def append(self, turn: dict[str, Any]) -> None:
        """Write one turn as one line (one write call, so a crash leaves whole lines)."""
        record = {key: scrub_values(value, self.secrets) if type(value) is str else value
                  for key, value in turn.items()}
        line = (json_text(record, indent=None) + "\n").encode("utf-8")
        descriptor = private_file(self.path)
        try:
            os.write(descriptor, line)
        finally:
            os.close(descriptor)


def turn_record(model: str, system: Optional[str], prompt: str, reply: str,
                reasoning: str = "", cancelled: bool = False) -> dict[str, Any]:
    """The line written for one turn."""
    record: dict[str, Any] = {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "model": model}
    if system:
        record["system"] = system
    record.update(prompt=prompt, reply=reply)
    if reasoning:
        record["reasoning"] = reasoning
    if cancelled:
        record["cancelled"] = True
    return record


def read_turns(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The turns of a conversation file, and how many lines could not be read (a line cut by
    a crash, or edited by hand)."""
    turns, unreadable = [], 0
    with open(path, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if not line.strip():
                continue
            try:
                turn = json.loads(line)
            except ValueError:
                turn = None
            if (type(turn) is dict and type(turn.get("prompt")) is str
                    and type(turn.get("reply")) is str and type(turn.get("model")) is str):
                turns.append(turn)
            else:
                unreadable += 1
    return turns, unreadable


def recent(directory: Path, count: int) -> list[Path]:
    """The ``count`` conversations written to last, oldest first (none: an empty list)."""
    try:
        found = [(entry.stat().st_mtime, entry.name, entry) for entry in directory.iterdir()
                 if entry.name.endswith(SUFFIX) and entry.is_file()]
    except FileNotFoundError:
        return []
    return [entry for _, _, entry in sorted(found)[-count:]] if count > 0 else []


def messages_of(turns: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The chat messages the turns stand for (a reply cancelled before any text has none)."""
    messages = []
    for turn in turns:
        messages.append({"role": "user", "content": turn["prompt"]})
        if turn["reply"]:
            messages.append({"role": "assistant", "content": turn["reply"]})
    return messages
