"""Answers parsed into the types asked for, and hostile answers refused: an OutputValidationError
naming the path of the first thing that is wrong, with the raw text kept. Property tests: a
value of the type survives the round trip, and no text whatever raises anything else."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
from typing import List, Literal, Optional, Set, Tuple, TypedDict, Union

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chatmini
from chatmini.structured import output_format


class Mood(enum.Enum):
    HAPPY = "happy"
    SAD = "sad"


@dataclasses.dataclass
class Step:
    explanation: str
    output: str


class Point(TypedDict):
    x: int
    y: float


@dataclasses.dataclass
class Answer:
    steps: List[Step]
    final: Optional[str]
    mood: Mood
    kind: Literal["a", "b"]
    either: Union[Point, Step]
    tags: Set[str]
    pairs: Tuple[int, ...]
    day: datetime.date
    when: datetime.datetime


ANSWER = output_format(Answer)
GOOD = {
    "steps": [{"explanation": "add", "output": "4"}], "final": None, "mood": "sad", "kind": "b",
    "either": {"explanation": "e", "output": "o"}, "tags": ["x", "y", "x"], "pairs": [1, 2],
    "day": "2024-02-29", "when": "2024-02-29T10:00:00Z",
}


def test_an_answer_becomes_instances_of_the_types():
    value = ANSWER.parse(json.dumps(GOOD))
    assert value == Answer(
        steps=[Step("add", "4")], final=None, mood=Mood.SAD, kind="b", either=Step("e", "o"),
        tags={"x", "y"}, pairs=(1, 2), day=datetime.date(2024, 2, 29),
        when=datetime.datetime(2024, 2, 29, 10, tzinfo=datetime.timezone.utc))
    assert ANSWER.parse(json.dumps({**GOOD, "either": {"x": 1, "y": 2}})).either == {"x": 1,
                                                                                     "y": 2.0}


@pytest.mark.parametrize(("change", "path", "reason"), [
    ({"steps": [{"explanation": "a", "output": 4}]}, "$.steps[0].output",
     "expected string, got integer"),
    ({"steps": [{"explanation": "a"}]}, "$.steps[0]", "missing required property 'output'"),
    ({"mood": "angry"}, "$.mood", "expected one of ['happy', 'sad']"),
    ({"either": {"x": "1", "y": 2}}, "$.either.x", "expected integer"),
    ({"day": "29/02/2024"}, "$.day", "expected date text"),
    ({"pairs": [1, True]}, "$.pairs[1]", "expected integer, got boolean"),
    ({"surprise": 1}, "$.surprise", "unexpected property"),
])
def test_a_mismatch_names_its_path(change, path, reason):
    text = json.dumps({**GOOD, **change})
    with pytest.raises(chatmini.OutputValidationError) as caught:
        ANSWER.parse(text, completion="the completion")
    error = caught.value
    assert error.path == path and reason in error.reason
    assert error.raw == text and error.completion == "the completion"
    assert path in str(error) and isinstance(error, ValueError)


@pytest.mark.parametrize("text", ['{"steps": [', "", "not json", "[1, 2]", "null",
                                  "[" * 100_000 + "]" * 100_000])
def test_text_that_is_no_object_is_an_output_validation_error(text):
    with pytest.raises(chatmini.OutputValidationError) as caught:
        ANSWER.parse(text)
    assert caught.value.path == "$" and caught.value.raw == text


def test_a_json_schema_dict_parses_into_a_checked_dict():
    fmt = output_format({"type": "object", "properties": {
        "n": {"type": "integer", "minimum": 1, "maximum": 5},
        "items": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]+$"},
                  "maxItems": 2}}})
    assert fmt.parse('{"n": 3, "items": ["ab"]}') == {"n": 3, "items": ["ab"]}
    for text, path, reason in [('{"n": 9, "items": []}', "$.n", "<= 5"),
                               ('{"n": 1, "items": ["A"]}', "$.items[0]", "pattern"),
                               ('{"n": 1, "items": ["a", "b", "c"]}', "$.items", "at most 2")]:
        with pytest.raises(chatmini.OutputValidationError) as caught:
            fmt.parse(text)
        assert caught.value.path == path and reason in caught.value.reason


def test_json_mode_parses_any_object():
    fmt = output_format({"type": "json_object"})
    assert fmt.parse('{"a": [1]}') == {"a": [1]}
    with pytest.raises(chatmini.OutputValidationError, match="expected a JSON object"):
        fmt.parse("[1]")


class Model(pydantic.BaseModel):
    steps: List[Step]
    score: float


def test_a_pydantic_model_parses_and_names_the_path_of_its_errors():
    fmt = output_format(Model)
    assert fmt.parse('{"steps": [{"explanation": "a", "output": "b"}], "score": 1}') == Model(
        steps=[Step("a", "b")], score=1.0)
    with pytest.raises(chatmini.OutputValidationError) as caught:
        fmt.parse('{"steps": [{"explanation": "a"}], "score": 1}')
    assert caught.value.path == "$.steps[0].output"
    with pytest.raises(chatmini.OutputValidationError, match="not JSON") as caught:
        fmt.parse('{"steps": ')
    assert caught.value.path == "$"


steps = st.builds(Step, st.text(), st.text())
answers = st.builds(
    Answer, steps=st.lists(steps, max_size=3), final=st.none() | st.text(),
    mood=st.sampled_from(Mood), kind=st.sampled_from(["a", "b"]),
    either=steps | st.fixed_dictionaries({"x": st.integers(), "y": st.floats(
        allow_nan=False, allow_infinity=False)}),
    tags=st.sets(st.text(max_size=3), max_size=3), pairs=st.tuples(st.integers()) | st.just(()),
    day=st.dates(), when=st.datetimes(timezones=st.just(datetime.timezone.utc)),
)


def encode(value: Answer) -> str:
    def plain(v):
        if isinstance(v, (datetime.date, datetime.datetime)):
            return v.isoformat()
        if isinstance(v, Mood):
            return v.value
        if isinstance(v, (set, tuple)):
            return list(v)
        raise TypeError(type(v))
    return json.dumps(dataclasses.asdict(value), default=plain)


@settings(max_examples=150, deadline=None)
@given(answers)
def test_any_value_of_the_type_survives_the_round_trip(value):
    assert ANSWER.parse(encode(value)) == value


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from([*GOOD, "x", "y", "explanation", "output"]) | st.text(max_size=3),
        inner, max_size=5),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(json_values | st.builds(lambda v, k: {**GOOD, k: v}, json_values, st.sampled_from(
    list(GOOD))))
def test_no_json_whatever_raises_anything_but_an_output_validation_error(value):
    text = json.dumps(value)
    try:
        ANSWER.parse(text)
    except chatmini.OutputValidationError as exc:
        assert exc.raw == text and exc.path.startswith("$")


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_no_text_whatever_raises_anything_but_an_output_validation_error(text):
    with pytest.raises(chatmini.OutputValidationError):
        ANSWER.parse(text)
