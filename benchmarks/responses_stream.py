"""b6. A Responses API stream: events/s and client CPU per event for chatmini, openai and a bare
http.client loop. The server runs in its own process (``ServerProcess``) and writes each event
as its own HTTP chunk, as api.openai.com does; the long reply is the server's echo of a long
``input`` (one ``response.output_text.delta`` per word)."""

from __future__ import annotations

import gc
import time
from typing import Any
from urllib.parse import urlsplit

from adapters import OPENAI_MISSING, openai_installed
from harness import Panel, Table, median, ratio_cell, round_robin, spread
from loops import Bare, count_events

import chatmini
from chatmini.testing.process import ServerProcess

MODEL = "gpt-4o-mini"
BASE, OPENAI = "chatmini", "openai"
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


class BareResponses(Bare):
    """The floor: the minimal loop of the chat sections (one kept-alive HTTPConnection,
    ``read1`` + split, ``json.loads`` per data line) on the Responses path."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.path = urlsplit(base_url).path + "/responses"

    def stream(self, text: str) -> int:  # type: ignore[override]
        return count_events(self._pieces({"model": MODEL, "input": text, "stream": True}))


def bench_responses_stream(ctx: Any) -> Table:
    """b6. Events/s and client CPU per event of one long Responses stream."""
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
        f"b6. Responses API stream: one {expected:,}-event reply, one event per HTTP chunk, "
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
        "type; the bare loop reads with `read1`, splits lines and `json.loads` each data line."
    )
    if not openai_installed():
        table.notes.append(f"openai row skipped: {OPENAI_MISSING}.")
    table.panels.append(Panel("Responses stream: client CPU per event", "µs",
                              {name: median(r["cpu"]) for name, r in res.items()}))
    return table
