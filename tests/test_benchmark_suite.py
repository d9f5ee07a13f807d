"""The benchmark suite's own plumbing still works (its numbers are for benchmarks/run.py, not
for tests): the memory child, the venv listing, the report and the chart's fallback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
try:
    import adapters
    import chart
    import harness
    import memory
    import run
    import venvs
finally:
    sys.path.remove(str(ROOT / "benchmarks"))


@pytest.mark.framings
def test_every_client_calls_streams_and_times_a_first_token(server):
    from chatmini.testing import Reply

    clients = adapters.make_adapters(server.base_url, stream_variants=True)
    assert [c.name for c in clients][-1] == adapters.BARE and len(clients) >= 6
    for client in [*clients, adapters.AdapterFloor(server.base_url)]:
        try:
            assert client.call() == "echo: hi", client.name
            if isinstance(client, adapters.AdapterFloor):
                continue
            server.enqueue(Reply(chunks=10))
            assert client.stream() == 12, client.name
            server.enqueue(Reply(chunks=3))
            assert 0 < client.ttft() < 5
        finally:
            client.close()


def test_memory_child_reads_growth_in_a_fresh_interpreter(server, tmp_path):
    env = harness.fresh_interpreter_env(str(tmp_path))
    chatmini_growth = memory.measure_child("chatmini", server.base_url, str(tmp_path), env)
    bare = memory.measure_child("bare interpreter", server.base_url, str(tmp_path), env)
    assert chatmini_growth["call"] >= chatmini_growth["import"] > 1.0  # MiB: it did import
    assert bare["call"] < chatmini_growth["import"] and bare["start"] > 1.0
    assert [r.json["messages"] for r in server.requests] == [[{"role": "user", "content": "hi"}]]


def test_a_failing_child_is_a_clear_error(tmp_path):
    env = harness.fresh_interpreter_env(str(tmp_path))
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        harness.run_python("1 / 0", str(tmp_path), env)


def test_distribution_listing_counts_files_on_disk():
    out = subprocess.run([sys.executable, "-c", venvs.LIST_DISTRIBUTIONS], capture_output=True,
                         text=True, check=True, timeout=60).stdout
    listed = {name.lower(): size for name, _, size in json.loads(out)}
    assert listed["requests"] > 10_000 and listed["pluggy"] > 10_000


def test_venv_listing_ignores_the_current_directory(tmp_path, monkeypatch):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python").symlink_to(sys.executable)  # stands in for a venv's python
    egg = tmp_path / "work" / "ghost.egg-info"  # what a source checkout has lying around
    egg.mkdir(parents=True)
    (egg / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: ghost\nVersion: 1.0\n")
    monkeypatch.chdir(tmp_path / "work")
    names = {name for name, _, _ in venvs.distributions(tmp_path)}
    assert "ghost" not in names and "requests" in names


def test_report_has_targets_sections_and_the_chart_or_why_not(monkeypatch):
    table = harness.Table("z. Example", ["client", "value"], rows=[["chatmini", "1.00"]],
                          notes=["a note"])
    table.targets.append(harness.Target("speed", "≥ 1×", "2×", True))
    table.panels.append(harness.Panel("Speed", "x", {"chatmini": 2.0}))
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    why = chart.write_chart(table.panels, ["machine: test"], Path("unused.png"))
    assert why is not None and "pip install 'chatmini[bench]'" in why
    report = run.render([table], [["machine", "test"]], why, 1.0)
    assert "| speed | ≥ 1× | 2× | PASS |" in report and "## z. Example" in report
    assert "- a note" in report and "chatmini[bench]" in report and "](" not in report
    with_chart = run.render([table], [["machine", "test"]], "benchmarks.png", 1.0)
    assert "![Bar charts of every section's medians](benchmarks.png)" in with_chart


def test_only_a_complete_run_writes_docs_by_default(tmp_path):
    assert run.output_path(run.parse_args([])) == ROOT / "docs" / "benchmarks.md"
    for partial in (["--quick"], ["--skip-venvs"], ["--only", "memory"], ["--rounds", "2"]):
        assert run.output_path(run.parse_args(partial)) is None
    out = tmp_path / "b.md"
    assert run.output_path(run.parse_args(["--quick", "--out", str(out)])) == out
    assert set(run.NAMES) == {"calls", "stream_per_event", "stream_coalesced", "ttft_per_event",
                              "ttft_coalesced", "concurrent", "responses_stream",
                              "reasoning_stream", "imports", "memory", "venvs", "throughput"}


def run_section(module: str, section: str, chunks: int) -> harness.Table:
    """One section of benchmarks/``module``, one round of ``chunks``-chunk streams."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        bench = getattr(__import__(module), section)
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    settings = harness.Settings(rounds=1, calls=1, chunks=chunks, ttft_samples=1,
                                ttft_chunks=1, import_runs=1, quick=True)
    table: harness.Table = bench(type("Ctx", (), {"settings": settings}))
    return table


def test_the_responses_stream_section_counts_every_event_of_each_client():
    table = run_section("responses_stream", "bench_responses_stream", 50)
    assert [row[0] for row in table.rows] == ["chatmini", "openai",
                                              "bare http.client (read1 + split)"]
    assert "58-event reply" in table.title and all(row[-1] == "0" for row in table.rows)


def test_the_reasoning_stream_section_reads_every_chunk_of_each_stream():
    table = run_section("reasoning_stream", "bench_reasoning_stream", 40)
    styles = sorted({row[1] for row in table.rows})
    assert styles == ['content only', 'reasoning with content "" (Ollama)',
                      "reasoning_content, then content (llama.cpp)"]
    assert [row[0] for row in table.rows] == [
        client for client in ("chatmini, reads delta.content", "chatmini, reads stream.pieces()",
                              "bare http.client (read1 + split)") for _ in styles]
    assert "40 chunks (20 reasoning, then 20 content)" in table.title
    assert len(table.targets) == 1 and table.panels[0].values
