"""client.responses.run_tools over real sockets: ``function_call`` items in, their
``function_call_output`` items back, the whole input sent each turn (no stored state needed),
streamed or not, with the same limits and failures as on Chat Completions."""

from __future__ import annotations

import pytest

import chatmini
from chatmini.testing import Reply

MODEL = "gpt-4o-mini"


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"{city}: 12 C"


def calls(*cities: str) -> list[dict]:
    return [{"name": "get_weather", "arguments": {"city": c}} for c in cities]


def run(client, **kw):
    kw.setdefault("model", MODEL)
    kw.setdefault("input", "Weather in Oslo and Bergen?")
    kw.setdefault("tools", [get_weather])
    return client.responses.run_tools(**kw)


def test_function_calls_run_until_the_model_answers(client, server):
    server.enqueue(Reply(tool_calls=calls("Oslo", "Bergen"), reasoning="Look both up."),
                   Reply(content="Mild in both."))
    result = run(client, instructions="Be brief.", store=False)
    assert result.content == "Mild in both." and result.turns == 2
    assert result.items is result.messages
    kinds = [item.get("type", item.get("role")) for item in result.items]
    assert kinds == ["user", "reasoning", "function_call", "function_call",
                     "function_call_output", "function_call_output", "message"]
    outputs = [i for i in result.items if i.get("type") == "function_call_output"]
    assert outputs == [{"type": "function_call_output", "call_id": "call_1_0",
                        "output": "Oslo: 12 C"},
                       {"type": "function_call_output", "call_id": "call_1_1",
                        "output": "Bergen: 12 C"}]
    second = server.requests[-1].json
    assert second["input"] == result.items[:-1] and second["instructions"] == "Be brief."
    assert second["store"] is False and "previous_response_id" not in second
    assert second["tools"][0]["name"] == "get_weather"  # the API's flat shape
    assert result.usage["input_tokens"] > 0 and result.final_response.status == "completed"


def test_the_streaming_loop_on_responses(client, server):
    server.enqueue(Reply(tool_calls=calls("Oslo")), Reply(content="It is mild."))
    with run(client, stream=True) as stream:
        pieces = list(stream.text_deltas())
    assert "".join(pieces) == "It is mild."
    assert stream.run.content == "It is mild." and stream.run.turns == 2
    assert [i.output for i in stream.run.invocations] == ["Oslo: 12 C"]


def test_max_turns_and_tool_errors_on_responses(client, server):
    def fragile(city: str) -> str:
        """Fails."""
        raise RuntimeError("down")

    server.enqueue(Reply(tool_calls=[{"name": "fragile", "arguments": {"city": "x"}}],
                         repeat=True))
    with pytest.raises(chatmini.MaxTurnsExceededError) as caught:
        run(client, tools=[fragile], max_turns=2)
    error = caught.value
    assert [i.output for i in error.run.invocations] == ["Error: RuntimeError: down"]
    assert error.conversation[-1]["type"] == "function_call" and len(server.requests) == 2


def test_a_structured_answer_at_the_end(client, server):
    import dataclasses

    @dataclasses.dataclass
    class Summary:
        text: str

    server.enqueue(Reply(tool_calls=calls("Oslo")))
    result = run(client, text_format=Summary)
    assert result.parsed == Summary(text="echo: Weather in Oslo and Bergen?")
    assert server.requests[-1].json["text"]["format"]["name"] == "Summary"
