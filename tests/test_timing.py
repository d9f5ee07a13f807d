"""The built-in timing plugin over real sockets: attempts, calls, streams, and client.stats()."""

from __future__ import annotations

import threading

import pytest

import chatmini
from chatmini.plugins.timing import Timing, route
from chatmini.stats import Stats, StatsReport
from chatmini.testing import Reply
from chatmini.usage import usage_from_body

from .conftest import HI

MODEL = "gpt-4o-mini"


def create(client, **kw):
    kw.setdefault("model", MODEL)
    return client.chat.completions.create(messages=HI, **kw)


def test_a_call_has_a_timing(client):
    reply = create(client)
    timing = reply.timing
    assert isinstance(timing, Timing) and timing.finished
    assert (timing.method, timing.endpoint, timing.model, timing.stream) == (
        "POST", "/chat/completions", MODEL, False)
    assert (timing.status, timing.error, timing.retries, len(timing.attempts)) == (200, None, 0, 1)
    assert timing.request_id == reply._request_id
    attempt = timing.attempts[0]
    assert 0 < attempt.headers <= attempt.total <= timing.duration
    assert 0 < timing.time_to_headers <= timing.duration
    assert timing.ttft is None and timing.max_gap is None and timing.tokens_per_second is None
    usage = reply.usage
    assert (timing.prompt_tokens, timing.completion_tokens) == (
        usage.prompt_tokens, usage.completion_tokens)
    assert "200" in repr(timing) and "1 attempt" in repr(timing)


def test_server_time_shows_in_time_to_headers(client, server):
    server.enqueue(Reply(delay=0.3))
    timing = create(client).timing
    assert timing.time_to_headers >= 0.3 and timing.attempts[0].headers >= 0.3
    assert timing.duration >= timing.time_to_headers


def test_retries_are_counted_per_attempt(make_client, server):
    client = make_client(max_retries=2)
    server.enqueue(Reply(status=503), Reply(drop=True))
    timing = create(client).timing
    assert timing.retries == 2 and timing.status == 200
    first, second, third = timing.attempts
    assert [a.number for a in timing.attempts] == [1, 2, 3]
    assert (first.status, first.error) == (503, "InternalServerError")
    assert (second.status, second.error, second.headers) == (None, "APIConnectionError", None)
    assert (third.status, third.error) == (200, None)
    assert first.offset < second.offset < third.offset  # measured from the call's start
    assert second.offset >= first.offset + first.total
    assert timing.duration >= third.offset + third.total
    assert [a["number"] for a in timing.to_dict()["attempts"]] == [1, 2, 3]


def test_a_failed_call_keeps_its_timing_on_the_error(make_client, server):
    client = make_client(max_retries=0)
    server.enqueue(Reply(drop=True))
    with pytest.raises(chatmini.APIConnectionError) as info:
        create(client)
    timing = info.value.request.context["timing"]
    assert (timing.status, timing.error, timing.time_to_headers) == (None, "APIConnectionError", None)
    assert timing.finished and timing.duration > 0
    server.enqueue(Reply(status=404))
    with pytest.raises(chatmini.NotFoundError) as info:
        create(client)
    assert info.value.request.context["timing"].status == 404


@pytest.mark.framings
def test_a_stream_times_first_event_gaps_and_rate(client, server):
    server.enqueue(Reply(content="one two three four five", pause_after=2, pause=0.4))
    with create(client, stream=True) as stream:
        assert stream.timing is not None and not stream.timing.finished
        chunks = list(stream)
    timing = stream.timing
    assert timing.finished and timing.completed is True and timing.error is None
    assert timing.events == len(chunks)  # [DONE] is not an event here
    assert timing.ttft is not None and timing.ttft >= timing.time_to_headers
    assert timing.duration - timing.ttft >= 0.3  # the 0.4 s pause came after the first event
    # the gap seen is the pause less the client's own lag in reading the event before it
    assert timing.max_gap >= 0.3 and 0 < timing.mean_gap <= timing.max_gap
    assert timing.stream_time >= 0.3
    assert timing.tokens == len(chunks) and timing.completion_tokens is None  # no usage: chunks
    assert timing.tokens_per_second > 0


@pytest.mark.framings
def test_stream_tokens_come_from_usage_when_sent(client):
    with create(client, stream=True, stream_options={"include_usage": True}) as stream:
        completion = stream.get_final_completion()
    timing = stream.timing
    assert timing.completion_tokens == completion.usage.completion_tokens == timing.tokens
    assert timing.prompt_tokens == completion.usage.prompt_tokens
    assert timing.tokens != stream.chunk_count


@pytest.mark.framings
def test_cut_and_early_closed_streams(client, server):
    server.enqueue(Reply(cut_after=2))
    stream = create(client, stream=True)
    with pytest.raises(chatmini.IncompleteStreamError):
        list(stream)
    assert (stream.timing.error, stream.timing.completed) == ("IncompleteStreamError", False)
    with create(client, stream=True) as early:
        next(early)
    assert (early.timing.error, early.timing.completed) == (None, False)
    assert early.timing.events >= 1  # every event of the reads made so far
    row = client.stats().get(MODEL, "/chat/completions")
    assert (row.count, row.errors) == (2, 1)


def test_blocking_timing_removes_it(make_client):
    client = make_client(disabled_plugins=["timing"])
    assert create(client).timing is None
    with create(client, stream=True) as stream:
        list(stream)
    assert stream.timing is None
    assert len(client.stats()) == 0 and client.stats().table() == "no calls recorded"


def test_stats_per_model_and_endpoint(client, server):
    for _ in range(3):
        create(client)
    create(client, model="gpt-4o")
    with create(client, stream=True) as stream:
        list(stream)
    server.enqueue(Reply(status=400))
    with pytest.raises(chatmini.BadRequestError):
        create(client)
    client.get("/models/gpt-4o")
    report = client.stats()
    assert isinstance(report, StatsReport)
    assert [(r.model, r.endpoint) for r in report] == [
        ("-", "/models/{id}"), ("gpt-4o", "/chat/completions"), (MODEL, "/chat/completions")]
    row = report.get(MODEL, "/chat/completions")
    assert (row.count, row.errors) == (5, 1)
    assert 0 < row.p50 <= row.p90 <= row.p99
    assert row.ttft_p50 is not None and row.ttft_p50 == row.ttft_p99  # one stream
    assert report.get("gpt-4o", "/chat/completions").ttft_p50 is None
    text = str(report)
    assert text.splitlines()[0].split()[:4] == ["model", "endpoint", "calls", "errors"]
    assert len(text.splitlines()) == 4 and "/models/{id}" in text


def test_stats_from_many_threads(client):
    def work():
        for _ in range(5):
            create(client)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert client.stats().get(MODEL, "/chat/completions").count == 30


def test_stats_window_is_bounded():
    stats = Stats(window=3)
    for seconds in (9.0, 1.0, 2.0, 3.0):
        timing = Timing("POST", "/chat/completions", "m", False, 0.0)
        timing.duration = seconds
        stats.record(timing)
    row = stats.report().get("m", "/chat/completions")
    assert (row.count, row.p50, row.p99) == (4, 2.0, 3.0)  # 9.0 fell out of the window
    stats.reset()
    assert len(stats.report()) == 0
    with pytest.raises(chatmini.InvalidRequestError):
        Stats(window=0)


@pytest.mark.parametrize(("endpoint", "expected"), [
    ("/chat/completions", "/chat/completions"),
    ("/models/gpt-4o", "/models/{id}"),
    ("/files/file-abc123/content", "/files/{id}/content"),
    ("/models?limit=2", "/models"),
    ("/embeddings", "/embeddings"),
])
def test_route_folds_ids(endpoint, expected):
    assert route(endpoint) == expected


@pytest.mark.parametrize(("body", "expected"), [
    (b'{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19}}',
     (12, 7)),
    (b'{"usage": {"prompt_tokens": 3, "prompt_tokens_details": {"cached_tokens": 1},'
     b' "completion_tokens": 4, "completion_tokens_details": {"reasoning_tokens": 2}}}', (3, 4)),
    (b'{"data":[],"usage":{"prompt_tokens":8,"total_tokens":8}}', (8, None)),
    (b'{"choices":[{"message":{"content":"\\"usage\\": 1"}}]}', (None, None)),
    (b"", (None, None)),
])
def test_usage_from_body(body, expected):
    assert usage_from_body(body) == expected
