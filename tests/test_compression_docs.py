"""docs/compression.md stays true: every tagged example runs, and its table is the one the
benchmark script prints (same payloads, formats and order)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEXT = (ROOT / "docs" / "compression.md").read_text(encoding="utf-8")
EXAMPLES = dict(re.findall(r"^```python\n# docs-example: ([\w-]+)\n(.*?)^```", TEXT, re.M | re.S))


def test_examples_are_found():
    assert set(EXAMPLES) == {"accept-encoding", "compression", "refusing-server", "msgpack"}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_runs(name):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(EXAMPLES[name], f"docs/compression.md:{name}", "exec"), {"__name__": name})
    printed = out.getvalue()
    expected = {
        "accept-encoding": "-> decoded for you",
        "compression": "gzip ",
        "refusing-server": "['gzip', None, None] frozenset({'127.0.0.1:",
        "msgpack": "application/msgpack echo: hi",
    }[name]
    assert expected in printed


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
