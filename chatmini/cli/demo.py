"""``chatmini demo``: a short narrated tour against the embedded server (no key, no network)."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

from ..client import Client
from ..errors import ChatminiError
from ..hookspecs import hookimpl
from ..shortcuts import ask
from ..testing import Reply, Server
from .report import EXIT_OK

if TYPE_CHECKING:
    import requests

    from ..request import Request

DEMO_KEY = "sk-demo-not-a-real-key"  # the embedded server accepts anything
MODEL = "gpt-4o-mini"


class DemoPlugin:
    """A tiny plugin: tags each attempt with ``X-Demo: 1`` and narrates attempts and the end."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    @hookimpl
    def chatmini_prepare_request(self, request: Request) -> None:
        request.headers["X-Demo"] = "1"

    @hookimpl
    def chatmini_after_attempt(
        self, request: Request, response: requests.Response | None, error: ChatminiError | None
    ) -> None:
        outcome = f"HTTP {response.status_code}" if response is not None else type(error).__name__
        say(self.out, f"   [plugin] attempt {request.attempt}: {outcome}")

    @hookimpl
    def chatmini_call_end(self, error: ChatminiError | None) -> None:
        say(self.out, f"   [plugin] call ended: {'ok' if error is None else type(error).__name__}")


def say(out: TextIO, text: str = "") -> None:
    """Print one line at once, so the tour reads live even when piped."""
    out.write(text + "\n")
    out.flush()


def run_demo(out: TextIO | None = None) -> int:
    """Start the embedded server, walk through five features, stop it; 0 when all went well."""
    out = out or sys.stdout
    started = time.perf_counter()
    with Server() as server:
        say(out, "chatmini demo: an embedded OpenAI-compatible server, no key, no network")
        say(out, f"server: {server.base_url}")
        with Client(DEMO_KEY, base_url=server.base_url, load_entry_points=False) as client:
            plain_call(out, client)
            streamed_call(out, client, server)
            rate_limited_call(out, client, server)
            with Client(
                DEMO_KEY, base_url=server.base_url, load_entry_points=False,
                plugins=[DemoPlugin(out)],
            ) as plugged:
                plugin_call(out, plugged, server)
            failing_call(out, client, server)
    say(out)
    say(out, f"Done in {time.perf_counter() - started:.1f} s.")
    return EXIT_OK


def plain_call(out: TextIO, client: Client) -> None:
    """1: one blocking call, the whole reply at once."""
    say(out)
    say(out, "1. A plain call: client.chat.completions.create(model=..., messages=[...])")
    say(out, f"   reply: {ask('Hello, chatmini!', model=MODEL, client=client)}")


def streamed_call(out: TextIO, client: Client, server: Server) -> None:
    """2: a streamed reply printed piece by piece (the server pauses midway to show it)."""
    say(out)
    say(out, "2. A streamed reply (stream=True), printed as it arrives")
    server.enqueue(Reply(pause_after=3, pause=0.3))
    messages = [{"role": "user", "content": "streams arrive one piece at a time"}]
    out.write("   reply: ")
    with client.chat.completions.create(model=MODEL, messages=messages, stream=True) as stream:
        for piece in stream.text_deltas():
            out.write(piece)
            out.flush()
    say(out, f"\n   ({stream.chunk_count} chunks, completed={stream.completed})")


def rate_limited_call(out: TextIO, client: Client, server: Server) -> None:
    """3: a 429 with Retry-After, retried by the client without the caller noticing."""
    say(out)
    say(out, "3. A 429 with Retry-After: 0.5 (scripted once), retried automatically")
    server.enqueue(Reply(status=429, headers={"Retry-After": "0.5"}))
    before = len(server.requests)
    started = time.perf_counter()
    text = ask("Are you there?", model=MODEL, client=client)
    elapsed = time.perf_counter() - started
    attempts = len(server.requests) - before
    say(out, f"   reply: {text}")
    say(out, f"   {attempts} attempts in {elapsed:.2f} s (the server asked to wait 0.5 s)")


def plugin_call(out: TextIO, client: Client, server: Server) -> None:
    """4: a custom plugin adds a header and narrates each attempt through the hooks."""
    say(out)
    say(out, "4. A plugin at work: Client(..., plugins=[DemoPlugin()]), one 503 scripted")
    server.enqueue(Reply(status=503, headers={"Retry-After": "0.1"}))
    text = ask("Plugins see every attempt", model=MODEL, client=client)
    say(out, f"   reply: {text}")
    say(out, f"   the server saw X-Demo: {server.requests[-1].headers.get('X-Demo')}")


def failing_call(out: TextIO, client: Client, server: Server) -> None:
    """5: an HTTP error becomes a typed exception with the server's message."""
    say(out)
    say(out, "5. An error: a scripted 401 becomes a typed exception")
    server.enqueue(Reply(status=401))
    try:
        ask("Let me in", model=MODEL, client=client)
    except ChatminiError as exc:
        status: Any = getattr(exc, "status_code", "?")
        say(out, f"   {type(exc).__name__} (status {status}): {exc}")
    else:
        say(out, "   unexpected: the call succeeded")
