"""Response objects: attribute access over the JSON, unknown fields kept, absent ones None."""

from __future__ import annotations

import pickle

import pytest

from chatmini.objects import APIObject, ChatCompletion, ModelList

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
