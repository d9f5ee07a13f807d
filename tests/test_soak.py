"""A short soak in the suite (``benchmarks/soak.py`` runs the long one): calls from 32 threads,
and through chatmini.batch with the rate limiter, against a server in a child process with 10%
random faults; every call accounted for once, no thread, descriptor or memory leak."""

from __future__ import annotations

from typing import Iterator

import pytest

import chatmini
from chatmini.testing.process import ServerProcess
from chatmini.testing.soak import SoakReport, faulty_server, soak


@pytest.fixture(scope="module")
def remote() -> Iterator[ServerProcess]:
    with faulty_server(seed=11) as server:
        yield server


def assert_faults_happened(report: SoakReport) -> None:
    """The run was really under fire: each kind of fault hit some calls."""
    for kind in ("429", "503", "drop"):
        assert report.faults[kind] > 0, report.faults
    assert report.faults["reset before the answer"] > 0
    assert report.faults["reset after the headers"] > 0
    assert report.outcomes["ok"] > 0.9 * report.calls


def test_soak_from_32_threads(remote):
    report = soak(remote, calls=600, threads=32, warmup=100)
    assert report.problems() == []
    assert_faults_happened(report)


def test_soak_through_batch_with_the_rate_limiter(remote):
    limiter = chatmini.RateLimiter(rpm=12_000, max_concurrent=8)
    report = soak(remote, calls=300, threads=32, warmup=50, batch=True, limiter=limiter)
    assert report.problems() == []
    assert report.limits["most_in_flight"] <= 8
    assert report.limits["attempts_per_s"] <= 200 * 1.02
    assert_faults_happened(report)


@pytest.mark.parametrize("change, words", [
    ({"unaccounted": 1}, "accounted"),
    ({"duplicated": 1}, "accounted"),
    ({"threads_after": 3}, "threads"),
    ({"fds": (10, 50, 10)}, "open fds"),
    ({"fds": (10, 20, 11)}, "open fds"),
    ({"rss_growth": 11 * 1024 * 1024}, "RSS"),
    ({"connections": 40}, "connections"),
    ({"limits": {"max_concurrent": 8, "most_in_flight": 9}}, "in flight"),
    ({"limits": {"rpm": 600, "attempts_per_s": 11}}, "per second"),
], ids=["lost", "twice", "threads", "fds-held", "fds-closed", "rss", "connections",
        "in-flight", "rate"])
def test_each_soak_check_can_fail(change, words):
    report = SoakReport("threads", calls=10, threads=4, threads_before=2, threads_after=2,
                        fds=(10, 14, 10), rss_growth=0, connections=6, faulted=2)
    assert report.problems() == []
    for name, value in change.items():
        setattr(report, name, value)
    assert len(report.problems()) == 1 and words in report.problems()[0]
    report.outcomes["untyped ValueError"] += 1
    assert any("typed errors" in p for p in report.problems())
