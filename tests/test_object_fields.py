"""Known fields are properties of their class (found by the normal lookup, read from C), and a
read through one answers exactly what the JSON holds; a name the class defines itself wins."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chatmini.objects import APIObject, ChatCompletionChunk
from chatmini.objects.base import Field, known

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                 max_size=3),
    max_leaves=8,
)


class Inner(APIObject):
    __slots__ = ()
    _fields = known("x")


class Outer(APIObject):
    __slots__ = ()
    _fields = known("value items broken")
    _nested = {"items": Inner}

    @property
    def broken(self) -> str:  # the class's own property, not the field
        return "own"


def test_known_fields_are_properties_of_their_class():
    field = vars(ChatCompletionChunk)["choices"]
    assert isinstance(field, Field) and isinstance(field, property)
    assert field.key == "choices" and field.cls.__name__ == "ChunkChoice"
    assert not isinstance(vars(Outer)["broken"], Field)
    assert Outer({"broken": 1}).broken == "own"


@given(value=json_values)
@settings(max_examples=200, deadline=None)
def test_a_field_reads_what_the_json_holds(value):
    obj = Outer({"value": value, "items": value})
    got = obj.value
    if type(value) is dict:
        assert type(got) is APIObject and got.to_dict() is value
    elif type(value) is list:
        assert [v.to_dict() if isinstance(v, APIObject) else v for v in got] == value
    else:
        assert got is value
    items = obj.items
    if type(value) is dict:
        assert type(items) is Inner
    elif type(value) is list:
        assert all(type(i) is Inner for i, v in zip(items, value) if type(v) is dict)
    assert Outer({}).value is None and Outer({}).items is None
