"""Benchmark chatmini against openai, requests and bare http.client over loopback.

Usage: ``python benchmarks/run.py [--quick] [--rounds N] [--only NAME ...] [--skip-venvs]
[--out FILE]``. Prints Markdown tables with the machine, versions and command; a full run (every
section, full size) writes them to docs/benchmarks.md with a chart in docs/benchmarks.png
(matplotlib: ``pip install 'chatmini[bench]'``), other runs only with ``--out``.
Sections are the functions in ``SECTIONS`` below; add one there to extend the report.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import subprocess
import sys
import time
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Optional

from chart import write_chart
from harness import TARGET_COLUMNS, Settings, Table, markdown, target_rows
from memory import bench_memory
from reasoning_stream import bench_reasoning_stream
from responses_stream import bench_responses_stream
from sections import Context, bench_calls, bench_imports
from streams import bench_concurrent, stream_section, ttft_section
from throughput import bench_throughput
from venvs import bench_venvs

from chatmini import jsoncodec
from chatmini.testing.process import ServerProcess
from chatmini.testing.replies import COALESCED, FRAMINGS, PER_EVENT

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "docs" / "benchmarks.md"
SECTIONS = [bench_calls, stream_section("b1", PER_EVENT), stream_section("b2", COALESCED),
            ttft_section("b3", PER_EVENT), ttft_section("b4", COALESCED), bench_concurrent,
            bench_responses_stream, bench_reasoning_stream, bench_imports, bench_memory,
            bench_venvs, bench_throughput]
NAMES = {f.__name__.removeprefix("bench_"): f for f in SECTIONS}
PACKAGES = ("chatmini", "requests", "urllib3", "pluggy", "openai", "httpx2", "httpx", "pydantic")


def settings_for(args: argparse.Namespace) -> Settings:
    """Full or --quick work counts; --rounds overrides the number of rounds."""
    if args.quick:
        base = Settings(rounds=3, calls=100, chunks=20_000, ttft_samples=20, ttft_chunks=8,
                        import_runs=5, quick=True, memory_runs=2, throughput_rounds=1,
                        throughput_per_worker=5, skip_venvs=args.skip_venvs)
    else:
        base = Settings(rounds=9, calls=300, chunks=20_000, ttft_samples=100, ttft_chunks=8,
                        import_runs=10, quick=False, memory_runs=5, throughput_rounds=5,
                        throughput_per_worker=30, skip_venvs=args.skip_venvs)
    if args.rounds is not None:
        base = Settings(**{**base.__dict__, "rounds": args.rounds})
    return base


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (or what platform knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory() -> str:
    """Total memory from /proc/meminfo, in GiB."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.0f} GiB"
    except OSError:
        pass
    return "unknown"


def load_average() -> str:
    """The 1/5/15-minute load averages (other work on the machine makes numbers noisier)."""
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def git_revision() -> str:
    """The repo's short commit, marked when chatmini's sources have uncommitted changes."""
    try:
        rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "chatmini",
                                "plugins"], capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return rev + (" (with uncommitted changes to chatmini)" if dirty else "")


def package_versions() -> str:
    """``name version`` of every package that matters here, installed or not."""
    parts = []
    for name in PACKAGES:
        try:
            parts.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            if name not in ("httpx", "httpx2"):
                parts.append(f"{name} not installed")
    return ", ".join(parts)


def machine_rows(command: str, settings: Settings) -> list[list[str]]:
    """What the numbers were measured on: date, command, machine, software, mode, load."""
    cores = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    return [
        ["date", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")],
        ["command", f"`{command}`"],
        ["machine", f"{cpu_model()}, {cores} cores ({usable} usable), {memory()} RAM"],
        ["OS", platform.platform()],
        ["Python", f"{platform.python_implementation()} {platform.python_version()}"],
        ["packages", package_versions()],
        ["chatmini commit", git_revision()],
        ["mode", "quick" if settings.quick else "full"],
        ["load average at start", load_average()],
    ]


def header(rows: list[list[str]], chart: str) -> list[str]:
    """The report's title, what it measures, the machine table, and the chart (or why not)."""
    lines = [
        "# chatmini benchmarks",
        "",
        "Generated by `benchmarks/run.py`; rerun it rather than editing this file. Every "
        "client talks over loopback to the embedded `chatmini.testing.Server` running in its "
        "own process (`ServerProcess`), which streams the way real servers do: each event "
        "written as its own HTTP chunk, so a client reads one event at a time. The old "
        "framing, every event in one write (read in one go, which hides every per-read "
        "cost), is measured too, second. Clients are interleaved round-robin (each round runs "
        "every client once, rotating who goes first). Cells are `median (min–max)` over "
        "rounds; `× X` is the client's value divided by X's from the same round, then the "
        "median of those ratios. chatmini decodes JSON with the standard library unless a "
        "row says orjson (`chatmini[speed]`).",
        "",
        markdown(["", ""], rows, numeric=False),
        "",
    ]
    if chart.endswith(".png"):
        lines += [f"![Bar charts of every section's medians]({chart})", ""]
    else:
        lines += [f"({chart}.)", ""]
    return lines


def render(tables: list[Table], rows: list[list[str]], chart: str, total: float) -> str:
    """The whole report as Markdown; ``chart`` is the PNG's file name or why there is none."""
    lines = header(rows, chart)
    targets = [t for table in tables for t in table.targets]
    if targets:
        lines += ["## Targets", "",
                  markdown(TARGET_COLUMNS, target_rows(targets), numeric=False), ""]
    for table in tables:
        lines += [f"## {table.title}", "", f"Took {table.seconds:.1f} s.", ""]
        lines += [markdown(table.columns, table.rows), ""]
        lines += [f"- {note}" for note in table.notes]
        if table.targets:
            lines += ["", markdown(TARGET_COLUMNS, target_rows(table.targets), numeric=False)]
        lines.append("")
    lines.append(f"Total time: {total:.1f} s.")
    return "\n".join(lines) + "\n"


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and calls (~40 s)")
    parser.add_argument("--rounds", type=int, help="rounds per section (default 9, quick 3)")
    parser.add_argument("--only", nargs="+", choices=sorted(NAMES), help="run only these")
    parser.add_argument("--skip-venvs", action="store_true",
                        help="leave out the fresh-venv footprint section (slow the first time)")
    parser.add_argument("--out", type=Path,
                        help="write the Markdown report here and the chart beside it (.png); "
                        f"default for a full run: {DEFAULT_OUT.relative_to(REPO)}")
    args = parser.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def output_path(args: argparse.Namespace) -> Optional[Path]:
    """--out, else docs/benchmarks.md for a complete full-size run; None: print only."""
    complete = not (args.quick or args.only or args.skip_venvs or args.rounds)
    return args.out or (DEFAULT_OUT if complete else None)


def main(argv: Optional[list[str]] = None) -> int:
    """Run every section against the test server processes, print the report, write --out."""
    args = parse_args(argv)
    settings = settings_for(args)
    sections = [NAMES[name] for name in args.only] if args.only else SECTIONS
    command = shlex.join(["python", *sys.argv]) if argv is None else shlex.join(argv)
    out = output_path(args)
    rows = machine_rows(command, settings)  # the load average before the run, not after it
    started = time.perf_counter()
    tables: list[Table] = []
    jsoncodec.use_orjson(False)  # chatmini rows without the accelerator (one row says orjson)
    servers = {framing: ServerProcess(framing=framing).start() for framing in FRAMINGS}
    ctx = Context(servers, settings)
    try:
        for section in sections:
            print(f"running {section.__name__} ...", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            table = section(ctx)
            table.seconds = time.perf_counter() - t0
            tables.append(table)
            for server in servers.values():
                server.reset()  # drop recorded requests between sections
    finally:
        ctx.close()
        for server in servers.values():
            server.stop()
    chart = "chart not written: no --out, and only a full run writes docs/ by default"
    if out is not None:
        png = out.with_suffix(".png")
        footer = [f"{name}: {value.strip('`')}" for name, value in rows]
        chart = write_chart([p for t in tables for p in t.panels], footer, png) or png.name
    report = render(tables, rows, chart, time.perf_counter() - started)
    print(report)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(report, encoding="utf-8")
        print(f"wrote {out}" + (f" and {chart}" if chart.endswith(".png") else ""),
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
