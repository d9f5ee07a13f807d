"""Measurement plumbing: round-robin rounds, paired ratios, and the Table every section returns."""

from __future__ import annotations

import statistics
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
class Table:
    """A section's result: one Markdown table plus notes, targets and how long it took."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
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
