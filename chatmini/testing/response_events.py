"""A Responses API answer as api.openai.com streams it: ``event: <type>`` plus JSON with
``type`` and ``sequence_number``, one bytes object per event (the server writes each as its own
HTTP chunk, unless its framing is coalesced). The stream is derived from the whole response,
so both forms always agree."""

from __future__ import annotations

import json
from itertools import count
from typing import Any, Callable, Iterator, Optional

from .replies import split_words

Emit = Callable[..., None]
_PAD = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def dumps(obj: Any) -> str:
    """Compact JSON, as the API writes it."""
    return json.dumps(obj, separators=(",", ":"))


def snapshot(response: dict[str, Any], status: str = "in_progress") -> dict[str, Any]:
    """The response as ``response.created`` shows it: nothing produced yet."""
    return dict(response, status=status, output=[], usage=None, error=None,
                incomplete_details=None, completed_at=None)


def stream_events(
    response: dict[str, Any], *, terminal: Optional[str], final: dict[str, Any],
    error_event: Optional[dict[str, Any]] = None, done: bool = False, line_ending: str = "\n",
    obfuscate: bool = True, starting_after: int = -1,
) -> list[bytes]:
    """Every event of a streamed response: created, in_progress, each output item's events,
    then ``response.<terminal>`` carrying ``final`` (or ``error_event`` in its place), and
    ``data: [DONE]`` when ``done``. Events numbered up to ``starting_after`` are left out."""
    eol = line_ending
    numbers = count()
    events: list[bytes] = []

    def add(number: int, kind: str, body: str) -> None:
        if number > starting_after:
            data = f'{{"type":"{kind}","sequence_number":{number}{body}}}'
            events.append(f"event: {kind}{eol}data: {data}{eol}{eol}".encode())

    def emit(kind: str, **fields: Any) -> None:
        add(next(numbers), kind, "".join(f",{dumps(k)}:{dumps(v)}" for k, v in fields.items()))

    def deltas(kind: str, where: str, pieces: list[str]) -> None:
        cache: dict[str, str] = {}
        for piece in pieces:
            text = cache.get(piece)
            if text is None:
                pad = f',"obfuscation":"{_PAD[:16 - len(piece) % 16]}"' if obfuscate else ""
                text = cache[piece] = f"{where},\"delta\":{dumps(piece)}{pad}"
            add(next(numbers), kind, text)

    for kind in ("response.created", "response.in_progress"):
        emit(kind, response=snapshot(response))
    for index, item in enumerate(response.get("output") or ()):
        _item_events(emit, deltas, index, item)
    if error_event is not None:
        add(next(numbers), error_event.get("type", "error"), "".join(
            f",{dumps(k)}:{dumps(v)}" for k, v in error_event.items()
            if k not in ("type", "sequence_number")))
    elif terminal is not None:
        emit(f"response.{terminal}", response=final)
    if done:
        events.append(f"data: [DONE]{eol}{eol}".encode())
    return events


def _item_events(emit: Emit, deltas: Callable[[str, str, list[str]], None], index: int,
                 item: dict[str, Any]) -> None:
    """The events of one output item: added, its parts and deltas, done."""
    kind, item_id = item.get("type"), item.get("id")
    where = f',"item_id":{dumps(item_id)},"output_index":{index}'
    ids = {"item_id": item_id, "output_index": index}
    if kind == "message":
        emit("response.output_item.added", output_index=index,
             item=dict(item, status="in_progress", content=[]))
        for n, part in enumerate(item.get("content") or ()):
            kind = "refusal" if part.get("type") == "refusal" else "text"
            emit("response.content_part.added", **ids, content_index=n, part={**part, kind: ""})
            text = part.get(kind, "")
            name = "refusal" if kind == "refusal" else "output_text"
            deltas(f"response.{name}.delta", f'{where},"content_index":{n}', split_words(text))
            more: dict[str, Any] = {"logprobs": []} if kind == "text" else {}
            emit(f"response.{name}.done", **ids, content_index=n, **{kind: text}, **more)
            emit("response.content_part.done", **ids, content_index=n, part=part)
    elif kind == "function_call":
        emit("response.output_item.added", output_index=index,
             item=dict(item, status="in_progress", arguments=""))
        arguments = item.get("arguments", "")
        deltas("response.function_call_arguments.delta", where, list(_pieces(arguments)))
        emit("response.function_call_arguments.done", **ids, name=item.get("name"),
             arguments=arguments)
    elif kind == "reasoning":
        emit("response.output_item.added", output_index=index, item=dict(
            item, summary=[], **({"content": []} if "content" in item else {})))
        for n, part in enumerate(item.get("summary") or ()):
            emit("response.reasoning_summary_part.added", **ids, summary_index=n,
                 part=dict(part, text=""))
            text = part.get("text", "")
            deltas("response.reasoning_summary_text.delta", f'{where},"summary_index":{n}',
                   split_words(text))
            emit("response.reasoning_summary_text.done", **ids, summary_index=n, text=text)
            emit("response.reasoning_summary_part.done", **ids, summary_index=n, part=part)
        for n, part in enumerate(item.get("content") or ()):  # the raw reasoning text
            emit("response.content_part.added", **ids, content_index=n, part=dict(part, text=""))
            text = part.get("text", "")
            deltas("response.reasoning_text.delta", f'{where},"content_index":{n}',
                   split_words(text))
            emit("response.reasoning_text.done", **ids, content_index=n, text=text)
            emit("response.content_part.done", **ids, content_index=n, part=part)
    else:
        emit("response.output_item.added", output_index=index, item=item)
    emit("response.output_item.done", output_index=index, item=item)


def _pieces(text: str, size: int = 8) -> Iterator[str]:
    """Function-call arguments in token-sized pieces."""
    for start in range(0, len(text), size):
        yield text[start:start + size]
