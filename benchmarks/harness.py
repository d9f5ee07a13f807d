"""Measurement plumbing: round-robin rounds, paired ratios, and the Table every section returns."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

Samples = dict[str, list[float]]  # metric name -> one value per round


@dataclass
class Target:
    """One goal printed beside the numbers: ``passed`` is None when it could not be measured."""

    metric: str
    goal: str
    measured: str
    passed: Optional[bool]

    @property
    def verdict(self) -> str:
        """PASS, MISS or n/a."""
        return "n/a" if self.passed is None else ("PASS" if self.passed else "MISS")


@dataclass
class Panel:
    """One bar chart of the PNG: a value per client (the median), and which way is better."""

    title: str
    unit: str
    values: dict[str, float]
    higher_is_better: bool = False


@dataclass
class Table:
    """A section's result: one Markdown table plus notes, targets, chart panels and its time."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    panels: list[Panel] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True)
class Settings:
    """How much work each section does; ``--quick`` shrinks every count."""

    rounds: int
    calls: int  # non-streamed calls per client per round
    chunks: int  # content chunks in the long streamed reply
    ttft_samples: int  # short streams per client per round
    ttft_chunks: int  # content chunks in each short stream
    import_runs: int  # fresh interpreters per module
    quick: bool
    memory_runs: int = 5  # fresh interpreters per client for memory growth
    throughput_rounds: int = 5  # interleaved runs per client and worker count
    throughput_per_worker: int = 30  # requests per worker per run
    skip_venvs: bool = False  # leave out the fresh-venv section (slow the first time)


def round_robin(
    names: Sequence[str], rounds: int, measure: Callable[[str], dict[str, float]]
) -> dict[str, Samples]:
    """Run ``measure(name)`` for every name once per round, rotating who goes first each round."""
    results: dict[str, Samples] = {name: {} for name in names}
    for r in range(rounds):
        order = list(names[r % len(names):]) + list(names[: r % len(names)])
        for name in order:
            for metric, value in measure(name).items():
                results[name].setdefault(metric, []).append(value)
    return results


def fresh_interpreter_env(workdir: str) -> dict[str, str]:
    """Environment for fresh interpreters: bytecode cached in a private prefix under ``workdir``.

    With PYTHONDONTWRITEBYTECODE set (as on this project's machines) an editable chatmini would
    be compiled from source in every run, costing time and memory that pip-installed packages,
    and a user's install, do not pay.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = os.path.join(workdir, "pycache")
    return env


def run_python(code: str, workdir: str, env: dict[str, str]) -> tuple[float, str]:
    """Run ``python -c code`` in ``workdir``; returns (wall seconds, stdout). Fails loudly."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=120)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"python -c failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return wall, done.stdout


def median(values: Sequence[float]) -> float:
    """The median of a non-empty sequence."""
    return statistics.median(values)


def ratios(values: Sequence[float], base: Sequence[float]) -> list[float]:
    """Per-round ratios value/base (paired: both measured in the same round)."""
    return [v / b for v, b in zip(values, base)]


def diffs(values: Sequence[float], base: Sequence[float]) -> list[float]:
    """Per-round differences value - base (paired)."""
    return [v - b for v, b in zip(values, base)]


def num(x: float) -> str:
    """A number with about three significant digits and thousands separators."""
    ax = abs(x)
    if ax >= 100:
        return f"{x:,.0f}"
    if ax >= 10:
        return f"{x:.1f}"
    if ax >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def spread(values: Sequence[float], fmt: Callable[[float], str] = num) -> str:
    """``median (min–max)`` of per-round values."""
    return f"{fmt(median(values))} ({fmt(min(values))}–{fmt(max(values))})"


def times(x: float) -> str:
    """A ratio written as ``0.42×``."""
    return f"{x:.2f}×" if x < 10 else f"{x:.1f}×"


def ratio_cell(values: Sequence[float], base: Sequence[float]) -> str:
    """Median of the paired per-round ratios with their range, e.g. ``2.10× (1.9–2.3)``."""
    rs = ratios(values, base)
    return f"{times(median(rs))} ({num(min(rs))}–{num(max(rs))})"


def markdown(
    columns: Sequence[str], rows: Sequence[Sequence[str]], numeric: bool = True
) -> str:
    """A GitHub-flavoured Markdown table; the first column left-aligned, numbers right-aligned."""
    align = [":---"] + ["---:" if numeric else ":---"] * (len(columns) - 1)
    lines = ["| " + " | ".join(columns) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def target_rows(targets: Sequence[Target]) -> list[list[str]]:
    """Rows of a target table: metric, goal, measured, PASS/MISS."""
    return [[t.metric, t.goal, t.measured, t.verdict] for t in targets]


TARGET_COLUMNS = ["target", "goal", "measured", "result"]
