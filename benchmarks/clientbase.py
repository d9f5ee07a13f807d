"""What every client under test shares: the request it makes and the interface it offers.

``call()`` makes one non-streamed chat completion and returns its text; ``stream()`` reads a
streamed reply to the end and returns how many chunks it parsed; ``ttft()`` times one short
stream from request start to the first chunk carrying content, then drains the rest so the
kept-alive connection stays usable. Every client keeps one connection open across calls.
"""

from __future__ import annotations

from typing import Any

MODEL = "gpt-4o-mini"
MESSAGES = [{"role": "user", "content": "hi"}]
BODY: dict[str, Any] = {"model": MODEL, "messages": MESSAGES}
STREAM_BODY: dict[str, Any] = {**BODY, "stream": True}
AUTH = {"Authorization": "Bearer k"}
HEADERS = {"Content-Type": "application/json", **AUTH}
EXPECTED_TEXT = "echo: hi"
OPENAI_MISSING = "openai not installed (pip install chatmini[bench])"
CHATMINI = "chatmini"
READING = "chatmini, reads delta.content"
ORJSON = "chatmini + orjson, reads delta.content"
OPENAI = "openai"
BARE = "bare http.client (read1 + split)"
REQUESTS = "requests (iter_lines loop)"
URLLIB3 = "urllib3 (stream() loop)"
FLOOR = "requests HTTPAdapter.send (chatmini's floor)"


class Adapter:
    """One client under test (the interface every adapter implements)."""

    name = "?"

    def call(self) -> str:
        """One non-streamed completion; returns the reply text."""
        raise NotImplementedError

    def stream(self) -> int:
        """One streamed completion read to the end; returns the number of chunks parsed."""
        raise NotImplementedError

    def ttft(self) -> float:
        """Seconds from request start to the first chunk with non-empty content."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the client's connections."""
