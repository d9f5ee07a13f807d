"""The stderr progress bar: drawn on a TTY only, with done/total, rate, ETA and errors."""

from __future__ import annotations

import io
import sys

from chatmini.batching import batch
from chatmini.batching.progress import ProgressBar, clock_text, render


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bar_shows_done_total_rate_eta_and_errors():
    stream, clock = FakeTTY(), Clock()
    bar = ProgressBar(stream, clock=clock)
    clock.now += 10.0
    bar(50, 200, 3)
    line = stream.getvalue()
    assert line.startswith("\r[")
    for part in ("50/200", "25%", "5.0/s", "ETA 0:30", "errors 3"):
        assert part in line
    bar.close()
    assert stream.getvalue().endswith("\n")


def test_nothing_is_written_when_the_stream_is_not_a_tty():
    stream = io.StringIO()
    bar = ProgressBar(stream)
    bar(1, 2, 0)
    bar.close()
    assert stream.getvalue() == ""


def test_redraws_are_throttled_but_the_last_one_is_always_drawn():
    stream, clock = FakeTTY(), Clock()
    bar = ProgressBar(stream, clock=clock, min_interval=1.0)
    clock.now += 2
    bar(1, 3, 0)
    bar(2, 3, 0)  # within the interval: skipped
    bar(3, 3, 0)
    assert stream.getvalue().count("\r") == 2
    assert "3/3" in stream.getvalue() and "2/3" not in stream.getvalue()


def test_render_without_a_total_and_the_clock_text():
    assert render(7, None, 1, 2.0).startswith("7 done  3.5/s")
    assert "ETA" not in render(7, None, 1, 2.0)
    assert clock_text(59.6) == "1:00"
    assert clock_text(3725) == "1:02:05"


def test_batch_draws_the_bar_on_a_tty_stderr(make_client, monkeypatch):
    stream = FakeTTY()
    monkeypatch.setattr(sys, "stderr", stream)
    batch(make_client(), ["a", "b", "c"], workers=2, progress=True)
    assert "3/3" in stream.getvalue() and stream.getvalue().endswith("\n")


def test_batch_progress_stays_quiet_when_stderr_is_not_a_tty(make_client, capsys):
    batch(make_client(), ["a", "b"], workers=2, progress=True)
    assert capsys.readouterr().err == ""
