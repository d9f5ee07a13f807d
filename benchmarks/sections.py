"""The benchmark sections a (calls) and c (imports), and the Context every section shares
(streams are in ``streams``, memory in ``memory``, footprint in ``venvs``).

Every section interleaves its clients round-robin over ``settings.rounds`` rounds and reports
per-round values as median (min–max), with ratios computed within each round.
"""

from __future__ import annotations

import gc
import tempfile
import time
from dataclasses import dataclass, field

from adapters import (
    CHATMINI,
    EXPECTED_TEXT,
    OPENAI,
    OPENAI_MISSING,
    Adapter,
    AdapterFloor,
    make_adapters,
)
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

from chatmini.testing.process import ServerProcess
from chatmini.testing.replies import PER_EVENT

BASE = CHATMINI


@dataclass
class Context:
    """What sections share: a server process per stream framing (``"per-event"``, as real
    servers send, and ``"coalesced"``), the clients of each (chatmini first) and the settings."""

    servers: dict[str, ServerProcess]
    settings: Settings
    _clients: dict[tuple[str, bool], list[Adapter]] = field(default_factory=dict)

    @property
    def server(self) -> ServerProcess:
        """The server that frames streams as real servers do (non-streamed calls use it)."""
        return self.servers[PER_EVENT]

    def clients(self, framing: str = PER_EVENT, stream_variants: bool = False) -> list[Adapter]:
        """The clients of one server, made once (each keeps its connection)."""
        key = (framing, stream_variants)
        if key not in self._clients:
            self._clients[key] = make_adapters(self.servers[framing].base_url,
                                               stream_variants=stream_variants)
        return self._clients[key]

    @property
    def has_openai(self) -> bool:
        """Whether the openai adapter is among the clients."""
        return any(a.name == OPENAI for a in self.clients())

    def connections(self, framing: str = PER_EVENT) -> int:
        """TCP connections the server has accepted so far."""
        return int(self.servers[framing].stats()["connections"])

    def close(self) -> None:
        for clients in self._clients.values():
            for client in clients:
                client.close()


def ratio_target(
    metric: str, results: dict[str, Samples], key: str, name: str, other: str, goal: float,
    at_least: bool,
) -> Target:
    """A target on ``name``'s value / ``other``'s value (paired per round)."""
    sign = "≥" if at_least else "≤"
    goal_text = f"{sign} {goal:g}× {other}"
    if other not in results:
        return Target(metric, goal_text, OPENAI_MISSING, None)
    value = median(ratios(results[name][key], results[other][key]))
    passed = value >= goal if at_least else value <= goal
    return Target(metric, goal_text, f"{times(value)} {other}", passed)


def bench_calls(ctx: Context) -> Table:
    """a. Client-thread CPU per non-streamed call, and calls/s on one thread."""
    s = ctx.settings
    adapters = [*ctx.clients(), AdapterFloor(ctx.server.base_url)]
    by_name = {a.name: a for a in adapters}
    for adapter in adapters:
        if adapter.call() != EXPECTED_TEXT:
            raise RuntimeError(f"{adapter.name} returned the wrong text")

    def measure(name: str) -> dict[str, float]:
        call = by_name[name].call
        for _ in range(5):
            call()
        gc.collect()
        opened = ctx.connections()
        cpu0, wall0 = time.thread_time(), time.perf_counter()
        for _ in range(s.calls):
            call()
        wall, cpu = time.perf_counter() - wall0, time.thread_time() - cpu0
        return {"cpu": cpu / s.calls * 1e6, "rate": s.calls / wall,
                "conns": ctx.connections() - opened}

    try:
        res = round_robin(list(by_name), s.rounds, measure)
    finally:
        adapters[-1].close()
    table = Table(
        f"a. Non-streamed call: client CPU and calls/s ({s.calls} calls × {s.rounds} rounds)",
        ["client", "CPU µs/call", "CPU × chatmini", "calls/s (1 thread)", "calls/s × chatmini",
         "new connections"],
    )
    for name, r in res.items():
        table.rows.append([
            name, spread(r["cpu"]), ratio_cell(r["cpu"], res[BASE]["cpu"]),
            spread(r["rate"]), ratio_cell(r["rate"], res[BASE]["rate"]),
            count(r["conns"]),
        ])
    table.notes.append(
        "CPU is `time.thread_time()` of the calling thread; the server runs in its own process. "
        f"'{AdapterFloor.name}' is the least a client on requests can do per call (a "
        "PreparedRequest made once, `adapter.send`, `json.loads`, http.client reading the "
        "head): chatmini's own cost is its CPU minus this floor, plus the ~10 µs it saves by "
        "reading plain response heads itself (`transport/heads.py`) instead of through "
        "http.client's email parser. 'new connections' (here and below) counts TCP connects during "
        "the timed loops, all rounds together (0 = the connection was kept alive)."
    )
    table.targets.append(ratio_target("per-call CPU", res, "cpu", BASE, OPENAI, 0.30, False))
    table.panels.append(Panel("Client CPU per call", "µs", medians(res, "cpu")))
    return with_openai_note(ctx, table)


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
    return with_openai_note(ctx, table)


def medians(results: dict[str, Samples], key: str, scale: float = 1.0) -> dict[str, float]:
    """Each client's median of one metric (what a chart panel shows)."""
    return {name: median(r[key]) * scale for name, r in results.items()}


def count(values: list[float]) -> str:
    """Total of per-round counts (connections opened in timed loops)."""
    return str(int(sum(values)))


def with_openai_note(ctx: Context, table: Table) -> Table:
    if not ctx.has_openai:
        table.notes.append(f"openai rows skipped: {OPENAI_MISSING}.")
    return table
