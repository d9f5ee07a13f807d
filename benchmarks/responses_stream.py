"""b3. A Responses API stream: events/s and client CPU per event for chatmini, openai and a bare
http.client loop. The server runs in its own process (``ServerProcess``) and writes each event
as its own HTTP chunk, as api.openai.com does; the long reply is the server's echo of a long
``input`` (one ``response.output_text.delta`` per word)."""

from __future__ import annotations

import gc
import http.client
import json
import time
from typing import Any
from urllib.parse import urlsplit

from adapters import OPENAI_MISSING, openai_installed
from harness import Panel, Table, median, ratio_cell, round_robin, spread

import chatmini
from chatmini.testing.process import ServerProcess

MODEL = "gpt-4o-mini"
BASE, OPENAI, BARE = "chatmini", "openai", "bare http.client"
FRAMING = 8  # created, in_progress, item added/done, part added/done, text done, completed


class ChatminiResponses:
    name = BASE

    def __init__(self, base_url: str) -> None:
        self.client = chatmini.Client(api_key="k", base_url=base_url)

    def stream(self, text: str) -> int:
        n = 0
        for event in self.client.responses.create(model=MODEL, input=text, stream=True):
            event.type  # noqa: B018 - what every loop over events reads
            n += 1
        return n

    def close(self) -> None:
        self.client.close()


class OpenAIResponses(ChatminiResponses):
    name = OPENAI

    def __init__(self, base_url: str) -> None:
        import openai

        self.client = openai.OpenAI(api_key="k", base_url=base_url)  # type: ignore[assignment]


class BareResponses:
    """The floor: one kept-alive HTTPConnection, a readline loop, json.loads per data line."""

    name = BARE

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port)
        self.path = parts.path + "/responses"

    def stream(self, text: str) -> int:
        body = json.dumps({"model": MODEL, "input": text, "stream": True}).encode()
        self.conn.request("POST", self.path, body, {
            "Content-Type": "application/json", "Authorization": "Bearer k"})
        response = self.conn.getresponse()
        readline, loads, n = response.readline, json.loads, 0
        while True:
            line = readline()
            if not line:
                return n
            if line.startswith(b"data: "):
                loads(line[6:])["type"]  # noqa: B018
                n += 1

    def close(self) -> None:
        self.conn.close()


def bench_responses_stream(ctx: Any) -> Table:
    """b3. Events/s and client CPU per event of one long Responses stream."""
    s = ctx.settings
    words = s.chunks
    text, expected = "w " * (words - 1), words + FRAMING  # "echo: " is one more delta
    with ServerProcess() as server:
        kinds = [ChatminiResponses]
        if openai_installed():
            kinds.append(OpenAIResponses)
        clients: list[Any] = [kind(server.base_url) for kind in kinds]
        clients.append(BareResponses(server.base_url))
        by_name = {c.name: c for c in clients}
        try:
            for c in clients:
                if c.stream("a b c") != 4 + FRAMING:
                    raise RuntimeError(f"{c.name} miscounted a short Responses stream")

            def measure(name: str) -> dict[str, float]:
                gc.collect()
                opened = server.stats()["connections"]
                cpu0, wall0 = time.thread_time(), time.perf_counter()
                count = by_name[name].stream(text)
                wall, cpu = time.perf_counter() - wall0, time.thread_time() - cpu0
                if count != expected:
                    raise RuntimeError(f"{name} parsed {count} events, expected {expected}")
                return {"rate": count / wall, "cpu": cpu / count * 1e6,
                        "conns": server.stats()["connections"] - opened}

            res = round_robin(list(by_name), s.rounds, measure)
        finally:
            for c in clients:
                c.close()
    table = Table(
        f"b3. Responses API stream: one {expected:,}-event reply, one event per HTTP chunk, "
        f"server in its own process ({s.rounds} rounds)",
        ["client", "events/s", "client CPU µs/event", "CPU × chatmini", "new connections"],
    )
    for name, r in res.items():
        table.rows.append([name, spread(r["rate"]), spread(r["cpu"]),
                           ratio_cell(r["cpu"], res[BASE]["cpu"]), str(int(sum(r["conns"])))])
    table.notes.append(
        "events/s = events ÷ wall time from the request's start to the terminal event "
        "(`response.completed`, no `[DONE]`), including the server's own work in its process; "
        "CPU is `time.thread_time()` of the reading thread. Every client reads each event's "
        "type; the bare loop `json.loads` each `data:` line of a chunked body."
    )
    if not openai_installed():
        table.notes.append(f"openai row skipped: {OPENAI_MISSING}.")
    table.panels.append(Panel("Responses stream: client CPU per event", "µs",
                              {name: median(r["cpu"]) for name, r in res.items()}))
    return table
