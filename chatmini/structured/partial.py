"""The JSON value of a streamed text so far: ``{"steps": [{"a": 1}, {"b": "hal`` reads as
``{"steps": [{"a": 1}, {"b": "hal"}]}``.

Correct, not optimistic: the result holds only what the text has settled. Complete values are
kept; the last string is kept as far as it goes (an escape cut in half is left out); a number
or ``true``/``false``/``null`` still being written is left out until a delimiter ends it
(``12`` may become ``123``), and so is a key without its value. Open objects and arrays are
closed. Cheap: the scanner goes over each character once however often the value is read (it
keeps its state between reads), and a read costs one ``json.loads`` of the settled prefix.
"""

from __future__ import annotations

import json
import re
from typing import Any, Optional

_PLAIN = re.compile(r'[^"\\]+')  # a run of string content without quote or escape
_SPACE = re.compile(r"\s+")
_BARE = re.compile(r"[^\s,\]}:\[{\"]+")  # a number or true/false/null
_HIGH = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}$")  # a surrogate half waiting for its pair
_CLOSE = {"{": "}", "[": "]"}


class PartialJSON:
    """Feed text as it arrives (``add``); ``value()`` is what it settles so far (None before
    anything has)."""

    __slots__ = ("_parts", "_text", "_pos", "_stack", "_phase", "_string", "_cut",
                 "_closers", "_value", "_valued_at")

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._text = ""
        self._pos = 0  # scanned up to here
        self._stack: list[str] = []  # the open containers
        self._phase = "value"  # what comes next: value, key, colon, comma
        self._string: Optional[tuple[int, bool]] = None  # an open string: (start, is_key)
        self._cut = 0  # the settled prefix is text[:cut] + closers
        self._closers = ""
        self._value: Any = None
        self._valued_at: Any = None  # what the last good value was read from

    def add(self, piece: str) -> None:
        self._parts.append(piece)

    def value(self) -> Any:
        if self._parts:
            self._text += "".join(self._parts)
            self._parts.clear()
            self._scan()
        text = self._text
        if self._string is not None and not self._string[1]:  # a value string, cut short
            start = self._string[0]
            candidate = (text[:start] + '"' + _HIGH.sub("", text[start + 1:self._pos]) + '"'
                         + self._closing())
            key = (start, self._pos)
        else:
            candidate = text[:self._cut] + self._closers
            key = (self._cut, -1)
        if key != self._valued_at and candidate.strip():
            try:
                self._value = json.loads(candidate)
                self._valued_at = key
            except (ValueError, RecursionError):  # not JSON after all: keep the last good value
                pass
        return self._value

    def _closing(self) -> str:
        return "".join(_CLOSE[c] for c in reversed(self._stack))

    def _settle(self, at: int) -> None:
        """A value ended (or a container opened) at ``at``: the text up to here is settled."""
        self._cut = at
        self._closers = self._closing()
        self._phase = "comma" if self._stack else "done"

    def _scan(self) -> None:
        text, end = self._text, len(self._text)
        pos = self._pos
        while pos < end:
            if self._string is not None:
                pos = self._in_string(text, pos, end)
                if self._string is not None:
                    break  # the string goes on in the next piece
                continue
            char = text[pos]
            if char in " \t\r\n":
                pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
            elif char == '"':
                self._string = (pos, self._phase == "key")
                pos += 1
            elif char in "{[":
                self._stack.append(char)
                pos += 1
                self._settle(pos)
                self._phase = "key" if char == "{" else "value"
            elif char in "}]":
                if self._stack:
                    self._stack.pop()
                pos += 1
                self._settle(pos)
            elif char == ":":
                self._phase = "value"
                pos += 1
            elif char == ",":
                self._phase = "key" if self._stack and self._stack[-1] == "{" else "value"
                pos += 1
            else:
                token = _BARE.match(text, pos)
                stop = token.end() if token else pos + 1
                if stop >= end:
                    break  # may go on: 12 -> 123, tru -> true
                pos = stop
                self._settle(pos)
        self._pos = pos

    def _in_string(self, text: str, pos: int, end: int) -> int:
        """Scan string content from ``pos``: the position after the closing quote (and the
        string closed), or where the content stops being safe to cut (an escape in half)."""
        assert self._string is not None
        while pos < end:
            run = _PLAIN.match(text, pos)
            if run:
                pos = run.end()
                continue
            char = text[pos]
            if char == '"':
                start, is_key = self._string
                self._string = None
                pos += 1
                if is_key:
                    self._phase = "colon"
                else:
                    self._settle(pos)
                return pos
            size = 6 if text[pos + 1:pos + 2] == "u" else 2  # a backslash escape
            if pos + size > end:
                return pos
            pos += size
        return pos
