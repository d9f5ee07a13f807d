"""The Markdown table of a rate-limit benchmark (throughput.py in one process, redis_limit.py
across processes): one row per limit, the rate achieved from the send times beside the limit."""

from __future__ import annotations

from chatmini.testing.pacing import max_in_window


def limit_header(workers: str) -> list[str]:
    """The table's head; ``workers`` names the column saying who sent (``workers`` ...)."""
    return [f"| limit | {workers} | requests | window | achieved | deviation | burst check |",
            "|---|---|---|---|---|---|---|"]


def limit_row(
    what: str, limit: float, unit: str, workers: str, times: list[float], amount: float,
    note: str = "-",
) -> str:
    """One row: ``amount`` sent over the span of the sorted ``times``, as a rate per minute
    beside ``limit`` and its deviation."""
    span = times[-1] - times[0]
    achieved = amount / span * 60
    return (f"| {what} | {workers} | {len(times)} | {span:.1f} s | {achieved:.1f} {unit} | "
            f"{100 * (achieved / limit - 1):+.2f}% | {note} |")


def rpm_row(rpm: float, workers: str, times: list[float]) -> str:
    """The row of a requests-per-minute limit, with the most requests any 1 s window held."""
    return limit_row(f"{rpm} requests/min", rpm, "rpm", workers, times, len(times) - 1,
                     f"at most {max_in_window(times, 1.0)} in any 1 s")
