"""The benchmark sections: each takes the shared Context and returns one Table.

Every section interleaves its clients round-robin over ``settings.rounds`` rounds and reports
per-round values as median (min–max), with ratios to chatmini computed within each round.
"""

from __future__ import annotations

import gc
import tempfile
import time
from dataclasses import dataclass

from adapters import EXPECTED_TEXT, OPENAI_MISSING, Adapter, ChatminiReadingContent
from harness import (
    Panel,
    Samples,
    Settings,
    Table,
    Target,
    diffs,
    fresh_interpreter_env,
    median,
    num,
    ratio_cell,
    ratios,
    round_robin,
    run_python,
    spread,
    times,
)

from chatmini.testing import Reply, Server

_OPENAI_RECONNECTS = (
    "openai opens a new connection for every stream: its Stream stops at `[DONE]` and closes "
    "the response before the chunked terminator is read, so the connection is not reused "
    "(its TTFT includes a TCP connect)."
)
BASE = "chatmini"
BARE = "bare http.client"
OPENAI = "openai"


@dataclass
class Context:
    """What sections share: the running server, the clients (chatmini first) and the settings."""

    server: Server
    adapters: list[Adapter]
    settings: Settings

    @property
    def has_openai(self) -> bool:
        """Whether the openai adapter is among the clients."""
        return any(a.name == OPENAI for a in self.adapters)


def _ratio_target(
    metric: str, results: dict[str, Samples], key: str, other: str, goal: float, at_least: bool
) -> Target:
    """A target on chatmini's value / other's value (paired per round)."""
    sign = "≥" if at_least else "≤"
    goal_text = f"{sign} {goal:g}× {other}"
    if other not in results:
        return Target(metric, goal_text, OPENAI_MISSING, None)
    value = median(ratios(results[BASE][key], results[other][key]))
    passed = value >= goal if at_least else value <= goal
    return Target(metric, goal_text, f"{times(value)} {other}", passed)


def bench_calls(ctx: Context) -> Table:
    """a. Client-thread CPU per non-streamed call, and calls/s on one thread."""
    s, server = ctx.settings, ctx.server
    by_name = {a.name: a for a in ctx.adapters}
    for adapter in ctx.adapters:
        if adapter.call() != EXPECTED_TEXT:
            raise RuntimeError(f"{adapter.name} returned the wrong text")

    def measure(name: str) -> dict[str, float]:
        call = by_name[name].call
        for _ in range(5):
            call()
        gc.collect()
        opened = server.connections_opened
        cpu0, wall0 = time.thread_time(), time.perf_counter()
        for _ in range(s.calls):
            call()
        wall, cpu = time.perf_counter() - wall0, time.thread_time() - cpu0
        return {"cpu": cpu / s.calls * 1e6, "rate": s.calls / wall,
                "conns": server.connections_opened - opened}

    res = round_robin(list(by_name), s.rounds, measure)
    table = Table(
        f"a. Non-streamed call: client CPU and calls/s ({s.calls} calls × {s.rounds} rounds)",
        ["client", "CPU µs/call", "CPU × chatmini", "calls/s (1 thread)", "calls/s × chatmini",
         "new connections"],
    )
    for name, r in res.items():
        table.rows.append([
            name, spread(r["cpu"]), ratio_cell(r["cpu"], res[BASE]["cpu"]),
            spread(r["rate"]), ratio_cell(r["rate"], res[BASE]["rate"]),
            _count(r["conns"]),
        ])
    table.notes.append(
        "CPU is `time.thread_time()` of the calling thread only (the server's threads are "
        "excluded); calls/s is wall-clock and includes the in-process server's work. "
        "'new connections' (here and below) counts TCP connects during the timed loops, all "
        "rounds together (0 = the connection was kept alive)."
    )
    table.targets.append(_ratio_target("per-call CPU", res, "cpu", OPENAI, 0.45, False))
    table.panels.append(Panel("Client CPU per call", "µs", _medians(res, "cpu")))
    return _with_openai_note(ctx, table)


def bench_stream(ctx: Context) -> Table:
    """b1. Streamed chunks/s for one long reply, wall time from request start to last chunk."""
    s, server = ctx.settings, ctx.server
    variant = ChatminiReadingContent(server.base_url)
    adapters = [ctx.adapters[0], variant, *ctx.adapters[1:]]
    by_name = {a.name: a for a in adapters}
    expected = s.chunks + 2  # role chunk + content chunks + finish chunk
    for adapter in adapters:
        server.enqueue(Reply(chunks=10))
        if adapter.stream() != 12:
            raise RuntimeError(f"{adapter.name} miscounted a short stream")

    def measure(name: str) -> dict[str, float]:
        server.enqueue(Reply(chunks=s.chunks))
        gc.collect()
        opened = server.connections_opened
        cpu0, wall0 = time.thread_time(), time.perf_counter()
        count = by_name[name].stream()
        wall, cpu = time.perf_counter() - wall0, time.thread_time() - cpu0
        if count != expected or server.pending:
            raise RuntimeError(f"{name} parsed {count} chunks, expected {expected}")
        return {"rate": s.chunks / wall, "wall": wall * 1e3, "cpu": cpu / s.chunks * 1e6,
                "conns": server.connections_opened - opened}

    try:
        res = round_robin(list(by_name), s.rounds, measure)
    finally:
        variant.close()
    table = Table(
        f"b1. Streaming: one {s.chunks:,}-chunk reply, read to the end ({s.rounds} rounds)",
        ["client", "chunks/s", "chunks/s × chatmini", "wall ms", "client CPU µs/chunk",
         "CPU × chatmini", "new connections"],
    )
    for name, r in res.items():
        table.rows.append([
            name, spread(r["rate"]), ratio_cell(r["rate"], res[BASE]["rate"]),
            spread(r["wall"]), spread(r["cpu"]), ratio_cell(r["cpu"], res[BASE]["cpu"]),
            _count(r["conns"]),
        ])
    table.notes.append(
        "chunks/s = content chunks ÷ wall time from the request's start to the last chunk "
        "(includes the server building and sending the reply, the same for every client). "
        "'chatmini, reads delta.content' also reads `chunk.choices[0].delta.content` of each "
        "chunk, as ported openai code does; the others only iterate (the minimal loops "
        "`json.loads` each event)."
    )
    if ctx.has_openai:
        table.notes.append(_OPENAI_RECONNECTS)
    table.targets.append(_ratio_target("streaming chunks/s", res, "rate", OPENAI, 10, True))
    table.targets.append(_ratio_target("streaming chunks/s", res, "rate", BARE, 0.65, True))
    table.panels.append(Panel(f"Streaming ({s.chunks:,} chunks)", "thousand chunks/s",
                              _medians(res, "rate", 1e-3), higher_is_better=True))
    return _with_openai_note(ctx, table)


def bench_ttft(ctx: Context) -> Table:
    """b2. Time to first token of a short stream, and its overhead over the bare loop."""
    s, server = ctx.settings, ctx.server
    by_name = {a.name: a for a in ctx.adapters}

    def sample(adapter: Adapter) -> float:
        server.enqueue(Reply(chunks=s.ttft_chunks))
        return adapter.ttft()

    def measure(name: str) -> dict[str, float]:
        adapter = by_name[name]
        for _ in range(3):
            sample(adapter)
        gc.collect()
        opened = server.connections_opened
        ttft = median([sample(adapter) for _ in range(s.ttft_samples)]) * 1e3
        return {"ttft": ttft, "conns": server.connections_opened - opened}

    res = round_robin(list(by_name), s.rounds, measure)
    table = Table(
        f"b2. Time to first token: {s.ttft_chunks}-chunk stream, median of {s.ttft_samples} "
        f"per client per round ({s.rounds} rounds)",
        ["client", "TTFT ms", "overhead vs bare ms", "TTFT × chatmini", "new connections"],
    )
    bare = res[BARE]["ttft"]
    for name, r in res.items():
        over = diffs(r["ttft"], bare)
        table.rows.append([
            name, spread(r["ttft"], _ms), spread(over, _ms),
            ratio_cell(r["ttft"], res[BASE]["ttft"]), _count(r["conns"]),
        ])
    table.notes.append(
        "TTFT = request start to the first chunk with non-empty content (the rest is drained "
        "untimed). Overhead = this client's round median − the bare loop's, paired per round."
    )
    if ctx.has_openai:
        table.notes.append(_OPENAI_RECONNECTS)
    over = median(diffs(res[BASE]["ttft"], bare))
    table.targets.append(
        Target("TTFT overhead over bare loop", "< 0.4 ms", f"{_ms(over)} ms", over < 0.4)
    )
    table.panels.append(Panel("Time to first token", "ms", _medians(res, "ttft")))
    return _with_openai_note(ctx, table)


def bench_imports(ctx: Context) -> Table:
    """c. Import time of each library in a fresh interpreter, minus a bare interpreter's."""
    s = ctx.settings
    modules = {"bare interpreter": "pass", BASE: "import chatmini"}
    if ctx.has_openai:
        modules[OPENAI] = "import openai"
    modules["requests"] = "import requests"
    with tempfile.TemporaryDirectory(prefix="chatmini-bench-") as workdir:
        env = fresh_interpreter_env(workdir)

        def run(code: str) -> float:
            return run_python(code, workdir, env)[0]

        for code in modules.values():
            run(code)  # write the .pyc files and warm the page cache
        res = round_robin(list(modules), s.import_runs,
                          lambda name: {"wall": run(modules[name]) * 1e3})
    bare = res["bare interpreter"]["wall"]
    base_over = diffs(res[BASE]["wall"], bare)
    table = Table(
        f"c. Import time: `python -c \"import X\"`, {s.import_runs} fresh interpreters each",
        ["module", "wall ms", "over bare interpreter ms", "overhead × chatmini"],
    )
    for name, r in res.items():
        over = median(r["wall"]) - median(bare)
        is_bare = name == "bare interpreter"
        table.rows.append([
            name, spread(r["wall"]), "—" if is_bare else num(over),
            "—" if is_bare else times(median(ratios(diffs(r["wall"], bare), base_over))),
        ])
    table.notes.append(
        "Over bare = median wall − the median of `python -c pass`; the ratio pairs each run's "
        "overhead with chatmini's from the same round. Run from a temporary directory, with "
        "bytecode cached (warm) for every module, in a private `PYTHONPYCACHEPREFIX`."
    )
    over = median(res[BASE]["wall"]) - median(bare)
    table.targets.append(
        Target("import chatmini", "≤ 120 ms over bare", f"{num(over)} ms", over <= 120)
    )
    overheads = {name: median(r["wall"]) - median(bare) for name, r in res.items()}
    del overheads["bare interpreter"]
    table.panels.append(Panel("Import time over a bare interpreter", "ms", overheads))
    return _with_openai_note(ctx, table)


def _medians(results: dict[str, Samples], key: str, scale: float = 1.0) -> dict[str, float]:
    """Each client's median of one metric (what a chart panel shows)."""
    return {name: median(r[key]) * scale for name, r in results.items()}


def _count(values: list[float]) -> str:
    """Total of per-round counts (connections opened in timed loops)."""
    return str(int(sum(values)))


def _ms(x: float) -> str:
    return f"{x:.3f}"


def _with_openai_note(ctx: Context, table: Table) -> Table:
    if not ctx.has_openai:
        table.notes.append(f"openai rows skipped: {OPENAI_MISSING}.")
    return table
