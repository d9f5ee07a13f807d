"""docs/compression.md stays true: every tagged example is there (test_doc_examples.py runs them
and checks their output), and its table is the one the benchmark script prints (same payloads,
formats and order)."""

from __future__ import annotations

import re
from pathlib import Path

from .docsnippets import page_snippets

ROOT = Path(__file__).resolve().parent.parent
TEXT = (ROOT / "docs" / "compression.md").read_text(encoding="utf-8")
EXAMPLES = {s.name: s for s in page_snippets("docs/compression.md") if s.not_run is None}


def test_examples_are_found():
    assert set(EXAMPLES) == {"accept-encoding", "compression", "refusing-server", "msgpack"}


def test_table_rows_match_the_benchmark():
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import wire_formats as bench
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    payloads = list(bench.payloads())
    rows = re.findall(r"^\| ([^|]*) \| ([^|]+) \| ([\d,]+)", TEXT, re.M)
    assert [name for _, name, _ in rows[:len(bench.formats())]] == list(bench.formats())
    assert [p for p, _, _ in rows if p.strip()][:len(payloads)] == payloads
    sizes = {p: len(bench.to_json(obj)) for p, obj in bench.payloads().items()}
    documented = {p: int(size.replace(",", "")) for p, name, size in rows if name == "JSON"}
    for payload, size in sizes.items():  # docstrings differ a little between Python versions
        assert abs(documented[payload] - size) <= size * 0.2, payload
