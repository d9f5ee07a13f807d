"""What a streamed chunk, or a whole answer, must look like before a caller reads it.

Ported code reads ``chunk.choices[0].delta.content``; ``text_deltas()``, ``chatmini chat``, the
tool loop and the event helper read the same fields. A server that sends ``choices`` as an
object, a choice as a string, ``delta`` as a list or ``index`` as ``"0"`` would surface as an
AttributeError or TypeError in the caller's code, far from the cause: a wrong shape ends the
stream in APIResponseValidationError naming the field. The usual content or reasoning chunk is
vouched for by the chunk accumulator's fast path as it is merged (chatmini/accumulate.py);
the other chunks (and legacy completion chunks, after a few exact type checks) are checked
field by field here. Values the caller does not navigate (``finish_reason``, ``logprobs``'
contents, unknown fields) are left as the server sent them.

One tolerance: a chat choice without ``delta`` (Azure's asynchronous content-filter
annotations) gets an empty one, so ``choice.delta.content`` reads None rather than failing;
likewise a whole answer's choice without ``message``.

Whole (non-streamed) answers are checked the same way, once per call (``answer_problem``):
``reply.choices[0].message.content``, ``.data[0].embedding`` and
``response.output[0].content[0].text`` read or the call is an APIResponseValidationError.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

# Delta fields a caller reads as text (absent, null or a string).
_DELTA_TEXT = ("content", "refusal", "role", "reasoning_content", "reasoning")
_DELTA_OBJECTS = ("function_call", "audio")  # absent, null or an object


def kind(value: Any) -> str:
    """The JSON kind of a decoded value, for messages: "a string", "an array", "null"..."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "an array"
    return "an object" if isinstance(value, dict) else type(value).__name__


def chat_problem(chunk: dict[str, Any]) -> Optional[str]:
    """What is wrong with the shape of a ``chat.completion.chunk``, or None when it can be read
    as openai-python's ChatCompletionChunk (a missing ``delta`` is filled in as ``{}``). The
    stream asks only about chunks its accumulator did not merge on its fast path (which
    vouches for the usual content and reasoning chunk), so there is no fast path here."""
    return _chunk_problem(chunk, _chat_choice)


def completion_problem(chunk: dict[str, Any]) -> Optional[str]:
    """What is wrong with the shape of a legacy ``text_completion`` chunk, or None."""
    choices = chunk.get("choices")
    if choices.__class__ is list and len(choices) == 1:
        c = choices[0]
        if (c.__class__ is dict and c.get("text").__class__ is str
                and c.get("index", 0).__class__ is int and c.get("logprobs") is None):
            usage = chunk.get("usage")
            if usage is None or usage.__class__ is dict:
                return None
    return _chunk_problem(chunk, _text_choice)


def _chunk_problem(chunk: dict[str, Any], choice_problem: Any) -> Optional[str]:
    """The slow path of both: ``usage`` an object, ``choices`` a list of choice objects."""
    problem = _one_of(chunk, "usage", dict, "an object")
    if problem:
        return problem

    def choice_shape(choice: dict[str, Any], where: str) -> Optional[str]:
        return (_one_of(choice, "index", int, "an integer", where)
                or _one_of(choice, "logprobs", dict, "an object", where)
                or choice_problem(choice, where))

    return _objects(chunk.get("choices"), "choices", choice_shape)


def _objects(items: Any, where: str,
             item_problem: Callable[[dict[str, Any], str], Optional[str]]) -> Optional[str]:
    """What is wrong with an array of objects (absent or null is fine), checking each object
    with ``item_problem``, or None."""
    if items is None:
        return None
    if items.__class__ is not list:
        return f"{where} is {kind(items)}, not an array"
    for i, item in enumerate(items):
        at = f"{where}[{i}]"
        if item.__class__ is not dict:
            return f"{at} is {kind(item)}, not an object"
        problem = item_problem(item, at)
        if problem:
            return problem
    return None


def _chat_choice(choice: dict[str, Any], where: str) -> Optional[str]:
    return _message_in(choice, "delta", where)


def _message_in(choice: dict[str, Any], key: str, where: str) -> Optional[str]:
    """A choice's ``delta`` (streamed) or ``message`` (whole): an object (an empty one when
    absent, see the module) whose text fields are strings and whose tool calls are objects.
    A whole message's ``content`` may also be an array (of content parts)."""
    delta = choice.get(key)
    if delta is None:
        choice[key] = {}
        return None
    if delta.__class__ is not dict:
        return f"{where}.{key} is {kind(delta)}, not an object"
    where += "." + key
    for name in _DELTA_TEXT:
        if name == "content" and key == "message" and delta.get(name).__class__ is list:
            continue
        problem = _one_of(delta, name, str, "a string", where)
        if problem:
            return problem
    for name in _DELTA_OBJECTS:
        problem = _one_of(delta, name, dict, "an object", where)
        if problem:
            return problem
    return _objects(delta.get("tool_calls"), where + ".tool_calls", _tool_call)


def _tool_call(call: dict[str, Any], where: str) -> Optional[str]:
    problem = (_one_of(call, "index", int, "an integer", where)
               or _one_of(call, "function", dict, "an object", where))
    function = call.get("function")
    if problem or function is None:
        return problem
    where += ".function"
    return (_one_of(function, "name", str, "a string", where)
            or _one_of(function, "arguments", str, "a string", where))


def _text_choice(choice: dict[str, Any], where: str) -> Optional[str]:
    return _one_of(choice, "text", str, "a string", where)


def _one_of(obj: dict[str, Any], key: str, cls: type, what: str, where: str = "") -> str:
    """"" when ``obj[key]`` is absent, null or exactly ``cls`` (a bool is not an int); else
    what is wrong with it."""
    value = obj.get(key)
    if value is None or value.__class__ is cls:
        return ""
    return f"{where + '.' if where else ''}{key} is {kind(value)}, not {what}"


# -- the Responses API ---------------------------------------------------------------------------

# Fields of any Responses event that a caller reads, and what each must be when present.
_EVENT_FIELDS: tuple[tuple[str, type, str], ...] = (
    ("sequence_number", int, "an integer"), ("output_index", int, "an integer"),
    ("content_index", int, "an integer"), ("summary_index", int, "an integer"),
    ("item", dict, "an object"), ("part", dict, "an object"), ("response", dict, "an object"),
)
_RESPONSE_FIELDS: tuple[tuple[str, type, str], ...] = (
    ("output", list, "an array"), ("usage", dict, "an object"),
)


def event_problem(payload: dict[str, Any]) -> Optional[str]:
    """What is wrong with the shape of a Responses stream event (its fields other than the
    deltas', which the decoder checks as it keeps them), or None. ``type`` must be a string:
    callers branch on ``event.type``."""
    kind_of_event = payload.get("type")
    if kind_of_event.__class__ is not str:
        return "type is missing" if kind_of_event is None else (
            f"type is {kind(kind_of_event)}, not a string")
    for key, cls, what in _EVENT_FIELDS:
        problem = _one_of(payload, key, cls, what)
        if problem:
            return problem
    response = payload.get("response")
    if response is not None:
        for key, cls, what in _RESPONSE_FIELDS:
            problem = _one_of(response, key, cls, what, "response")
            if problem:
                return problem
    return None


# -- whole answers -------------------------------------------------------------------------------


def answer_problem(kind_of_answer: str, data: dict[str, Any]) -> Optional[str]:
    """What is wrong with the shape of a whole answer of this kind ("chat", "completion",
    "embeddings", "response"), or None. ``choices`` (``data``) must be there: an answer
    without it has nothing a caller can read."""
    problem = _one_of(data, "usage", dict, "an object")
    if problem:
        return problem
    if kind_of_answer == "response":
        return _objects(data.get("output"), "output", _output_item)
    key, item_problem = _ANSWER_ITEMS[kind_of_answer]
    if data.get(key) is None:
        return f"{key} is missing"
    return _objects(data.get(key), key, item_problem)


def _answer_choice(choice: dict[str, Any], where: str) -> Optional[str]:
    return (_one_of(choice, "index", int, "an integer", where)
            or _one_of(choice, "logprobs", dict, "an object", where)
            or _message_in(choice, "message", where))


def _text_answer_choice(choice: dict[str, Any], where: str) -> Optional[str]:
    return (_one_of(choice, "index", int, "an integer", where)
            or _one_of(choice, "logprobs", dict, "an object", where)
            or _text_choice(choice, where))


def _embedding(item: dict[str, Any], where: str) -> Optional[str]:
    vector = item.get("embedding")
    if vector is not None and vector.__class__ is not list and vector.__class__ is not str:
        return f"{where}.embedding is {kind(vector)}, not an array (or base64 text)"
    return _one_of(item, "index", int, "an integer", where)


def _output_item(item: dict[str, Any], where: str) -> Optional[str]:
    return (_one_of(item, "type", str, "a string", where)
            or _objects(item.get("content"), where + ".content", _content_part)
            or _objects(item.get("summary"), where + ".summary", _content_part))


def _content_part(part: dict[str, Any], where: str) -> Optional[str]:
    return _one_of(part, "type", str, "a string", where) or _one_of(part, "text", str,
                                                                      "a string", where)


_ANSWER_ITEMS: dict[str, tuple[str, Callable[[dict[str, Any], str], Optional[str]]]] = {
    "chat": ("choices", _answer_choice),
    "completion": ("choices", _text_answer_choice),
    "embeddings": ("data", _embedding),
}
