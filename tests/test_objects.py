"""Response objects: attribute access over the JSON, unknown fields kept, absent ones None."""

from __future__ import annotations

import json
import pickle

import pytest

import chatmini
from chatmini.objects import APIObject, ChatCompletion, ChatCompletionChunk, ModelList

from .conftest import HI

DATA = {
    "id": "c1",
    "object": "chat.completion",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}}],
    "usage": {"total_tokens": 3},
    "brand_new_field": {"x": [1, {"y": 2}]},
}


def test_attribute_access_and_nesting():
    c = ChatCompletion(DATA)
    assert c.choices[0].message.content == "hi"
    assert c.usage.total_tokens == 3
    assert c.object == "chat.completion"
    assert c.brand_new_field.x[1].y == 2


def test_absent_fields_read_as_none():
    c = ChatCompletion(DATA)
    assert c.system_fingerprint is None
    assert c.choices[0].message.tool_calls is None
    assert c.choices[0].logprobs is None


def test_to_dict_is_the_original_dict():
    c = ChatCompletion(DATA)
    assert c.to_dict() is DATA
    assert c.choices[0].to_dict() is DATA["choices"][0]
    assert '"brand_new_field"' in c.to_json()


def test_item_access_get_contains_and_equality():
    c = ChatCompletion(DATA)
    assert c["usage"].total_tokens == 3
    assert c.get("missing", 5) == 5
    assert "usage" in c and "nope" not in c
    assert c == ChatCompletion(dict(DATA)) and c == DATA
    with pytest.raises(KeyError):
        c["nope"]


def test_dunder_lookups_do_not_pretend():
    c = APIObject({})
    with pytest.raises(AttributeError):
        c.__length_hint__  # noqa: B018
    assert not hasattr(c, "__fspath__")


def test_setting_an_attribute_writes_through():
    data = {"a": 1}
    obj = APIObject(data)
    obj.b = APIObject({"c": 2})
    assert data == {"a": 1, "b": {"c": 2}}


def test_repr_and_dir():
    c = APIObject({"model": "m"})
    assert repr(c) == "APIObject({'model': 'm'})"
    assert "model" in dir(c)


def test_model_list_iterates_models():
    models = ModelList({"object": "list", "data": [{"id": "a"}, {"id": "b"}, "junk"]})
    assert [m.id for m in models] == ["a", "b"] and len(models) == 2


def test_request_id_from_meta():
    assert ChatCompletion(DATA, {"request_id": "req_1"})._request_id == "req_1"
    assert ChatCompletion(DATA)._request_id is None


def test_objects_are_cheap_to_build():
    # one object and no copies: wrapping is lazy (a structural check, not a timing one)
    c = ChatCompletion(DATA)
    assert c.to_dict() is DATA and not hasattr(c, "__dict__")


def test_objects_pickle_round_trip():
    c = pickle.loads(pickle.dumps(APIObject({"a": [1]})))
    assert c.a == [1]


def test_response_objects_pickle_with_meta():
    c = pickle.loads(pickle.dumps(ChatCompletion(DATA, {"request_id": "r"})))
    assert c == DATA and c._request_id == "r"


# -- known fields, model_dump, passing objects back (issue 14) --------------------------------

CHUNK = {"id": "c", "object": "chat.completion.chunk", "choices": [
    {"index": 0, "delta": {"content": "x", "tool_calls": [{"index": 0, "function": {}}]}}]}


def test_an_unknown_attribute_raises_like_a_pydantic_model():
    c = ChatCompletion(DATA)
    with pytest.raises(AttributeError, match="'ChatCompletion' object has no attribute 'choises'"):
        c.choises  # noqa: B018
    assert not hasattr(c, "model_dumps") and hasattr(c, "model_dump")
    generic = APIObject({"a": 1})
    with pytest.raises(AttributeError):
        generic.b  # noqa: B018  (a type without a field list knows only what it holds)


@pytest.mark.parametrize("path, name", [
    (lambda c: c, "service_tier"),
    (lambda c: c.choices[0], "logprobs"),
    (lambda c: c.choices[0].message, "tool_calls"),
    (lambda c: c.choices[0].message, "reasoning_content"),
    (lambda c: c.usage, "completion_tokens_details"),
])
def test_known_fields_the_server_left_out_read_as_none_at_every_level(path, name):
    obj = path(ChatCompletion(DATA))
    assert getattr(obj, name) is None
    with pytest.raises(AttributeError):
        getattr(obj, name + "_typo")


@pytest.mark.parametrize("sent", ["reasoning_content", "reasoning"])
def test_either_reasoning_name_reads_what_the_server_sent_under_the_other(sent):
    other = "reasoning" if sent == "reasoning_content" else "reasoning_content"
    for obj in (ChatCompletionChunk({"choices": [{"delta": {sent: "hm", "content": None}}]})
                .choices[0].delta,
                ChatCompletion({"choices": [{"message": {"content": "A", sent: "hm"}}]})
                .choices[0].message):
        assert getattr(obj, sent) == getattr(obj, other) == "hm"
        assert other not in obj.to_dict()  # the JSON stays the server's
    both = ChatCompletion({"choices": [{"message": {"reasoning_content": "a", "reasoning": "b"}}]})
    message = both.choices[0].message
    assert (message.reasoning_content, message.reasoning) == ("a", "b")


def test_chunks_know_their_nested_fields():
    chunk = ChatCompletionChunk(CHUNK)
    delta = chunk.choices[0].delta
    assert delta.content == "x" and delta.role is None and delta.refusal is None
    call = delta.tool_calls[0]
    assert call.id is None and call.function.name is None and call.function.arguments is None
    assert chunk.usage is None and chunk.choices[0].finish_reason is None
    with pytest.raises(AttributeError):
        delta.contents  # noqa: B018


def test_model_dump_is_a_deep_copy_and_model_dump_json_its_text():
    c = ChatCompletion({**DATA, "system_fingerprint": None})
    dumped = c.model_dump()
    assert dumped == c.to_dict() and dumped is not c.to_dict()
    dumped["choices"][0]["message"]["content"] = "changed"
    assert c.choices[0].message.content == "hi"
    assert "system_fingerprint" not in c.model_dump(exclude_none=True)
    assert c.model_dump(include={"id"}) == {"id": "c1"}
    assert "usage" not in c.model_dump(exclude={"usage"})
    assert json.loads(c.model_dump_json()) == c.to_dict()
    assert c.model_dump_json(indent=2).startswith("{\n  ")
    assert c.choices[0].message.model_dump() == {"role": "assistant", "content": "hi"}
    with pytest.raises(ValueError):
        c.model_dump(mode="xml")


def test_typed_objects_pickle_as_their_type():
    message = ChatCompletion(DATA).choices[0].message
    again = pickle.loads(pickle.dumps(message))
    assert type(again) is type(message) and again.tool_calls is None


def test_a_reply_message_goes_back_in_messages(client, server):
    messages = [{"role": "user", "content": "first"}]
    reply = client.chat.completions.create(model="m", messages=messages)
    messages.append(reply.choices[0].message)
    messages.append({"role": "user", "content": "second"})
    client.chat.completions.create(model="m", messages=messages)
    sent = server.requests[-1].json["messages"]
    assert sent[1] == {"role": "assistant", "content": "echo: first", "refusal": None}


def test_plugins_see_plain_dicts_when_objects_are_passed_back(make_client, server):
    seen = []

    class Params:
        @chatmini.hookimpl
        def chatmini_prepare_request(self, request):
            seen.append(request.params)

    client = make_client(plugins=[Params()])
    reply = client.chat.completions.create(model="m", messages=HI)
    client.chat.completions.create(model="m", messages=[*HI, reply.choices[0].message])
    assert type(seen[-1]["messages"][1]) is dict


def test_anything_else_unserialisable_is_a_clear_error(client):
    with pytest.raises(chatmini.InvalidRequestError, match="not JSON-serialisable.*set"):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": {1}}])


def test_a_circular_body_is_a_clear_error(client, server):
    message = {"role": "user", "content": "x"}
    message["self"] = message
    with pytest.raises(chatmini.InvalidRequestError, match="Circular reference"):
        client.chat.completions.create(model="m", messages=[message])
    assert server.requests == []
