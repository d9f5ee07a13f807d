"""The streaming sections: one long stream and time to first token, on both framings of the
test server (each event its own HTTP chunk, as real servers send; and all of them in one write),
and many streams at once.

The server runs in its own process, so its work neither shares this process's GIL nor counts
as client CPU. Clients take turns round-robin; ratios are paired within each round.
"""

from __future__ import annotations

import gc
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from adapters import (
    BARE,
    OPENAI,
    READING,
    Adapter,
    Bare,
    ChatminiReadingContent,
    OpenAI,
    openai_installed,
)
from harness import Panel, Table, Target, diffs, median, ratio_cell, round_robin, spread
from sections import Context, count, medians, ratio_target, with_openai_note

from chatmini.testing import Reply
from chatmini.testing.replies import COALESCED, PER_EVENT

FRAMING_TITLES = {
    PER_EVENT: "each event its own HTTP chunk, as real servers send",
    COALESCED: "all events in one write (one read), the old test-server framing",
}
OPENAI_RECONNECTS = (
    "openai opens a new connection for every stream: its Stream stops at `[DONE]` and closes "
    "the response before the chunked terminator is read, so the connection is not reused "
    "(its TTFT includes a TCP connect)."
)
STREAMS = 16  # concurrent streams
STREAM_CHUNKS = 2_000  # content chunks in each

# Client CPU per chunk reading delta.content on the coalesced framing, measured on this machine
# before the per-event work of issue 17: the old framing's no-regression bound.
COALESCED_BEFORE = 5.27


def stream_section(letter: str, framing: str) -> Callable[[Context], Table]:
    """b. Chunks/s and client CPU for one long reply, on one framing."""

    def bench(ctx: Context) -> Table:
        s, server = ctx.settings, ctx.servers[framing]
        adapters = ctx.clients(framing, stream_variants=True)
        by_name = {a.name: a for a in adapters}
        expected = s.chunks + 2  # role chunk + content chunks + finish chunk
        for adapter in adapters:
            server.enqueue(Reply(chunks=10))
            if adapter.stream() != 12:
                raise RuntimeError(f"{adapter.name} miscounted a short stream")

        def measure(name: str) -> dict[str, float]:
            return timed_stream(server, by_name[name], Reply(chunks=s.chunks), expected, s.chunks)

        res = round_robin(list(by_name), s.rounds, measure)
        table = Table(
            f"{letter}. Streaming, {FRAMING_TITLES[framing]}: one {s.chunks:,}-chunk reply "
            f"({s.rounds} rounds)",
            ["client", "chunks/s", "chunks/s × bare", "wall ms", "client CPU µs/chunk",
             "CPU × bare", "server CPU µs/chunk", "new connections"],
        )
        bare = res[BARE]
        for name, r in res.items():
            table.rows.append([
                name, spread(r["rate"]), ratio_cell(r["rate"], bare["rate"]), spread(r["wall"]),
                spread(r["cpu"]), ratio_cell(r["cpu"], bare["cpu"]), spread(r["server"]),
                count(r["conns"]),
            ])
        table.notes.append(
            "chunks/s = content chunks ÷ wall time from the request's start to the last chunk. "
            "Client CPU is `time.thread_time()`; server CPU is the server process's, all "
            "threads. 'chatmini' only iterates; the 'reads delta.content' rows also read "
            "`chunk.choices[0].delta.content` of each chunk, as ported openai code does (the "
            "target row); the minimal loops split lines and `json.loads` each event. chatmini "
            "rows decode JSON with the standard library unless they say orjson."
        )
        if ctx.has_openai:
            table.notes.append(OPENAI_RECONNECTS)
        if framing == PER_EVENT:
            table.targets += [
                ratio_target("streaming chunks/s, one event per chunk", res, "rate", READING,
                             BARE, 0.75, True),
                ratio_target("streaming chunks/s, one event per chunk", res, "rate", READING,
                             OPENAI, 15, True),
                Target("client CPU per chunk, one event per chunk", "≤ 9 µs",
                       f"{median(res[READING]['cpu']):.2f} µs", median(res[READING]["cpu"]) <= 9),
            ]
        else:  # the old framing must not regress
            table.targets.append(Target(
                "client CPU per chunk, all events in one write", f"≤ {COALESCED_BEFORE} µs",
                f"{median(res[READING]['cpu']):.2f} µs",
                median(res[READING]["cpu"]) <= COALESCED_BEFORE))
        table.panels.append(Panel(f"Streaming, {framing} framing", "thousand chunks/s",
                                  medians(res, "rate", 1e-3), higher_is_better=True))
        return with_openai_note(ctx, table)

    bench.__name__ = f"bench_stream_{framing.replace('-', '_')}"
    return bench


def timed_stream(server: Any, adapter: Adapter, reply: Reply, expected: int,
                 counted: int) -> dict[str, float]:
    """One streamed ``reply`` read by ``adapter``, timed: chunks/s, wall ms, client and server
    CPU per ``counted`` chunk, new connections; fails loudly unless it parsed ``expected``."""
    server.enqueue(reply)
    before = server.stats()
    gc.collect()
    cpu0, wall0 = time.thread_time(), time.perf_counter()
    got = adapter.stream()
    wall, cpu = time.perf_counter() - wall0, time.thread_time() - cpu0
    after = server.stats()
    if got != expected or after["pending"]:
        raise RuntimeError(f"{adapter.name} parsed {got} chunks, expected {expected}")
    return {"rate": counted / wall, "wall": wall * 1e3, "cpu": cpu / counted * 1e6,
            "server": (after["cpu_seconds"] - before["cpu_seconds"]) / counted * 1e6,
            "conns": after["connections"] - before["connections"]}


def ttft_section(letter: str, framing: str) -> Callable[[Context], Table]:
    """b. Time to first token of a short stream, and its overhead over the bare loop."""

    def bench(ctx: Context) -> Table:
        s, server = ctx.settings, ctx.servers[framing]
        by_name = {a.name: a for a in ctx.clients(framing)}

        def sample(adapter: Adapter) -> float:
            server.enqueue(Reply(chunks=s.ttft_chunks))
            return adapter.ttft()

        def measure(name: str) -> dict[str, float]:
            adapter = by_name[name]
            for _ in range(3):
                sample(adapter)
            gc.collect()
            opened = ctx.connections(framing)
            ttft = median([sample(adapter) for _ in range(s.ttft_samples)]) * 1e3
            return {"ttft": ttft, "conns": ctx.connections(framing) - opened}

        res = round_robin(list(by_name), s.rounds, measure)
        table = Table(
            f"{letter}. Time to first token, {FRAMING_TITLES[framing]}: {s.ttft_chunks}-chunk "
            f"stream, median of {s.ttft_samples} per client per round ({s.rounds} rounds)",
            ["client", "TTFT ms", "overhead vs bare ms", "TTFT × bare", "new connections"],
        )
        bare = res[BARE]["ttft"]
        for name, r in res.items():
            table.rows.append([
                name, spread(r["ttft"], _ms), spread(diffs(r["ttft"], bare), _ms),
                ratio_cell(r["ttft"], bare), count(r["conns"]),
            ])
        table.notes.append(
            "TTFT = request start to the first chunk with non-empty content (the rest is "
            "drained untimed). Overhead = this client's round median − the bare loop's, paired "
            "per round."
        )
        if ctx.has_openai:
            table.notes.append(OPENAI_RECONNECTS)
        over = median(diffs(res["chatmini"]["ttft"], bare))
        table.targets.append(Target(f"TTFT overhead over bare loop, {framing}", "< 0.3 ms",
                                    f"{_ms(over)} ms", over < 0.3))
        table.panels.append(Panel(f"Time to first token, {framing}", "ms",
                                  medians(res, "ttft")))
        return with_openai_note(ctx, table)

    bench.__name__ = f"bench_ttft_{framing.replace('-', '_')}"
    return bench


def bench_concurrent(ctx: Context) -> Table:
    """b. Many streams at once: 16 threads each read a 2,000-chunk reply (one event a chunk)."""
    s, server = ctx.settings, ctx.server
    url = server.base_url
    makers: dict[str, Callable[[], Adapter]] = {READING: lambda: ChatminiReadingContent(url)}
    if openai_installed():
        makers[OPENAI] = lambda: OpenAI(url)
    makers[BARE] = lambda: _PerThread(lambda: Bare(url))
    clients = {name: make() for name, make in makers.items()}
    total = STREAMS * STREAM_CHUNKS
    expected = STREAM_CHUNKS + 2

    pool = ThreadPoolExecutor(STREAMS)  # threads (and the bare loop's connections) kept

    def measure(name: str) -> dict[str, float]:
        client = clients[name]
        server.enqueue(*[Reply(chunks=STREAM_CHUNKS)] * STREAMS)
        before = server.stats()
        gc.collect()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        got = list(pool.map(lambda _: client.stream(), range(STREAMS)))
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        after = server.stats()
        if got != [expected] * STREAMS or after["pending"]:
            raise RuntimeError(f"{name} parsed {got} chunks, expected {expected} each")
        return {"rate": total / wall, "cpu": cpu / total * 1e6,
                "server": (after["cpu_seconds"] - before["cpu_seconds"]) / total * 1e6}

    try:
        for name in clients:  # untimed: connections opened, threads started
            measure(name)
        res = round_robin(list(clients), max(3, s.rounds // 2), measure)
    finally:
        pool.shutdown()
        for client in clients.values():
            client.close()
    table = Table(
        f"b5. Concurrent streams: {STREAMS} threads, each a {STREAM_CHUNKS:,}-chunk reply, one "
        "event per HTTP chunk",
        ["client", "aggregate chunks/s", "× bare", "client CPU µs/chunk", "CPU × bare",
         "server CPU µs/chunk"],
    )
    bare = res[BARE]
    for name, r in res.items():
        table.rows.append([name, spread(r["rate"]), ratio_cell(r["rate"], bare["rate"]),
                           spread(r["cpu"]), ratio_cell(r["cpu"], bare["cpu"]),
                           spread(r["server"])])
    table.notes.append(
        "One client shared by the threads (the bare loop: a connection per thread); CPU is "
        "this process's, all threads (`time.process_time()`), per chunk. On 2 cores the 16 "
        "streams, the GIL and the server compete: compare the load average above."
    )
    table.targets.append(ratio_target("16 concurrent streams, aggregate chunks/s", res, "rate",
                                      READING, BARE, 0.7, True))
    table.panels.append(Panel(f"{STREAMS} concurrent streams", "thousand chunks/s",
                              medians(res, "rate", 1e-3), higher_is_better=True))
    return with_openai_note(ctx, table)


class _PerThread(Adapter):
    """An adapter per thread, for clients that are not thread-safe (http.client)."""

    def __init__(self, make: Callable[[], Adapter]) -> None:
        self._make = make
        self._local = threading.local()
        self._made: list[Adapter] = []

    def _mine(self) -> Any:
        mine = getattr(self._local, "adapter", None)
        if mine is None:
            mine = self._local.adapter = self._make()
            self._made.append(mine)
        return mine

    def stream(self) -> int:
        return int(self._mine().stream())

    def close(self) -> None:
        for adapter in self._made:
            adapter.close()


def _ms(x: float) -> str:
    return f"{x:.3f}"
