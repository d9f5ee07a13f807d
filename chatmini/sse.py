"""Incremental WHATWG ``text/event-stream`` parser over bytes, tuned for OpenAI-style streams.

What it holds between reads is bounded by what it was fed, in bytes actually held: an
unterminated line is kept in one bytearray (not a bytes object per read: a line dripped a byte
at a time would cost ~40 bytes per byte), and the ``data`` lines of an event are joined into one
string every ``DATA_BLOCK`` lines (a string per line would cost ~50 bytes each, ten times the
``data: x`` they came from). ``held`` says how much that is, for the stream core's event-size
limit.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Iterator

__all__ = ["EventStreamParser", "ServerSentEvent", "arrivals", "iter_events"]

_BOM = b"\xef\xbb\xbf"
DATA_BLOCK = 64  # data lines of one event joined into one string this many at a time


class ServerSentEvent:
    """One dispatched server-sent event; slotted because the stream hot path creates many."""

    __slots__ = ("event", "data", "id", "retry")

    def __init__(
        self,
        event: str = "message",
        data: str = "",
        id: str | None = None,
        retry: int | None = None,
    ) -> None:
        self.event = event
        self.data = data
        self.id = id
        self.retry = retry

    def json(self) -> Any:
        """Decode ``data`` as JSON (OpenAI sends one JSON object per event)."""
        return json.loads(self.data)

    def __eq__(self, other: object) -> bool:
        """Compare all fields so events can be checked for equality in tests and callers."""
        if not isinstance(other, ServerSentEvent):
            return NotImplemented
        return (self.event, self.data, self.id, self.retry) == (
            other.event,
            other.data,
            other.id,
            other.retry,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, so unhashable

    def __repr__(self) -> str:
        """Show every field, eliding nothing, to make stream debugging straightforward."""
        return (
            f"ServerSentEvent(event={self.event!r}, data={self.data!r}, "
            f"id={self.id!r}, retry={self.retry!r})"
        )


class EventStreamParser:
    """Turn arbitrary byte chunks of an event stream into events, per the WHATWG rules."""

    __slots__ = (
        "_partial",
        "_start",
        "_blocks",
        "_held",
        "_last_cr",
        "_dirty",
        "_data",
        "_event",
        "_id_buf",
        "_last_event_id",
        "_retry",
        "_event_retry",
    )

    def __init__(self) -> None:
        self._partial = bytearray()  # the current unterminated line
        self._start = True  # still looking for a BOM at the very start of the stream
        self._last_cr = False  # previous feed ended in CR: a leading LF next is not a new line
        self._dirty = False  # a field line was seen since the last blank line
        self._data: list[str] = []  # the event's last data lines (fewer than DATA_BLOCK)
        self._blocks: list[str] = []  # its earlier data lines, DATA_BLOCK of them joined each
        self._held = 0  # characters of data lines held for the event
        self._event: str | None = None
        self._id_buf: str | None = None
        self._last_event_id: str | None = None
        self._retry: int | None = None
        self._event_retry: int | None = None

    @property
    def pending(self) -> bool:
        """Whether undispatched bytes or fields are buffered (i.e. EOF now means truncation)."""
        return bool(self._partial) or self._dirty

    @property
    def held(self) -> int:
        """Bytes held for the event not yet dispatched: its data lines (counted in characters)
        and the unterminated line."""
        return self._held + len(self._partial)

    @property
    def last_event_id(self) -> str | None:
        """The last event ID committed by a blank line, for a ``Last-Event-ID`` reconnect."""
        return self._last_event_id

    @property
    def retry(self) -> int | None:
        """The most recent valid ``retry`` value (reconnection time in ms), if any."""
        return self._retry

    def feed(self, data: bytes) -> list[ServerSentEvent]:
        """Consume ``data`` and return the events it completed, in order."""
        if (
            data[:6] == b"data: "
            and data.find(b"\n") == len(data) - 2
            and data[-1] == 10
            and not (self._start or self._partial or self._last_cr or self._dirty)
            and 13 not in data
        ):  # exactly one ``data: ...`` event, as a live stream delivers them: one per read
            return [ServerSentEvent("message", data[6:-2].decode("utf-8", "replace"), self._id_buf)]
        if not data:
            return []
        if self._start:
            head = bytes(self._partial) + data if self._partial else data
            if len(head) < 3 and _BOM.startswith(head):
                self._partial = bytearray(head)  # could still be a split BOM: wait for more
                return []
            self._start = False
            self._partial = bytearray()
            data = head[3:] if head.startswith(_BOM) else head
            if not data:
                return []
        if self._last_cr:
            self._last_cr = False
            if data[:1] == b"\n":  # second half of a CRLF split across feeds
                data = data[1:]
                if not data:
                    return []
        partial = self._partial
        if partial:
            partial += data  # amortised: no quadratic re-joining while no line end comes
            if 10 not in data and 13 not in data:  # int membership is a plain memchr
                return []
            data = bytes(partial)
            self._partial = bytearray()
        if 13 in data:
            if data[-1] == 13:
                self._last_cr = True
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        cut = data.rfind(b"\n") + 1
        if not cut:
            self._partial = bytearray(data)
            return []
        if cut != len(data):
            self._partial = bytearray(data[cut:])
            data = data[:cut]
        return self._lines(data.decode("utf-8", "replace"))

    def close(self) -> list[ServerSentEvent]:
        """Signal EOF; per spec an unterminated final event is dropped (see ``pending``)."""
        return []

    def _lines(self, text: str) -> list[ServerSentEvent]:
        """Process ``text`` made of complete LF-terminated lines; blocks split on blank lines."""
        if not self._dirty:
            # Fastest path: exactly one ``data: ...`` event, as a live stream usually delivers.
            end = len(text) - 2
            if text.find("\n") == end and text[:6] == "data: ":
                return [ServerSentEvent("message", text[6:end], self._id_buf)]
        out: list[ServerSentEvent] = []
        blocks = text.split("\n\n")
        last = blocks.pop()
        it = iter(blocks)
        if blocks and self._dirty:
            self._block(next(it), out)
        append = out.append
        event_id = self._id_buf
        for block in it:
            # Fast path: the whole event is a single ``data: ...`` line (OpenAI's shape).
            if block[:6] == "data: " and "\n" not in block:
                append(ServerSentEvent("message", block[6:], event_id))
            else:
                self._block(block, out)
                event_id = self._id_buf
        if last:
            line = self._line
            for raw in last[:-1].split("\n"):
                if raw:
                    line(raw)
                else:
                    self._dispatch(out)
        return out

    def _block(self, block: str, out: list[ServerSentEvent]) -> None:
        """Process the lines of one block, then the blank line that ended it."""
        line = self._line
        for raw in block.split("\n"):
            if raw:
                line(raw)
            else:
                self._dispatch(out)
        self._dispatch(out)

    def _line(self, line: str) -> None:
        """Apply one non-blank line: a comment or a ``field: value`` pair."""
        if line[0] == ":":
            return
        self._dirty = True
        colon = line.find(":")
        if colon < 0:
            field, value = line, ""
        else:
            field = line[:colon]
            value = line[colon + 1 :]
            if value[:1] == " ":
                value = value[1:]
        if field == "data":
            data = self._data
            data.append(value)
            self._held += len(value) + 1
            if len(data) == DATA_BLOCK:
                self._blocks.append("\n".join(data))
                self._data = []
        elif field == "event":
            self._event = value
        elif field == "id":
            if "\0" not in value:
                self._id_buf = value
        elif field == "retry":
            if value and value.isascii() and value.isdigit():
                self._retry = self._event_retry = int(value)

    def _dispatch(self, out: list[ServerSentEvent]) -> None:
        """Handle a blank line: emit the buffered event if it has data, then reset."""
        self._last_event_id = self._id_buf
        if self._data or self._blocks:
            lines = self._blocks
            if self._data:
                lines.append("\n".join(self._data))
            out.append(
                ServerSentEvent(
                    self._event or "message", "\n".join(lines), self._id_buf, self._event_retry
                )
            )
            self._data, self._blocks, self._held = [], [], 0
        self._event = None
        self._event_retry = None
        self._dirty = False


def iter_events(chunks: Iterable[bytes]) -> Iterator[ServerSentEvent]:
    """Yield events parsed from an iterable of byte chunks (e.g. ``iter_content``)."""
    parser = EventStreamParser()
    for chunk in chunks:
        yield from parser.feed(chunk)
    yield from parser.close()


def arrivals(
    reads: Iterable[tuple[float, list[ServerSentEvent]]],
) -> Iterator[tuple[float, int]]:
    """``(time, count)`` per read of ``chatmini_stream_reads``' ``reads`` that brought events
    with data: the final ``[DONE]`` is not counted, and a read of ``[DONE]`` alone is left out
    (what timing plugins count as chunks)."""
    for at, events in reads:
        count = len(events) - (events[-1].data == "[DONE]")
        if count > 0:
            yield at, count
