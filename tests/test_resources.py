"""models.retrieve, moderations and legacy completions (streamed and not) over real sockets;
the embedded server answers each as the official SDK expects."""

from __future__ import annotations

import pytest

import chatmini
from chatmini.testing import Reply

INSTRUCT = "gpt-3.5-turbo-instruct"


def test_models_retrieve(client, server):
    model = client.models.retrieve("gpt-4o")
    assert isinstance(model, chatmini.Model)
    assert (model.id, model.object, model.owned_by) == ("gpt-4o", "model", "chatmini")
    assert model.shutdown_date is None and model._request_id == "req_1"
    with pytest.raises(chatmini.NotFoundError) as info:
        client.models.retrieve("no-such-model")
    assert info.value.code == "model_not_found" and info.value.body["param"] == "model"


def test_model_ids_are_one_path_segment(client, server):
    server.enqueue(Reply(body={"id": "meta-llama/Llama-3", "object": "model"}))
    assert client.models.retrieve("meta-llama/Llama-3").id == "meta-llama/Llama-3"
    assert server.requests[0].path == "/v1/models/meta-llama%2FLlama-3"
    with pytest.raises(chatmini.InvalidRequestError):
        client.models.retrieve("..")


@pytest.mark.parametrize("model", [None, "", 5, ["gpt-4o"]])
def test_a_model_id_that_is_not_a_non_empty_string_is_refused(client, server, model):
    with pytest.raises(chatmini.InvalidRequestError, match="model must be a non-empty string"):
        client.models.retrieve(model)
    assert server.requests == []


def test_moderations(client, server):
    answer = client.moderations.create(input=["fine words", "I will kill"])
    assert isinstance(answer, chatmini.ModerationCreateResponse)
    assert [r.flagged for r in answer.results] == [False, True]
    flagged = answer.results[1]
    assert flagged.categories.violence is True and flagged.categories.self_harm is False
    assert flagged.categories["self-harm"] is False  # the JSON key reads too
    assert flagged.category_scores.violence > 0.5
    assert flagged.category_applied_input_types.violence == ["text"]
    assert answer.model == "omni-moderation-latest"
    assert server.requests[0].json == {"input": ["fine words", "I will kill"]}


def test_legacy_completion(client, server):
    answer = client.completions.create(model=INSTRUCT, prompt=["a b", "c"], n=2, max_tokens=5)
    assert isinstance(answer, chatmini.Completion)
    assert [(c.index, c.text) for c in answer.choices] == [
        (0, "echo: a b"), (1, "echo: a b"), (2, "echo: c"), (3, "echo: c")]
    assert answer.object == "text_completion" and answer.choices[0].logprobs is None
    assert answer.usage.prompt_tokens == 3
    assert server.requests[0].json == {"model": INSTRUCT, "prompt": ["a b", "c"], "n": 2,
                                       "max_tokens": 5}


def test_legacy_completion_streamed(client, server):
    stream = client.completions.create(model=INSTRUCT, prompt="one two three", stream=True,
                                       stream_options={"include_usage": True})
    assert isinstance(stream, chatmini.CompletionStream)
    with stream:
        pieces = list(stream.text_deltas())
    assert "".join(pieces) == "echo: one two three" and stream.completed
    final = stream.get_final_completion()
    assert final.choices[0].text == "echo: one two three"
    assert final.choices[0].finish_reason == "stop" and final.usage["total_tokens"] > 0
    assert stream.text == "echo: one two three" and repr(stream).startswith("<CompletionStream")
    assert server.requests[0].json["stream"] is True


def test_a_cut_legacy_stream_is_incomplete_with_its_text(client, server):
    server.enqueue(Reply(cut_after=3))
    with pytest.raises(chatmini.IncompleteStreamError) as info:
        for _ in client.completions.create(model=INSTRUCT, prompt="a b c d e", stream=True):
            pass
    assert info.value.partial_text == "echo: a b " and info.value.chunk_count == 3


def test_an_error_event_in_a_legacy_stream(client, server):
    server.enqueue(Reply(error_event={"error": {"message": "overloaded", "type": "server_error"}}))
    with pytest.raises(chatmini.InternalServerError, match="overloaded"):
        for _ in client.completions.create(model=INSTRUCT, prompt="x", stream=True):
            pass


def test_a_legacy_stream_without_done_but_finished_is_complete(client, server):
    server.enqueue(Reply(no_done=True))
    stream = client.completions.create(model=INSTRUCT, prompt="x y", stream=True)
    assert stream.get_final_completion().choices[0].text == "echo: x y"


def test_the_official_sdk_drives_each_endpoint(server):
    openai = pytest.importorskip("openai")
    sdk = openai.OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=0)
    assert sdk.models.retrieve("gpt-4o").owned_by == "chatmini"
    with pytest.raises(openai.NotFoundError):
        sdk.models.retrieve("nope")
    moderation = sdk.moderations.create(input="I hate this")
    assert moderation.results[0].categories.hate and moderation.results[0].flagged
    assert moderation.results[0].categories.self_harm is False
    assert sdk.completions.create(model=INSTRUCT, prompt="hi").choices[0].text == "echo: hi"
    chunks = list(sdk.completions.create(model=INSTRUCT, prompt="a b", stream=True))
    assert "".join(c.choices[0].text for c in chunks) == "echo: a b"
    assert chunks[-1].choices[0].finish_reason == "stop"
