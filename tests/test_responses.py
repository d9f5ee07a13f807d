"""client.responses over real sockets: non-streamed answers, stored responses by id, argument
checks, and the helpers (ask, batch, the batch command) that can use the Responses API."""

from __future__ import annotations

import json

import pytest

import chatmini
from chatmini.cli import main
from chatmini.testing import Reply

from .conftest import SECRET_KEY

MODEL = "gpt-4o-mini"


def create(client, **kw):
    kw.setdefault("model", MODEL)
    kw.setdefault("input", "hello there")
    return client.responses.create(**kw)


def test_a_response_has_openai_python_field_names(client, server):
    response = create(client, instructions="be brief")
    assert isinstance(response, chatmini.Response)
    assert response.object == "response" and response.status == "completed"
    assert response.id.startswith("resp_") and response.model == MODEL
    assert response.output_text == "echo: hello there"
    message = response.output[0]
    assert (message.type, message.role, message.content[0].type) == (
        "message", "assistant", "output_text")
    usage = response.usage
    assert usage.input_tokens == 4 and usage.output_tokens == 3 and usage.total_tokens == 7
    assert usage.input_tokens_details.cached_tokens == 0
    assert usage.output_tokens_details.reasoning_tokens == 0
    assert response._request_id == "req_1"
    sent = server.requests[-1]
    assert (sent.method, sent.path) == ("POST", "/v1/responses")
    assert sent.json == {"model": MODEL, "input": "hello there", "instructions": "be brief"}


def test_output_text_joins_message_text_and_is_empty_without_output(client, server):
    server.enqueue(Reply(tool_calls=[{"name": "lookup", "arguments": '{"q": 1}'}],
                         reasoning="think first"))
    response = create(client, tools=[{"type": "function", "name": "lookup"}])
    assert [item.type for item in response.output] == ["reasoning", "function_call"]
    assert response.output_text == ""
    call = response.output[1]
    assert (call.name, call.arguments, call.call_id) == ("lookup", '{"q": 1}', call.call_id)
    assert response.output[0].summary[0].text == "think first"
    assert response.usage.output_tokens_details.reasoning_tokens == 2
    server.enqueue(Reply(null_output=True))
    empty = create(client)
    assert empty.to_dict()["output"] is None
    assert empty.output == [] and empty.output_text == ""


def test_a_failed_or_incomplete_response_is_returned_not_raised(client, server):
    server.enqueue(Reply(outcome="failed"), Reply(outcome="incomplete"))
    failed = create(client)
    assert failed.status == "failed" and failed.error.code == "server_error"
    incomplete = create(client)
    assert incomplete.status == "incomplete"
    assert incomplete.incomplete_details.reason == "max_output_tokens"


def test_previous_response_id_and_extra_params_are_sent(client, server):
    first = create(client, store=True)
    second = create(client, previous_response_id=first.id, temperature=0.2, input=[
        {"role": "user", "content": "and now?"}])
    assert second.previous_response_id == first.id and second.temperature == 0.2
    assert server.requests[-1].json["previous_response_id"] == first.id
    with pytest.raises(chatmini.BadRequestError, match="Previous response with id 'resp_x'"):
        create(client, previous_response_id="resp_x")


def test_output_items_go_back_as_input(client, server):
    server.enqueue(Reply(tool_calls=[{"name": "lookup", "arguments": "{}"}]))
    response = create(client)
    follow_up = [*response.output, {"type": "function_call_output",
                                    "call_id": response.output[0].call_id, "output": "42"}]
    assert create(client, input=follow_up).output_text == "echo: "
    assert server.requests[-1].json["input"][0]["type"] == "function_call"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"model": None}, "model= is required"),
    ({"model": ""}, "model must be a non-empty string"),
    ({"input": {"role": "user"}}, "input must be a list"),
    ({"input": 5}, "input must be a list"),
    ({"tools": "lookup"}, "tools must be a list"),
    ({"text_format": dict}, "must be a pydantic model, a dataclass or a TypedDict"),
    ({"text_format": {"type": "object", "properties": {}}, "text": {"format": {}}},
     "text_format= and text=.* both give the output format"),
])
def test_bad_arguments_are_refused_before_sending(client, server, kwargs, message):
    with pytest.raises(chatmini.InvalidRequestError, match=message):
        create(client, **kwargs)
    assert server.requests == []


def test_retrieve_cancel_delete(client, server):
    response = create(client)
    again = client.responses.retrieve(response.id)
    assert again.to_dict() == response.to_dict() and isinstance(again, chatmini.Response)
    with pytest.raises(chatmini.BadRequestError, match="background=true"):
        client.responses.cancel(response.id)
    background = create(client, background=True)
    assert background.status == "queued"
    assert client.responses.cancel(background.id).status == "cancelled"
    assert client.responses.delete(response.id) is None
    with pytest.raises(chatmini.NotFoundError, match=f"Response with id '{response.id}'"):
        client.responses.retrieve(response.id)
    assert [(r.method, r.path) for r in server.requests[-4:]] == [
        ("POST", "/v1/responses"), ("POST", f"/v1/responses/{background.id}/cancel"),
        ("DELETE", f"/v1/responses/{response.id}"), ("GET", f"/v1/responses/{response.id}")]
    with pytest.raises(chatmini.InvalidRequestError, match="response_id"):
        client.responses.retrieve("")


def test_ids_are_quoted_into_the_path(client, server):
    with pytest.raises(chatmini.NotFoundError):
        client.responses.retrieve("a/b?c")
    assert server.requests[-1].path == "/v1/responses/a%2Fb%3Fc"


def test_input_items_come_a_page_at_a_time_and_iterate_through_all(client, server):
    items = [{"role": "user", "content": f"m{i}"} for i in range(5)]
    response = create(client, input=items)
    page = client.responses.input_items.list(response.id, limit=2, order="asc")
    assert [item.content[0].text for item in page.data] == ["m0", "m1"]
    assert page.has_more and page.first_id == page.data[0].id and page.has_next_page()
    every = list(page)
    assert [item.content[0].text for item in every] == [f"m{i}" for i in range(5)]
    assert server.requests[-1].path == (  # the last page: after the fourth item
        f"/v1/responses/{response.id}/input_items?after={every[3].id}&limit=2&order=asc")
    newest_first = client.responses.input_items.list(response.id)
    assert [item.content[0].text for item in newest_first.data] == [f"m{i}" for i in range(5)][::-1]
    assert not newest_first.has_next_page() and len(list(newest_first.iter_pages())) == 1


def test_retrieve_query_is_sent_as_openai_python_sends_it(client, server):
    response = create(client)
    client.responses.retrieve(response.id, include=["a", "b"], include_obfuscation=False,
                              extra_query={"x": "1"})
    assert server.requests[-1].path == (
        f"/v1/responses/{response.id}?include=a&include=b&include_obfuscation=false&x=1")


def test_a_stored_response_streams_again_after_a_sequence_number(client):
    response = create(client)
    with client.responses.stream(response_id=response.id, starting_after=3) as stream:
        numbers = [event.sequence_number for event in stream]
        assert stream.get_final_response().output_text == response.output_text
    assert numbers[0] == 4 and numbers == sorted(numbers) and stream.completed
    with pytest.raises(chatmini.InvalidRequestError, match="cannot be combined with input"):
        client.responses.stream(response_id=response.id, input="x")
    with pytest.raises(chatmini.InvalidRequestError, match="starting_after= needs"):
        client.responses.stream(model=MODEL, input="x", starting_after=2)


def test_client_post_to_responses_reads_a_responses_stream(client):
    stream = client.post("/responses", json={"model": MODEL, "input": "hi", "stream": True},
                         stream=True)
    assert isinstance(stream, chatmini.ResponseStream)
    assert stream.get_final_response().output_text == "echo: hi" and stream.completed


def test_ask_and_ask_stream_through_the_responses_api(client, server):
    assert chatmini.ask("hi you", client=client, model=MODEL, api="responses",
                        system="terse") == "echo: hi you"
    assert server.requests[-1].json == {"model": MODEL, "input": "hi you",
                                        "instructions": "terse"}
    pieces = list(chatmini.ask_stream("one two", client=client, model=MODEL, api="responses"))
    assert pieces == ["echo: ", "one ", "two"]
    with pytest.raises(chatmini.InvalidRequestError, match="api must be"):
        chatmini.ask("hi", client=client, api="completions")


def test_batch_through_the_responses_api(client, server):
    results = chatmini.batch(client, ["a b", {"input": "c", "stream": True}], model=MODEL,
                             api="responses", workers=2)
    assert [r.output_text for r in results] == ["echo: a b", "echo: c"]
    assert all(isinstance(r, chatmini.Response) for r in results)
    with pytest.raises(chatmini.InvalidRequestError, match="pass call= or api="):
        chatmini.batch(client, ["x"], api="responses", call=lambda c, i: i)


def test_the_batch_command_sends_responses_lines(server, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET_KEY)
    source = tmp_path / "in.jsonl"
    lines = [{"custom_id": "r1", "method": "POST", "url": "/v1/responses",
              "body": {"input": "one two"}},
             {"custom_id": "r2", "method": "POST", "url": "/v1/responses",
              "body": {"model": MODEL, "input": "three", "stream": True}}]
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    out = tmp_path / "out.jsonl"
    code = main(["batch", str(source), "-o", str(out), "--model", MODEL,
                 "--base-url", server.base_url, "--workers", "1"])
    assert code == 0
    records = {r["custom_id"]: r for r in map(json.loads, out.read_text().splitlines())}
    bodies = {key: r["response"]["body"] for key, r in records.items()}
    assert bodies["r1"]["output"][0]["content"][0]["text"] == "echo: one two"
    assert bodies["r2"]["status"] == "completed" and bodies["r2"]["model"] == MODEL
    assert server.requests[0].json["model"] == MODEL  # --model filled in
    assert "tokens in 3 out 5" in capsys.readouterr().err


def test_long_scripted_answers_and_malformed_output(client, server):
    server.enqueue(Reply(chunks=3), Reply(body={"object": "response", "output": {"x": 1}}))
    assert create(client).output_text == "tok tok tok "
    with pytest.raises(chatmini.APIResponseValidationError,
                       match="output is an object, not an array"):
        create(client)  # was read as an empty output: a wrong shape is said, not hidden
