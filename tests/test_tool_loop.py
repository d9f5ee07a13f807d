"""client.chat.completions.run_tools over real sockets: the embedded server asks for tools
(several at once, ones that raise, hang, do not exist or get bad arguments, a model that never
stops), the loop runs them and answers, and every round trip goes through the client's own
pipeline."""

from __future__ import annotations

import contextvars
import dataclasses
import threading
import time

import pytest

import chatmini
from chatmini.testing import Reply

from .conftest import HI, SECRET_KEY

MODEL = "gpt-4o-mini"
ASK = [{"role": "user", "content": "What is the weather in Oslo and Bergen?"}]


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"{city}: 12 C"


@dataclasses.dataclass
class Query:
    """A class tool, parsed but not run."""

    text: str


def calls(*cities: str) -> list[dict]:
    return [{"name": "get_weather", "arguments": {"city": c}} for c in cities]


def run(client, **kw):
    kw.setdefault("model", MODEL)
    kw.setdefault("messages", ASK)
    kw.setdefault("tools", [get_weather])
    return client.chat.completions.run_tools(**kw)


def test_tools_run_until_the_model_answers_and_the_conversation_is_returned(client, server):
    server.enqueue(Reply(tool_calls=calls("Oslo", "Bergen")), Reply(content="Mild in both."))
    result = run(client)
    assert isinstance(result, chatmini.ToolRun)
    assert result.content == "Mild in both." and result.turns == 2
    assert [m["role"] for m in result.messages] == ["user", "assistant", "tool", "tool",
                                                    "assistant"]
    assistant, first, second = result.messages[1:4]
    assert [c["function"]["arguments"] for c in assistant["tool_calls"]] == [
        '{"city": "Oslo"}', '{"city": "Bergen"}']
    assert first == {"role": "tool", "tool_call_id": "call_1_0", "content": "Oslo: 12 C"}
    assert second["content"] == "Bergen: 12 C"
    assert [i.result for i in result.invocations] == ["Oslo: 12 C", "Bergen: 12 C"]
    sent = server.requests[-1].json
    assert sent["messages"] == result.messages[:-1]  # what the model saw on the last turn
    assert sent["tools"][0]["function"]["strict"] is True
    usage = result.usage
    assert usage["total_tokens"] == sum(c.usage.total_tokens for c in result.completions) > 0
    assert ASK == [{"role": "user", "content": "What is the weather in Oslo and Bergen?"}]


def test_several_calls_run_at_the_same_time(client, server):
    meeting = threading.Barrier(3, timeout=10)  # passes only if all three wait at once

    def meet(name: str) -> str:
        """Wait for the others."""
        meeting.wait()
        return f"{name} met"

    server.enqueue(Reply(tool_calls=[{"name": "meet", "arguments": {"name": n}}
                                     for n in "abc"]), Reply(content="done"))
    result = run(client, tools=[meet])
    assert [i.output for i in result.invocations] == ["a met", "b met", "c met"]


def test_a_tool_that_raises_is_reported_to_the_model_without_secrets(client, server):
    def fragile(city: str) -> str:
        """Fails."""
        raise ValueError(f"cannot reach weather service with key {SECRET_KEY}")

    server.enqueue(Reply(tool_calls=[{"name": "fragile", "arguments": {"city": "Oslo"}}]),
                   Reply(content="Sorry."))
    result = run(client, tools=[fragile])
    invocation = result.invocations[0]
    assert isinstance(invocation.error, ValueError) and not invocation.ok
    assert invocation.output.startswith("Error: ValueError: cannot reach weather service")
    assert SECRET_KEY not in server.requests[-1].body.decode()
    assert result.content == "Sorry."


def test_a_tool_error_can_raise_instead(client, server):
    def fragile(city: str) -> str:
        """Fails."""
        raise ValueError("boom")

    server.enqueue(Reply(tool_calls=[{"name": "fragile", "arguments": {"city": "Oslo"}}]))
    with pytest.raises(chatmini.ToolCallError, match="tool 'fragile' failed: ValueError: boom") \
            as caught:
        run(client, tools=[fragile], on_tool_error="raise")
    error = caught.value
    assert isinstance(error.__cause__, ValueError) and error.call.name == "fragile"
    assert error.conversation[-1]["role"] == "assistant" and len(server.requests) == 1


def test_a_hung_tool_times_out_and_the_loop_goes_on(client, server):
    release = threading.Event()

    def hang(city: str) -> str:
        """Never returns in time."""
        release.wait(30)
        return "too late"

    server.enqueue(Reply(tool_calls=[{"name": "hang", "arguments": {"city": "Oslo"}},
                                     *calls("Bergen")]), Reply(content="Partly."))
    started = time.monotonic()
    try:
        result = run(client, tools=[hang, get_weather], tool_timeout=0.2)
    finally:
        release.set()
    assert time.monotonic() - started < 10  # nowhere near the tool's 30 s
    hung, fine = result.invocations
    assert hung.timed_out and hung.output == ("Error: TimeoutError: the tool did not return "
                                              "within 0.2 s")
    assert fine.output == "Bergen: 12 C" and result.content == "Partly."


def test_a_hung_tool_can_raise_instead(client, server):
    release = threading.Event()

    def hang(city: str) -> str:
        """Hangs."""
        release.wait(30)
        return ""

    server.enqueue(Reply(tool_calls=[{"name": "hang", "arguments": {"city": "Oslo"}}]))
    try:
        with pytest.raises(chatmini.ToolTimeoutError) as caught:
            run(client, tools=[hang], tool_timeout=0.2, on_tool_error="raise")
    finally:
        release.set()
    assert caught.value.call.timed_out and isinstance(caught.value, chatmini.ToolCallError)


def test_a_model_that_never_stops_hits_max_turns_with_the_conversation(client, server):
    server.enqueue(Reply(tool_calls=calls("Oslo"), repeat=True))
    with pytest.raises(chatmini.MaxTurnsExceededError, match="max_turns=3") as caught:
        run(client, max_turns=3)
    error = caught.value
    assert len(server.requests) == 3 and error.run.turns == 3
    assert len(error.run.invocations) == 2  # the last answer's tools were not run
    assert [c.name for c in error.pending] == ["get_weather"]
    assert error.conversation[-1]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert [m["role"] for m in error.conversation].count("tool") == 2


def test_unknown_tools_and_bad_arguments_go_back_to_the_model(client, server):
    server.enqueue(Reply(tool_calls=[{"name": "nope", "arguments": {}},
                                     {"name": "get_weather", "arguments": '{"city": '},
                                     {"name": "get_weather", "arguments": {"town": "x"}}]),
                   Reply(content="ok"))
    result = run(client)
    outputs = [i.output for i in result.invocations]
    assert outputs[0] == "Error: ToolNotFound: no tool named 'nope' (tools: get_weather)"
    assert outputs[1].startswith("Error: invalid arguments for get_weather: not JSON")
    assert outputs[2] == ("Error: invalid arguments for get_weather: missing required property "
                          "'city' at $")
    assert result.content == "ok"


def test_the_streaming_loop_yields_deltas_and_tool_events(client, server):
    server.enqueue(Reply(tool_calls=calls("Oslo")), Reply(content="It is mild."))
    with run(client, stream=True) as stream:
        events = list(stream)
        result = stream.get_final_run()
    kinds = [e.type for e in events]
    assert kinds[:3] == ["turn.done", "tool_call", "tool_result"] and kinds[-1] == "turn.done"
    assert "".join(e.delta for e in events if e.type == "content.delta") == "It is mild."
    assert events[2].invocation.output == "Oslo: 12 C" and events[-1].turn == 2
    assert result.content == "It is mild." and result.messages[-1]["content"] == "It is mild."
    assert all(r.json["stream"] is True for r in server.requests)


def test_closing_the_streaming_loop_closes_the_answer_being_read(make_client, server):
    ended = []

    class Ends:
        @chatmini.hookimpl
        def chatmini_stream_end(self, request, stream, error, client):
            ended.append(stream.completed)

    client = make_client(plugins=[Ends()])
    server.enqueue(Reply(content="one two three four", pause_after=2, pause=5))
    stream = run(client, stream=True)
    assert next(stream.text_deltas()) == "one "
    stream.close()
    assert ended == [False]
    with pytest.raises(StopIteration):
        next(stream)


def test_every_round_trip_goes_through_the_clients_pipeline(make_client, server):
    prepared = []

    class Count:
        @chatmini.hookimpl
        def chatmini_prepare_request(self, request, client):
            prepared.append(request.endpoint)

    client = make_client(plugins=[Count()])
    server.enqueue(Reply(tool_calls=calls("Oslo")), Reply(tool_calls=calls("Bergen")),
                   Reply(content="done"))
    result = run(client)
    assert prepared == ["/chat/completions"] * 3
    assert all(c.timing is not None and c.timing.attempts for c in result.completions)
    assert [r.headers["Authorization"] for r in server.requests] == [f"Bearer {SECRET_KEY}"] * 3


def test_tools_see_the_callers_context_variables(client, server):
    who: contextvars.ContextVar[str] = contextvars.ContextVar("who", default="nobody")
    who.set("caller")

    def whoami(city: str) -> str:
        """Report the context."""
        return who.get()

    server.enqueue(Reply(tool_calls=[{"name": "whoami", "arguments": {"city": "x"}}]),
                   Reply(content="ok"))
    assert run(client, tools=[whoami]).invocations[0].output == "caller"


def test_a_structured_final_answer_and_objects_in_messages(client, server):
    @dataclasses.dataclass
    class Report:
        summary: str

    first = client.chat.completions.create(model=MODEL, messages=HI)
    server.enqueue(Reply(tool_calls=calls("Oslo")))
    result = run(client, messages=[*HI, first.choices[0].message, *ASK],
                 response_format=Report, tool_choice="auto")
    assert result.parsed == Report(summary="echo: What is the weather in Oslo and Bergen?")
    sent = server.requests[-1].json
    assert sent["messages"][1] == first.choices[0].message.to_dict()
    assert sent["response_format"]["json_schema"]["name"] == "Report"
    assert sent["tool_choice"] == "auto"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"max_turns": 0}, "max_turns must be an integer >= 1"),
    ({"tool_timeout": -1}, "tool_timeout must be seconds > 0"),
    ({"on_tool_error": "ignore"}, "on_tool_error must be 'return' or 'raise'"),
    ({"max_parallel": 0}, "max_parallel must be"),
    ({"tools": []}, "needs tools="),
    ({"tools": [{"type": "function", "function": {"name": "x"}}]}, "runs Python functions"),
    ({"tools": [get_weather, get_weather]}, "two tools are named 'get_weather'"),
    ({"tools": [chatmini.function_tool(Query)]}, "has no function to run"),
])
def test_bad_options_are_refused_before_sending(client, server, kwargs, message):
    with pytest.raises(chatmini.InvalidRequestError, match=message):
        run(client, **kwargs)
    assert server.requests == []


def test_ctrl_c_in_a_tool_run_in_the_callers_thread_is_not_swallowed(client, server):
    def interrupted(city: str) -> str:
        """Ctrl-C while it runs."""
        raise KeyboardInterrupt

    server.enqueue(Reply(tool_calls=[{"name": "interrupted", "arguments": {"city": "x"}}]))
    with pytest.raises(KeyboardInterrupt):
        run(client, tools=[interrupted], tool_timeout=None)
