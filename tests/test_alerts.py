"""Slow-call rules: a callback and one WARNING per crossing, re-armed when back under."""

from __future__ import annotations

import logging

import pytest

import chatmini
from chatmini.plugins.timing import SlowCallRule, Timing
from chatmini.stats import Stats, nearest_rank
from chatmini.testing import Reply

from .conftest import HI

SLOW = 0.5  # the server's scripted delay for a slow call
ABOVE = 0.25  # thresholds sit far from both ~1 ms local calls and SLOW


def warnings_of(caplog):
    return [r for r in caplog.records if r.name == "chatmini" and r.levelno == logging.WARNING]


def call(client, server, slow, model="gpt-4o-mini"):
    if slow:
        server.enqueue(Reply(delay=SLOW))
    client.chat.completions.create(model=model, messages=HI)


def test_any_call_rule_fires_once_per_crossing(make_client, server, caplog):
    alerts = []
    client = make_client(slow_call_rules=[SlowCallRule(ABOVE, callback=alerts.append)])
    caplog.set_level(logging.WARNING, logger="chatmini")
    for slow in (False, True, True, False, True):
        call(client, server, slow)
    assert len(alerts) == 2  # crossed at the 2nd call, back under at the 4th, crossed at the 5th
    assert len(warnings_of(caplog)) == 2
    alert = alerts[0]
    assert alert.value >= SLOW and alert.timing.duration == alert.value
    assert (alert.model, alert.endpoint) == ("gpt-4o-mini", "/chat/completions")
    message = warnings_of(caplog)[0].getMessage()
    assert message == str(alert) and "gpt-4o-mini /chat/completions" in message
    assert "above 250.0 ms" in message


def test_quantile_rule_over_last_calls(make_client, server, caplog):
    alerts = []
    rule = SlowCallRule(ABOVE, over_last=3, quantile=0.99, callback=alerts.append)
    client = make_client(slow_call_rules=[rule])
    caplog.set_level(logging.WARNING, logger="chatmini")
    call(client, server, True)  # the window is not full yet: no judgement
    assert alerts == []
    call(client, server, False)
    call(client, server, False)  # full: p99 of [slow, fast, fast] is slow -> crossing
    assert len(alerts) == 1
    call(client, server, False)  # slow left the window: back under, armed again
    call(client, server, True)
    call(client, server, False)
    assert len(alerts) == 2 and len(warnings_of(caplog)) == 2
    assert "p99 duration over the last 3 calls" in str(alerts[1])


def test_rules_watch_each_model_separately(make_client, server):
    alerts = []
    client = make_client(slow_call_rules=[SlowCallRule(ABOVE, callback=alerts.append)])
    call(client, server, True, model="a")
    call(client, server, True, model="b")
    assert [a.model for a in alerts] == ["a", "b"]


def test_a_failing_callback_is_logged_not_raised(make_client, server, caplog):
    def broken(alert):
        raise RuntimeError("callback bug")

    client = make_client(slow_call_rules=[SlowCallRule(ABOVE, callback=broken)])
    caplog.set_level(logging.WARNING, logger="chatmini")
    call(client, server, True)  # returns normally
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "callback" in errors[0].getMessage()


def synthetic(duration, ttft=None):
    timing = Timing("POST", "/chat/completions", "m", ttft is not None, 0.0)
    timing.duration, timing.ttft = duration, ttft
    return timing


def test_ttft_rule_ignores_calls_without_a_first_token():
    alerts = []
    stats = Stats(rules=[SlowCallRule(1.0, metric="ttft", callback=alerts.append)])
    stats.record(synthetic(5.0))  # not a stream: no ttft, no judgement
    stats.record(synthetic(5.0, ttft=2.0))
    stats.record(synthetic(5.0, ttft=3.0))
    assert [a.value for a in alerts] == [2.0]


def test_rules_can_be_added_later():
    alerts = []
    stats = Stats()
    stats.record(synthetic(9.0))
    stats.add_rule(SlowCallRule(1.0, callback=alerts.append))
    stats.record(synthetic(9.0))
    assert len(alerts) == 1 and len(stats.rules) == 1


@pytest.mark.parametrize("kwargs", [
    {"above": 0}, {"above": 1, "over_last": 0}, {"above": 1, "quantile": 1.5},
    {"above": 1, "metric": "latency"},
])
def test_rule_arguments_are_checked(kwargs):
    with pytest.raises(chatmini.InvalidRequestError):
        SlowCallRule(**kwargs)


def test_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert (nearest_rank(values, 0.5), nearest_rank(values, 0.99), nearest_rank(values, 1)) == (
        50.0, 99.0, 100.0)
    assert nearest_rank([7.0], 0.99) == 7.0


def test_rule_is_exported():
    assert chatmini.SlowCallRule is SlowCallRule
    assert "above 0.5 s" in repr(SlowCallRule(0.5, over_last=100))
