"""Reasoning text over real sockets: both field styles of chat streams, Responses reasoning
events, the pieces and reasoning deltas callers read, the final message and usage, the two
times to first token, and the extra per-chunk objects servers add (llama.cpp's ``timings``,
vLLM's usage on every chunk, usage on the finish chunk) counted once everywhere."""

from __future__ import annotations

import pytest

import chatmini
from chatmini import StreamPiece
from chatmini.testing import Reply

from .conftest import HI

pytestmark = pytest.mark.framings  # every test here runs on both stream framings of the server

MODEL = "gpt-4o-mini"
THOUGHT = "Two and two make four."
TIMINGS = {"prompt_n": 3, "prompt_ms": 1.5, "predicted_n": 9, "predicted_ms": 20.1,
           "predicted_per_second": 447.7}  # llama.cpp's, on every chunk
STYLES = [(field, content) for field in ("reasoning_content", "reasoning")
          for content in ("absent", "empty", "null")]


def stream(client, **params):
    return client.chat.completions.create(model=MODEL, messages=HI, stream=True, **params)


@pytest.mark.framings
@pytest.mark.parametrize(("field", "content"), STYLES)
def test_a_chat_stream_keeps_reasoning_apart_under_the_servers_name(client, server, field,
                                                                    content):
    server.enqueue(Reply(content="Four.", reasoning=THOUGHT, reasoning_field=field,
                         reasoning_chunk_content=content))
    with stream(client, stream_options={"include_usage": True}) as s:
        pieces = list(s.pieces())
        final = s.get_final_completion()
    assert "".join(p.text for p in pieces if p.reasoning) == THOUGHT
    assert [p.text for p in pieces if not p.reasoning] == ["Four."]
    assert pieces[-1] == StreamPiece("Four.") and pieces[0].reasoning  # reasoning came first
    message = final.choices[0].message
    assert message.content == "Four." == s.text  # never mixed into the answer
    other = "reasoning" if field == "reasoning_content" else "reasoning_content"
    assert message.to_dict()[field] == THOUGHT and other not in message.to_dict()
    assert message.reasoning_content == message.reasoning == THOUGHT  # either name reads it
    assert final.usage.completion_tokens_details.reasoning_tokens == len(THOUGHT.split())
    assert final.usage.completion_tokens == 1 + len(THOUGHT.split())


def test_reasoning_deltas_and_text_deltas_each_read_their_own(client, server):
    server.enqueue(Reply(content="Four.", reasoning=THOUGHT, reasoning_field="reasoning"),
                   Reply(content="Four.", reasoning=THOUGHT, reasoning_chunk_content="null"))
    with stream(client) as s:
        assert "".join(s.reasoning_deltas()) == THOUGHT
        assert s.text == "Four."  # the answer was read past and kept
        assert s.get_final_completion().choices[0].message.content == "Four."
    with stream(client) as s:
        assert list(s.text_deltas()) == ["Four."]  # unchanged: content only
        assert s.get_final_completion().choices[0].message.reasoning_content == THOUGHT


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_a_whole_answer_keeps_its_reasoning_reachable(client, server, field):
    server.enqueue(Reply(content="Four.", reasoning=THOUGHT, reasoning_field=field))
    message = client.chat.completions.create(model=MODEL, messages=HI).choices[0].message
    assert message.content == "Four." and message.to_dict()[field] == THOUGHT
    assert message.reasoning == message.reasoning_content == THOUGHT


def test_ask_stream_with_reasoning_yields_pieces(client, server):
    server.enqueue(Reply(content="Four.", reasoning="Adding."),
                   Reply(content="Four.", reasoning="Adding."))
    pieces = list(chatmini.ask_stream("2+2?", client=client, with_reasoning=True))
    assert pieces == [StreamPiece("Adding.", True), StreamPiece("Four.")]
    assert list(chatmini.ask_stream("2+2?", client=client)) == ["Four."]


@pytest.mark.parametrize("summary", [True, False])
def test_a_responses_stream_hands_out_reasoning_and_keeps_the_item(client, server, summary):
    server.enqueue(Reply(content="Four.", reasoning=THOUGHT, reasoning_summary=summary))
    with client.responses.create(model=MODEL, input="2+2?", stream=True) as s:
        pieces = list(s.pieces())
        final = s.get_final_response()
    assert "".join(p.text for p in pieces if p.reasoning) == THOUGHT
    assert [p.text for p in pieces if not p.reasoning] == ["Four."] and s.output_text == "Four."
    item = final.output[0]
    assert item.type == "reasoning"
    parts = item.summary if summary else item.content
    assert [p.type for p in parts] == ["summary_text" if summary else "reasoning_text"]
    assert parts[0].text == THOUGHT
    assert final.usage.output_tokens_details.reasoning_tokens == len(THOUGHT.split())
    server.enqueue(Reply(content="Four.", reasoning=THOUGHT, reasoning_summary=summary))
    with client.responses.create(model=MODEL, input="2+2?", stream=True) as s:
        assert "".join(s.reasoning_deltas()) == THOUGHT and s.output_text == "Four."


# --- time to first chunk and to first content ---------------------------------------------------


@pytest.mark.framings
def test_timing_records_first_chunk_and_first_content_apart(client, server):
    words = len(THOUGHT.split())  # the server pauses after the role chunk and the reasoning
    server.enqueue(Reply(content="Four.", reasoning=THOUGHT, pause_after=1 + words, pause=0.4))
    with stream(client, stream_options={"include_usage": True}) as s:
        s.get_final_completion()
    t = s.timing
    assert t.ttft is not None and t.time_to_first_content is not None
    assert t.time_to_first_content - t.ttft >= 0.35  # thinking counts in ttft, not in content
    assert t.completion_tokens == t.tokens == 1 + words  # reasoning tokens are tokens too
    assert t.tokens_per_second == pytest.approx(t.tokens / (t.duration - t.ttft), rel=0.2)
    assert t.to_dict()["time_to_first_content"] == t.time_to_first_content


def test_a_stream_without_an_answer_has_no_time_to_first_content(client, server):
    server.enqueue(Reply(content="", reasoning="only thinking"))
    with stream(client) as s:
        assert s.get_final_completion().choices[0].message.content == ""
    assert s.timing.ttft is not None and s.timing.time_to_first_content is None


def test_responses_and_legacy_streams_time_their_first_content(client, server):
    server.enqueue(Reply(content="Four.", reasoning=THOUGHT,
                         pause_after=4 + len(THOUGHT.split()), pause=0.4))
    with client.responses.create(model=MODEL, input="2+2?", stream=True) as s:
        s.get_final_response()
    assert s.timing.time_to_first_content - s.timing.ttft >= 0.35
    assert s.first_output_at < s.first_content_at
    with client.completions.create(model="gpt-3.5-turbo-instruct", prompt="hi",
                                   stream=True) as legacy:
        legacy.get_final_completion()
    assert legacy.timing.time_to_first_content >= legacy.timing.ttft
    assert list(legacy.pieces()) == []  # already drained; a fresh one yields its text:
    with client.completions.create(model="gpt-3.5-turbo-instruct", prompt="hi",
                                   stream=True) as legacy:
        assert list(legacy.pieces()) == [StreamPiece("echo: "), StreamPiece("hi")]
        assert list(legacy.reasoning_deltas()) == []


def test_a_slow_call_rule_can_watch_the_time_to_first_content(make_client, server):
    alerts = []
    content_rule = chatmini.SlowCallRule(0.3, metric="time_to_first_content",
                                         callback=alerts.append)
    chunk_rule = chatmini.SlowCallRule(0.3, metric="ttft", callback=alerts.append)
    client = make_client(plugins=[content_rule, chunk_rule])
    server.enqueue(Reply(content="Four.", reasoning="hm", pause_after=2, pause=0.5))
    with stream(client) as s:
        s.get_final_completion()
    assert [a.rule for a in alerts] == [content_rule]  # slow to answer, quick to start


# --- extra per-chunk objects, and usage counted once --------------------------------------------


EXTRAS = {
    "llama.cpp timings": dict(chunk_extras={"timings": TIMINGS}),
    "vLLM usage on every chunk": dict(usage_on="every"),
    "usage on the finish chunk, unasked": dict(usage_on="finish"),
}


@pytest.mark.parametrize("extra", list(EXTRAS))
def test_extra_per_chunk_objects_are_tolerated_and_the_last_usage_wins(client, server, extra):
    server.enqueue(Reply(content="Four five six.", reasoning=THOUGHT, **EXTRAS[extra]))
    with stream(client, stream_options={"include_usage": True}) as s:
        chunks = [c.to_dict() for c in s]
        final = s.get_final_completion()
    words = 3 + len(THOUGHT.split())
    assert final.choices[0].message.content == "Four five six."
    assert final.choices[0].message.reasoning_content == THOUGHT
    assert final.usage.completion_tokens == words == s.usage["completion_tokens"]
    assert final.usage.completion_tokens_details.reasoning_tokens == len(THOUGHT.split())
    if extra == "llama.cpp timings":
        assert all(c["timings"] == TIMINGS for c in chunks)
        assert "timings" not in final.to_dict()  # a per-chunk object, not the answer's
    else:
        with_usage = [c["usage"]["completion_tokens"] for c in chunks if c.get("usage")]
        assert with_usage[-1] == words and (len(with_usage) > 2) == (extra.startswith("vLLM"))


def test_vllm_continuous_usage_stats_asked_in_the_request(client, server):
    with stream(client, stream_options={"include_usage": True,
                                        "continuous_usage_stats": True}) as s:
        counts = [c.usage.completion_tokens for c in s if c.usage is not None]
    assert counts == sorted(counts) and len(counts) == s.chunk_count
    assert s.get_final_completion().usage.completion_tokens == counts[-1] == 2  # "echo: hi"


def test_usage_on_every_chunk_is_charged_once_by_the_rate_limiter(make_client, server):
    from .test_ratelimit import FrozenClock

    clock = FrozenClock()
    limiter = chatmini.RateLimiter(tpm=60_000, clock=clock)  # a token a millisecond
    client = make_client(plugins=[limiter])
    server.enqueue(Reply(content="Four five six.", reasoning=THOUGHT, usage_on="every"))
    with stream(client, max_tokens=500, stream_options={"include_usage": True}) as s:
        s.get_final_completion()
    total = s.usage["total_tokens"]
    assert s.chunk_count > 5  # each of them carried a usage
    assert limiter.budget.tokens.ready_at == pytest.approx(clock.now + total / 1000)


@pytest.mark.parametrize("extra", ["vLLM usage on every chunk",
                                   "usage on the finish chunk, unasked"])
def test_metrics_count_the_tokens_of_a_stream_once(make_client, server, extra):
    prometheus_client = pytest.importorskip("prometheus_client")
    from .test_otel import Telemetry

    registry = prometheus_client.CollectorRegistry()
    otel = Telemetry()
    client = make_client(plugins=[chatmini.PrometheusMetrics(registry=registry),
                                  otel.plugin()])
    server.enqueue(Reply(content="Four five six.", reasoning=THOUGHT, **EXTRAS[extra]))
    with stream(client, stream_options={"include_usage": True}) as s:
        s.get_final_completion()
    words = 3 + len(THOUGHT.split())
    assert s.timing.completion_tokens == words
    assert registry.get_sample_value(
        "chatmini_tokens_total", {"model": MODEL, "kind": "completion"}) == words
    assert registry.get_sample_value(
        "chatmini_time_to_first_content_seconds_count", {"model": MODEL}) == 1
    outputs = [p for p in otel.points("gen_ai.client.token.usage")
               if p.attributes.get("gen_ai.token.type") == "output"]
    assert [p.sum for p in outputs] == [words]
    (first_chunk,) = otel.points("gen_ai.client.operation.time_to_first_chunk")
    assert first_chunk.count == 1


def test_legacy_completions_take_the_last_usage_and_ignore_extras(client, server):
    server.enqueue(Reply(usage_on="every", chunk_extras={"timings": TIMINGS}))
    with client.completions.create(model="gpt-3.5-turbo-instruct", prompt="a b c", stream=True,
                                   stream_options={"include_usage": True}) as s:
        counts = [c.usage.completion_tokens for c in s]
        final = s.get_final_completion()
    assert counts == sorted(counts) and final.usage.completion_tokens == counts[-1] == 4
    assert final.choices[0].text == "echo: a b c" and "timings" not in final.to_dict()


# --- the official SDK reads the same server -------------------------------------------------------


@pytest.mark.parametrize(("field", "content"), STYLES)
def test_the_openai_sdk_reads_a_reasoning_stream(server, field, content):
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(api_key="sk-test", base_url=server.base_url)
    server.enqueue(Reply(content="Four.", reasoning=THOUGHT, reasoning_field=field,
                         reasoning_chunk_content=content, chunk_extras={"timings": TIMINGS},
                         usage_on="every"))
    text, thought, usages = [], [], []
    for chunk in client.chat.completions.create(model=MODEL, messages=HI, stream=True,
                                                stream_options={"include_usage": True}):
        usages.append(chunk.usage)
        if chunk.choices:
            delta = chunk.choices[0].delta
            text.append(delta.content or "")
            thought.append(getattr(delta, field, None) or "")  # an extra field there
    assert "".join(text) == "Four." and "".join(thought) == THOUGHT
    assert usages[-1].completion_tokens_details.reasoning_tokens == len(THOUGHT.split())
    server.enqueue(Reply(content="Four.", reasoning=THOUGHT, reasoning_field=field))
    message = client.chat.completions.create(model=MODEL, messages=HI).choices[0].message
    assert message.content == "Four." and getattr(message, field) == THOUGHT


def test_the_openai_sdk_reads_a_raw_reasoning_responses_stream(server):
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(api_key="sk-test", base_url=server.base_url)
    server.enqueue(Reply(content="Four.", reasoning=THOUGHT, reasoning_summary=False))
    events = list(client.responses.create(model=MODEL, input="2+2?", stream=True))
    thought = "".join(e.delta for e in events if e.type == "response.reasoning_text.delta")
    assert thought == THOUGHT
    final = events[-1].response
    assert final.output[0].type == "reasoning" and final.output[0].content[0].text == THOUGHT
    assert final.output_text == "Four."


@pytest.mark.parametrize(("field", "value"), [
    ("reasoning_field", "thoughts"), ("reasoning_chunk_content", None), ("usage_on", "start"),
    ("chunk_extras", ["timings"]),
])
def test_a_reply_refuses_reasoning_settings_no_server_sends(field, value):
    with pytest.raises(ValueError, match=field):
        Reply(reasoning="x", **{field: value})
