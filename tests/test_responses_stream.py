"""Responses streams over real sockets: events, the end-of-stream rules (terminal events,
[DONE] or not, failures, error events in both shapes, incomplete, cuts), assembly of the final
response, and what plugins, timing and the rate limiter see."""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest

import chatmini
from chatmini.plugins.ratelimit import RateLimiter
from chatmini.testing import Fault, FaultProxy, Reply

from .conftest import SECRET_KEY
from .test_ratelimit import FrozenClock

pytestmark = pytest.mark.framings  # every test here runs on both stream framings of the server
MODEL = "gpt-4o-mini"


def stream(client, **kw):
    kw.setdefault("model", MODEL)
    kw.setdefault("input", "hello there")
    return client.responses.create(stream=True, **kw)


def sse(*events: dict[str, Any], done: bool = False) -> bytes:
    """Events as api.openai.com writes them (numbered in order), then [DONE] if asked."""
    out = []
    for number, event in enumerate(events):
        data = json.dumps({"type": event["type"], "sequence_number": number, **event})
        out.append(f"event: {event['type']}\ndata: {data}\n\n")
    return ("".join(out) + ("data: [DONE]\n\n" if done else "")).encode()


def response(status: str = "completed", output: Any = None, **extra: Any) -> dict[str, Any]:
    return {"id": "resp_1", "object": "response", "status": status, "output": output,
            "usage": {"input_tokens": 5, "output_tokens": 7, "total_tokens": 12}, **extra}


CREATED = {"type": "response.created", "response": response("in_progress", [])}


def delta(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0,
            "content_index": 0, "delta": text, **extra}


# -- reading -------------------------------------------------------------------------------------


def test_events_have_types_and_fields_and_the_final_response(client, server):
    with stream(client) as s:
        assert isinstance(s, chatmini.ResponseStream)
        events = list(s)
    types = [e.type for e in events]
    assert types[:2] == ["response.created", "response.in_progress"] and types[-1] == (
        "response.completed")
    assert all(isinstance(e, chatmini.ResponseStreamEvent) for e in events)
    assert [e.sequence_number for e in events] == list(range(len(events)))
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert "".join(deltas) == "echo: hello there" == s.output_text
    assert events[-1].response.output_text == "echo: hello there"
    assert s.completed and s.status == "completed" and s.chunk_count == len(events)
    final = s.get_final_response()
    assert isinstance(final, chatmini.Response) and final.usage.output_tokens == 3
    assert final._request_id == "req_1" and s.usage["input_tokens"] == 2
    assert server.requests[-1].json["stream"] is True


def test_text_deltas_and_output_text_so_far(client):
    s = stream(client)
    pieces = s.text_deltas()
    assert next(pieces) == "echo: " and s.output_text == "echo: "
    assert list(pieces) == ["hello ", "there"] and s.output_text == "echo: hello there"


def test_responses_stream_is_a_context_manager_like_openai_python(client):
    with client.responses.stream(model=MODEL, input="a b") as s:
        for _ in s:
            pass
        assert s.get_final_response().output_text == "echo: a b"
    assert s.until_done() is s
    with pytest.raises(chatmini.InvalidRequestError, match="leave out stream="):
        client.responses.stream(model=MODEL, input="x", stream=True)


def test_function_calls_and_reasoning_stream(client, server):
    args = '{"city": "Paris", "days": 3}'
    server.enqueue(Reply(tool_calls=[{"name": "weather", "arguments": args}],
                         reasoning="need the weather"))
    with stream(client, tools=[{"type": "function", "name": "weather"}]) as s:
        events = list(s)
    got = "".join(e.delta for e in events if e.type == "response.function_call_arguments.delta")
    done = next(e for e in events if e.type == "response.function_call_arguments.done")
    assert got == done.arguments == args and done.name == "weather"
    summary = "".join(e.delta for e in events if e.type == "response.reasoning_summary_text.delta")
    assert summary == "need the weather" and s.output_text == ""
    final = s.get_final_response()
    assert [item.type for item in final.output] == ["reasoning", "function_call"]
    assert final.output[1].arguments == args


def test_the_stream_helper_gives_deltas_a_snapshot_as_openai_python_does(client, server):
    """responses.stream(): text and function-argument deltas carry their part so far; a
    create(stream=True) event has no snapshot, as openai-python's raw events have none."""
    server.enqueue(Reply(content="one two three"),
                   Reply(tool_calls=[{"name": "f", "arguments": {"city": "Paris"}}]),
                   Reply(content="raw"))
    with client.responses.stream(model="m", input="x") as stream:
        texts = [e for e in stream if e.type == "response.output_text.delta"]
    assert [e.snapshot for e in texts] == ["one ", "one two ", "one two three"]
    assert texts[1].model_dump()["snapshot"] == "one two "
    assert pickle.loads(pickle.dumps(texts[1])).snapshot == "one two "
    with client.responses.stream(model="m", input="x") as stream:
        args = [e for e in stream if e.type == "response.function_call_arguments.delta"]
    assert json.loads(args[-1].snapshot) == {"city": "Paris"}
    assert all(a.snapshot.startswith(b.snapshot) for a, b in zip(args[1:], args))
    raw = [e for e in client.responses.create(model="m", input="x", stream=True)
           if e.type == "response.output_text.delta"]
    with pytest.raises(AttributeError):
        raw[0].snapshot  # noqa: B018


def test_unknown_event_types_pass_through(client, server):
    head = sse(CREATED, {"type": "response.brand_new.thing", "x": {"y": 1}}, delta("hi"))
    named = b'event: response.named.only\ndata: {"z": 2}\n\n'  # typed by its event: line
    completed = {"type": "response.completed", "sequence_number": 4,
                 "response": response(output=[])}
    tail = f"event: response.completed\ndata: {json.dumps(completed)}\n\n".encode()
    server.enqueue(Reply(raw_stream=head + named + tail))
    with stream(client) as s:
        events = list(s)
    assert [e.type for e in events] == ["response.created", "response.brand_new.thing",
                                        "response.output_text.delta", "response.named.only",
                                        "response.completed"]
    assert events[1].x.y == 1 and events[3].z == 2 and s.completed and s.output_text == "hi"


def test_obfuscation_padding_never_reaches_the_text(client):
    with stream(client) as s:
        deltas = [e for e in s if e.type == "response.output_text.delta"]
    assert all(e.obfuscation for e in deltas) and s.output_text == "echo: hello there"
    with stream(client, stream_options={"include_obfuscation": False}) as s:
        assert all(e.obfuscation is None for e in s if e.type.endswith(".delta"))


# -- how a stream ends ---------------------------------------------------------------------------


@pytest.mark.parametrize("with_done", [False, True])
def test_completed_is_success_with_or_without_done_and_the_connection_is_reused(
        client, server, with_done):
    for _ in range(3):
        server.enqueue(Reply(with_done=with_done))
        with stream(client) as s:
            assert s.get_final_response().output_text == "echo: hello there"
        assert s.completed
    create = client.responses.create(model=MODEL, input="x")
    assert create.output_text == "echo: x" and server.connections_opened == 1


def test_done_without_a_terminal_event_is_not_success(client, server):
    server.enqueue(Reply(raw_stream=sse(CREATED, delta("partial "), done=True)))
    s = stream(client)
    with pytest.raises(chatmini.IncompleteStreamError, match="before a terminal event") as caught:
        list(s)
    assert caught.value.partial_text == "partial " and caught.value.chunk_count == 2
    assert not s.completed


def test_a_close_before_the_terminal_event_is_incomplete(make_client, server):
    client = make_client(max_retries=2)
    server.enqueue(Reply(cut_after=6))
    s = stream(client)
    received = []
    with pytest.raises(chatmini.IncompleteStreamError, match="after 6 events") as caught:
        for event in s:
            received.append(event.type)
    assert caught.value.partial_text == "echo: hello " and len(received) == 6
    assert len(server.requests) == 1  # events reached the caller: nothing is retried
    with pytest.raises(chatmini.IncompleteStreamError):
        s.get_final_response()


def test_a_cut_in_the_middle_of_an_event_is_incomplete(client, server):
    body = sse(CREATED, delta("one "), delta("two"))
    server.enqueue(Reply(raw_stream=body[:-20]))  # the last event never ends
    with pytest.raises(chatmini.IncompleteStreamError,
                       match="closed the stream before a terminal event") as caught:
        list(stream(client))
    assert caught.value.partial_text == "one "


def test_a_connection_cut_mid_event_is_incomplete(server):
    with FaultProxy(server.url) as proxy:
        client = chatmini.Client(api_key=SECRET_KEY, base_url=proxy.base_url, max_retries=2)
        proxy.enqueue(Fault("reset", after=900, after_headers=True))
        with pytest.raises(chatmini.IncompleteStreamError) as caught:
            list(stream(client))
        client.close()
    assert caught.value.chunk_count >= 1 and len(server.requests) == 1


def test_incomplete_ends_without_error_but_never_reads_as_completed(client, server):
    ends = []

    class End:
        @chatmini.hookimpl
        def chatmini_stream_end(self, stream, error):
            ends.append((stream.completed, error))

    client.plugin_host.register(End())
    server.enqueue(Reply(outcome="incomplete"))
    with stream(client) as s:
        events = list(s)
    assert events[-1].type == "response.incomplete" and not s.completed
    final = s.get_final_response()
    assert final.status == s.status == "incomplete" and final.output_text == "echo: hello there"
    assert final.incomplete_details.reason == "max_output_tokens"
    assert ends == [(False, None)] and s.timing.completed is False


@pytest.mark.parametrize(("event", "error", "message"), [
    ({"type": "error", "code": "rate_limit_exceeded", "message": "Slow down", "param": None},
     chatmini.RateLimitError, "Slow down"),
    ({"type": "error", "error": {"type": "server_error", "code": "server_error",
                                 "message": "Boom", "param": None}},
     chatmini.InternalServerError, "Boom"),
    ({"type": "error", "code": "invalid_prompt", "message": "Bad prompt"},
     chatmini.APIError, "Bad prompt"),
])
def test_error_events_of_both_shapes_are_typed_errors(client, server, event, error, message):
    server.enqueue(Reply(error_event=event))
    s = stream(client)
    text = []
    with pytest.raises(error, match=message) as caught:
        text.extend(s.text_deltas())
    assert "".join(text) == "echo: hello there"  # the deltas before the error were handed out
    assert caught.value.message == message and not s.completed
    with pytest.raises(error):
        s.get_final_response()


@pytest.mark.parametrize(("code", "error"), [
    ("server_error", chatmini.InternalServerError), ("rate_limit_exceeded", chatmini.RateLimitError),
])
def test_response_failed_is_a_typed_error_with_the_server_message(client, server, code, error):
    failed = response("failed", [], error={"code": code, "message": "It broke"})
    server.enqueue(Reply(raw_stream=sse(CREATED, delta("so far"),
                                        {"type": "response.failed", "response": failed})))
    with pytest.raises(error, match="It broke") as caught:
        list(stream(client))
    assert caught.value.code == code
    server.enqueue(Reply(outcome="failed"))
    with pytest.raises(chatmini.InternalServerError, match="The server had an error"):
        list(stream(client))


def test_error_events_never_show_the_key(client, server):
    server.enqueue(Reply(error_event={"type": "error", "message": f"bad key {SECRET_KEY}"}))
    with pytest.raises(chatmini.APIError) as caught:
        list(stream(client))
    assert SECRET_KEY not in str(caught.value) and SECRET_KEY not in repr(caught.value.body)


def test_events_that_are_not_json_objects_are_clear_errors(client, server):
    server.enqueue(Reply(raw_stream=sse(CREATED) + b"data: [1, 2]\n\n"))
    with pytest.raises(chatmini.APIResponseValidationError, match="not a JSON object"):
        list(stream(client))
    server.enqueue(Reply(raw_stream=sse(CREATED) + b"event: error\ndata: overloaded\n\n"))
    with pytest.raises(chatmini.APIError, match="overloaded"):
        list(stream(client))
    server.enqueue(Reply(raw_stream=sse(CREATED, {"type": "response.completed", "response": 3})))
    with pytest.raises(chatmini.APIResponseValidationError, match="response is a number, not an"):
        list(stream(client))


# -- assembly ------------------------------------------------------------------------------------


def test_a_null_final_output_is_assembled_from_the_streamed_items(client, server):
    server.enqueue(Reply(reasoning="hmm", tool_calls=[{"name": "f", "arguments": '{"a": 1}'}],
                         content="the answer", null_output=True))
    with stream(client) as s:
        events = list(s)
    final = s.get_final_response()
    assert [item.type for item in final.output] == ["reasoning", "message", "function_call"]
    assert final.output_text == "the answer" == events[-1].response.output_text
    assert final.output[2].arguments == '{"a": 1}'
    assert final.to_dict()["output"] == server.responses.get(final.id).response["output"]


def test_items_without_output_item_done_are_built_from_their_deltas(client, server):
    added = {"type": "response.output_item.added", "output_index": 0, "item": {
        "id": "fc_1", "type": "function_call", "call_id": "c1", "name": "f", "arguments": ""}}
    pieces = ['{"q"', ': "x', 'y"}']
    body = sse(CREATED, added, *[
        {"type": "response.function_call_arguments.delta", "item_id": "fc_1", "output_index": 0,
         "delta": piece, "obfuscation": "zz"} for piece in pieces],
        delta("text", output_index=1), delta(" more", output_index=1),
        {"type": "response.reasoning_summary_text.delta", "output_index": 2,
         "summary_index": 0, "delta": "why"},
        {"type": "response.completed", "response": response(output=[])})
    server.enqueue(Reply(raw_stream=body))
    final = stream(client).get_final_response()
    call, message, reasoning = final.output
    assert (call.type, call.name, call.arguments) == ("function_call", "f", '{"q": "xy"}')
    assert (message.type, message.role, final.output_text) == ("message", "assistant", "text more")
    assert (reasoning.type, reasoning.summary[0].text) == ("reasoning", "why")


def test_a_done_event_is_the_final_word_over_its_deltas(client, server):
    body = sse(CREATED, delta("lost"), {"type": "response.output_text.done", "output_index": 0,
                                         "content_index": 0, "text": "the whole text"},
               {"type": "response.completed", "response": response(output=None)})
    server.enqueue(Reply(raw_stream=body))
    assert stream(client).get_final_response().output_text == "the whole text"


# -- plugins, timing, rate limits --------------------------------------------------------------


def test_plugins_see_every_event_and_read(client, server):
    seen: dict[str, list[Any]] = {"events": [], "reads": []}

    class Watch:
        @chatmini.hookimpl
        def chatmini_stream_event(self, event):
            seen["events"].append(event.event)

        @chatmini.hookimpl
        def chatmini_stream_reads(self, reads):
            seen["reads"].extend(e.event for _, events in reads for e in events)

    client.plugin_host.register(Watch())
    with stream(client) as s:
        types = [e.type for e in s]
    assert seen["events"] == types == seen["reads"]


def test_timing_takes_the_first_output_delta_as_time_to_first_token(client, server):
    server.enqueue(Reply(pause_after=2, pause=0.3))  # created, in_progress, then a pause
    with stream(client) as s:
        list(s)
    timing = s.timing
    assert timing.completed and timing.events == s.chunk_count
    assert timing.ttft >= 0.25  # not the first event, which came at once
    assert s.first_output_at is not None and timing.ttft < timing.duration
    assert (timing.prompt_tokens, timing.completion_tokens, timing.tokens) == (2, 3, 3)


def test_the_rate_limiter_corrects_with_input_and_output_tokens(make_client, server):
    clock = FrozenClock()
    limiter = RateLimiter(tpm=60_000, clock=clock)  # 1000 tokens a second
    client = make_client(plugins=[limiter])
    client.responses.create(model=MODEL, input="hello there", max_output_tokens=900)
    assert limiter.budget.tokens.ready_at == pytest.approx(clock.now + 5 / 1000)  # 2 in, 3 out
    clock.now += 10
    with stream(client, max_output_tokens=900) as s:
        s.get_final_response()
    assert limiter.budget.tokens.ready_at == pytest.approx(clock.now + 5 / 1000)
