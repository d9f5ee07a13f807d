"""The Responses API of the test server, in api.openai.com's shapes: ``POST /v1/responses``
(streamed or not) and stored responses (``GET``/``DELETE /v1/responses/{id}``, ``POST
.../cancel``, ``GET .../input_items``). The answer is ``echo: `` + the last user input unless
a Reply scripts it (text, function calls, reasoning as a summary or raw text, an incomplete or
failed end, an ``error`` event, ``[DONE]``, ``output: null``; docs/testing.md)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Optional
from urllib.parse import parse_qs, unquote

from .chat_turns import tool_call_list
from .replies import CHUNK_PIECE, Reply, error_payload
from .response_events import snapshot, stream_events
from .schema_answers import schema_text

__all__ = ["Answer", "ResponseStore", "answer"]

PREFIX = "/v1/responses"
FAILURE = {"code": "server_error",
           "message": "The server had an error while processing your request."}


@dataclass
class Answer:
    """What the handler sends: a JSON ``payload`` with ``status``, or stream ``events``."""

    status: int = 200
    payload: Any = None
    events: Optional[list[bytes]] = None


@dataclass
class Stored:
    response: dict[str, Any]
    items: list[dict[str, Any]]
    background: bool


class ResponseStore:
    """The responses the server created, by id (the newest ``limit``), for retrieval."""

    def __init__(self, limit: int = 1000) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._stored: OrderedDict[str, Stored] = OrderedDict()

    def put(self, stored: Stored) -> None:
        with self._lock:
            self._stored[stored.response["id"]] = stored
            while len(self._stored) > self.limit:
                self._stored.popitem(last=False)

    def get(self, response_id: str) -> Optional[Stored]:
        with self._lock:
            return self._stored.get(response_id)

    def pop(self, response_id: str) -> Optional[Stored]:
        with self._lock:
            return self._stored.pop(response_id, None)

    def clear(self) -> None:
        with self._lock:
            self._stored.clear()


def answer(method: str, raw_path: str, path: str, request: Any, reply: Reply, seq: int,
           store: ResponseStore) -> Answer:
    """The answer to one request under ``/v1/responses``."""
    query = {k: v[-1] for k, v in parse_qs(raw_path.partition("?")[2]).items()}
    parts = [unquote(p) for p in path[len(PREFIX):].split("/") if p]
    if not parts and method == "POST":
        return create(request, reply, seq, store)
    stored = store.get(parts[0]) if parts else None
    if parts and stored is None:
        return _error(404, f"Response with id '{parts[0]}' not found.")
    if stored is not None and len(parts) == 1 and method == "GET":
        if query.get("stream") == "true":
            return Answer(events=_events(stored.response, reply, query))
        return Answer(payload=stored.response)
    if stored is not None and len(parts) == 1 and method == "DELETE":
        store.pop(parts[0])
        return Answer(payload={"id": parts[0], "object": "response.deleted", "deleted": True})
    if stored is not None and parts[1:] == ["cancel"] and method == "POST":
        if not stored.background:
            return _error(400, "Only responses created with background=true can be cancelled.")
        stored.response = dict(stored.response, status="cancelled")
        return Answer(payload=stored.response)
    if stored is not None and parts[1:] == ["input_items"] and method == "GET":
        return Answer(payload=_page(stored.items, query))
    return _error(404, f"Invalid URL ({method} {path})")


def create(request: Any, reply: Reply, seq: int, store: ResponseStore) -> Answer:
    """``POST /v1/responses``: the response, streamed when the request asks."""
    if not isinstance(request, dict):
        return _error(400, "We could not parse the JSON body of your request.")
    model = request.get("model")
    if not isinstance(model, str) or not model:
        return _error(400, "Missing required parameter: 'model'.", "model")
    previous = request.get("previous_response_id")
    if previous is not None and store.get(str(previous)) is None:
        return _error(400, f"Previous response with id '{previous}' not found.",
                      "previous_response_id")
    items = input_items(request.get("input"), seq)
    response = build(request, reply, seq, items)
    background = request.get("background") is True
    if request.get("store") is not False:
        store.put(Stored(response, items, background))
    if request.get("stream") is True:
        return Answer(events=_events(response, reply, {}, request))
    if background:
        return Answer(payload=snapshot(response, "queued"))
    return Answer(payload=dict(response, output=None) if reply.null_output else response)


def _events(response: dict[str, Any], reply: Reply, query: dict[str, str],
            request: Optional[dict[str, Any]] = None) -> list[bytes]:
    options = (request or {}).get("stream_options") or {}
    status = response.get("status")
    terminal = status if status in ("completed", "incomplete", "failed") else None
    return stream_events(
        response, terminal=terminal,
        final=dict(response, output=None) if reply.null_output else response,
        error_event=reply.error_event, done=reply.with_done, line_ending=reply.line_ending,
        obfuscate=options.get("include_obfuscation") is not False
        and query.get("include_obfuscation") != "false",
        starting_after=_int(query.get("starting_after"), -1),
    )


def build(request: dict[str, Any], reply: Reply, seq: int,
          items: list[dict[str, Any]]) -> dict[str, Any]:
    """The whole response object for a request, as scripted by ``reply``."""
    output: list[dict[str, Any]] = []
    if reply.reasoning is not None:  # a summary, or the raw text as gpt-oss's servers send
        output.append({"id": f"rs_{seq}", "type": "reasoning",
                       "summary": [{"type": "summary_text", "text": reply.reasoning}]}
                      if reply.reasoning_summary else {"id": f"rs_{seq}", "type": "reasoning",
                      "summary": [], "content": [{"type": "reasoning_text",
                                                  "text": reply.reasoning}]})
    if reply.chunks is not None:
        text: Optional[str] = CHUNK_PIECE * reply.chunks
    elif reply.content is not None or not (reply.tool_calls or reply.refusal is not None):
        text = reply.content
        if text is None:
            echo = "echo: " + _last_user_text(items)
            text = schema_text((request.get("text") or {}).get("format"), echo) or echo
    else:
        text = None
    if text is not None:
        output.append(_message(f"msg_{seq}", {"type": "output_text", "annotations": [],
                                               "logprobs": [], "text": text}))
    if reply.refusal is not None:
        output.append(_message(f"msg_{seq}_refusal",
                               {"type": "refusal", "refusal": reply.refusal}))
    for i, call in enumerate(tool_call_list(reply, seq, "call")):
        output.append({"id": f"fc_{seq}_{i}", "type": "function_call", "status": "completed",
                       "arguments": call["function"]["arguments"], "call_id": call["id"],
                       "name": call["function"]["name"]})
    words = sum(len(str(_part_text(item)).split()) for item in output)
    reasoning = len((reply.reasoning or "").split())
    prompt = max(1, len(_last_user_text(items, every=True).split())
                 + len(str(request.get("instructions") or "").split()))
    now = int(time.time())
    outcome, reason = reply.outcome, "max_output_tokens"
    if reply.finish_reason in ("length", "content_filter"):
        outcome = "incomplete"
        reason = "content_filter" if reply.finish_reason == "content_filter" else reason
    response = {
        "id": f"resp_{seq}", "object": "response", "created_at": now, "status": outcome,
        "background": request.get("background") is True, "error": None,
        "incomplete_details": None, "instructions": request.get("instructions"),
        "max_output_tokens": request.get("max_output_tokens"), "max_tool_calls": None,
        "model": request["model"], "output": output,
        "parallel_tool_calls": request.get("parallel_tool_calls", True),
        "previous_response_id": request.get("previous_response_id"),
        "reasoning": request.get("reasoning") or {"effort": None, "summary": None},
        "service_tier": "default", "store": request.get("store", True),
        "temperature": request.get("temperature", 1.0),
        "text": request.get("text") or {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": request.get("tool_choice", "auto"), "tools": request.get("tools") or [],
        "top_logprobs": 0, "top_p": request.get("top_p", 1.0), "truncation": "disabled",
        "usage": {"input_tokens": prompt, "input_tokens_details": {"cached_tokens": 0},
                  "output_tokens": words, "output_tokens_details": {
                      "reasoning_tokens": reasoning}, "total_tokens": prompt + words},
        "user": None, "metadata": request.get("metadata") or {},
    }
    if outcome == "completed":
        response["completed_at"] = now
    elif outcome == "incomplete":
        response["incomplete_details"] = {"reason": reason}
    else:
        response["error"] = dict(FAILURE)
    return response


def _message(item_id: str, part: dict[str, Any]) -> dict[str, Any]:
    return {"id": item_id, "type": "message", "status": "completed", "role": "assistant",
            "content": [part]}


def input_items(value: Any, seq: int) -> list[dict[str, Any]]:
    """The request's input as stored items, each with an id (a string is one user message)."""
    if isinstance(value, str):
        value = [{"role": "user", "content": value}]
    items = []
    for i, item in enumerate(value if isinstance(value, list) else ()):
        if not isinstance(item, dict):
            continue
        item = dict(item)
        if "role" in item:
            item.setdefault("type", "message")
            if isinstance(item.get("content"), str):
                item["content"] = [{"type": "input_text", "text": item["content"]}]
        item.setdefault("id", f"msg_{seq}_in{i}")
        items.append(item)
    return items


def _last_user_text(items: list[dict[str, Any]], every: bool = False) -> str:
    """The text of the last user message (of every message with ``every``)."""
    texts = [_part_text(item) for item in items if item.get("type") == "message"
             and (every or item.get("role") == "user")]
    return " ".join(texts) if every else (texts[-1] if texts else "")


def _part_text(item: dict[str, Any]) -> str:
    """The text parts of a message (or reasoning summary), or a function call's arguments."""
    if item.get("type") == "function_call":
        return str(item.get("arguments") or "")
    parts = item.get("content") or item.get("summary") or ()
    return "".join(str(p.get("text", "")) for p in parts if isinstance(p, dict))


def _page(items: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
    """``GET .../input_items``: one page, newest first unless ``order=asc``."""
    ordered = items if query.get("order") == "asc" else items[::-1]
    after = query.get("after")
    ids = [item["id"] for item in ordered]
    start = ids.index(after) + 1 if after in ids else 0
    limit = _int(query.get("limit"), 20)
    page = ordered[start:start + limit]
    return {"object": "list", "data": page, "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
            "has_more": start + limit < len(ordered)}


def _int(text: Optional[str], default: int) -> int:
    try:
        return int(text) if text else default
    except ValueError:
        return default


def _error(status: int, message: str, param: Optional[str] = None) -> Answer:
    payload = error_payload(status, message)
    payload["error"]["param"] = param
    return Answer(status, payload)
