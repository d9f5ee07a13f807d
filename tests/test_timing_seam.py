"""The timing plugin uses public seams only: a plugin written from docs/plugins.md alone, with the
built-in ``timing`` blocked, gives ``response.timing``, ``stream.timing``, ``client.stats()``,
slow-call rules and the call log's INFO line exactly as the built-in does."""

from __future__ import annotations

import logging

import pytest

import chatmini
from chatmini.testing import Reply

from .conftest import HI
from .docsnippets import page_snippets


def docs_plugin():
    """The WallClockTiming class of docs/plugins.md, exactly as the page shows it."""
    (example,) = [s for s in page_snippets("docs/plugins.md") if s.name == "own-timing-plugin"]
    names = {"__name__": "docs_plugins"}  # definitions only: the page's demo is under __main__
    exec(compile(example.code, example.filename, "exec"), names)
    return names["WallClockTiming"]


@pytest.mark.framings
def test_a_plugin_from_the_docs_does_what_the_builtin_does(make_client, server, caplog):
    alerts = []
    rule = chatmini.SlowCallRule(0.2, callback=alerts.append)
    caplog.set_level(logging.INFO, logger="chatmini")
    mine = docs_plugin()()
    client = make_client(disabled_plugins=["timing"], plugins=[mine, rule])
    assert "timing" not in client.plugin_host.names()

    server.enqueue(Reply(delay=0.3))
    reply = client.chat.completions.create(model="m", messages=HI)
    assert reply.timing is reply.context["timing"] and reply.timing.duration >= 0.3
    assert reply.timing.status == 200 and reply.timing.finished

    with client.chat.completions.create(model="m", messages=HI, stream=True) as stream:
        list(stream)
    assert stream.timing.completed is True and stream.timing.ttft is not None
    assert stream.timing.time_to_first_content >= stream.timing.ttft  # after the role chunk

    row = client.stats().get("m", "/chat/completions")
    assert row.count == 2 and row.ttft_p50 is not None  # client.stats() is the plugin's report
    assert [a.model for a in alerts] == ["m"]  # the slow-call rule heard the plugin's hook
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert len(lines) == 2 and all("/chat/completions 200" in line for line in lines)


def test_blocking_timing_is_said_not_silent(make_client, caplog):
    caplog.set_level(logging.INFO, logger="chatmini")
    with pytest.warns(UserWarning, match="'logging' plugin.*is the built-in 'timing' plugin"):
        client = make_client(disabled_plugins=["timing"])
    with pytest.warns(UserWarning, match="no plugin keeps call statistics"):
        assert len(client.stats()) == 0
    with pytest.warns(UserWarning, match="slow-call rule"):
        make_client(disabled_plugins=["timing"], plugins=[chatmini.SlowCallRule(1.0)])
