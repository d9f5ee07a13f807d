"""Response objects learn a class-level accessor for each field code reads, so the next read
is fast, without changing what any read returns."""

from __future__ import annotations

from chatmini.objects import FIELDS_PER_CLASS, APIObject


def fresh_class() -> type[APIObject]:
    class Fresh(APIObject):
        __slots__ = ()

    return Fresh


def test_a_read_field_becomes_an_accessor_with_the_same_answers():
    cls = fresh_class()
    first = cls({"choices": [{"delta": {"content": "hi"}}], "n": 1})
    assert "choices" not in vars(cls)
    assert first.choices[0].delta.content == "hi"
    assert isinstance(vars(cls)["choices"], property)
    second = cls({"n": 2})  # the learned accessor on an object without the field
    assert second.choices is None and second.n == 2
    assert cls({"choices": []}).choices == []
    assert cls({"choices": {"a": 1}}).choices.a == 1  # dicts are still wrapped
    assert not hasattr(second, "_private")


def test_a_name_the_class_has_is_never_replaced():
    class Odd(APIObject):
        __slots__ = ()

        @property
        def broken(self):
            raise AttributeError("inner")  # falls through to __getattr__

    odd = Odd({"broken": 1, "to_dict": 2})
    assert odd.broken == 1 and odd.broken == 1
    assert isinstance(vars(Odd)["broken"], property) and vars(Odd)["broken"].fget.__name__ == "broken"
    assert odd.to_dict() == {"broken": 1, "to_dict": 2}  # a method is never a field


def test_a_class_learns_a_bounded_number_of_fields():
    cls = fresh_class()
    names = [f"f{i}" for i in range(FIELDS_PER_CLASS + 50)]
    obj = cls({name: i for i, name in enumerate(names)})
    assert [getattr(obj, name) for name in names] == list(range(len(names)))
    assert sum(isinstance(v, property) for v in vars(cls).values()) == FIELDS_PER_CLASS
    assert [getattr(obj, name) for name in names] == list(range(len(names)))
