"""The lines of a batch on the test server: the input checked as OpenAI checks it, each request
answered by the server's own chat and embeddings behaviour (scripted replies and random faults
included), and output lines in OpenAI's exact format."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any, Callable, Optional

from . import replies
from .replies import Reply

MAX_REQUESTS = 50_000
ENDPOINTS = ("/v1/chat/completions", "/v1/embeddings")
Take = Callable[[str, Any], "tuple[int, Reply | None]"]  # (url, body) -> (seq, scripted reply)
EXPIRED = ("batch_expired",
           "This request could not be executed before the completion window expired.")
CANCELLED = ("batch_cancelled", "This request was not executed because the batch was cancelled.")


def check_input(path: str, endpoint: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(requests, errors) of an input file: every line a POST to ``endpoint`` with a unique
    ``custom_id`` and a body, one model for the whole file, at most MAX_REQUESTS lines."""
    found: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    models: set[Any] = set()
    with open(path, encoding="utf-8", errors="replace") as lines:
        for number, text in enumerate(lines, start=1):
            if not text.strip():
                continue
            problem = _check_line(text, endpoint, seen)
            if isinstance(problem, dict):
                found.append(problem)
                models.add(problem["body"].get("model"))
            else:
                errors.append({"code": problem[0], "message": problem[1], "param": problem[2],
                               "line": number})
    if not found and not errors:
        errors.append({"code": "empty_file", "message": "The input file is empty.",
                       "param": None, "line": None})
    if len(found) > MAX_REQUESTS:
        errors.append({"code": "too_many_requests", "param": None, "line": None,
                       "message": f"The batch has {len(found)} requests; the limit is "
                                  f"{MAX_REQUESTS}."})
    if len(models) > 1:
        errors.append({"code": "mismatched_model", "param": "body.model", "line": None,
                       "message": "All requests in a batch must use the same model, found "
                                  f"{sorted(map(str, models))}."})
    return found, errors


def _check_line(text: str, endpoint: str, seen: set[str]) -> Any:
    """The line's request, or (code, message, param) saying what is wrong with it."""
    try:
        line = json.loads(text)
    except ValueError:
        return "invalid_json_line", "This line is not parseable as valid JSON.", None
    if not isinstance(line, dict):
        return "invalid_json_line", "This line is not a JSON object.", None
    custom_id = line.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        return "missing_required_parameter", "Missing required parameter: 'custom_id'.", (
            "custom_id")
    if custom_id in seen:
        return "duplicate_custom_id", f"The custom_id {custom_id!r} is used more than once.", (
            "custom_id")
    seen.add(custom_id)
    if line.get("method") != "POST":
        return "invalid_method", "The method must be 'POST'.", "method"
    if line.get("url") != endpoint:
        return "mismatched_endpoint", f"The url must be the batch's endpoint {endpoint}.", "url"
    body = line.get("body")
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return "missing_required_parameter", "Missing required parameter: 'body.model'.", (
            "body.model")
    return line


def answer(take: Take, url: str, body: dict[str, Any]) -> tuple[int, str, Any]:
    """(status, request id, response body) of one request, as the live server would answer."""
    seq, reply = take(url, body)
    request_id = f"req_{seq}"
    if reply is not None and reply.drop:
        return 500, request_id, replies.error_payload(500)
    if reply is not None and reply.status >= 400:
        payload = reply.body if isinstance(reply.body, dict) else replies.error_payload(
            reply.status)
        return reply.status, request_id, payload
    if reply is not None and isinstance(reply.body, dict):
        return reply.status, request_id, reply.body
    if body.get("stream"):
        return 400, request_id, replies.error_payload(400, "Streaming is not supported in "
                                                           "batches.")
    if url == "/v1/embeddings":
        return 200, request_id, embeddings(body)
    content = reply.content if reply is not None else None
    text = content if content is not None else replies.default_text(body)
    return 200, request_id, replies.completion(body, seq, text)


def embeddings(request: dict[str, Any]) -> dict[str, Any]:
    """An ``embeddings`` list: a stable vector per input (from a hash of its text)."""
    inputs = request.get("input")
    items = inputs if isinstance(inputs, list) else [inputs]
    dimensions = request.get("dimensions")
    size = dimensions if isinstance(dimensions, int) and 0 < dimensions <= 4096 else 8
    data = []
    tokens = 0
    for index, item in enumerate(items):
        text = item if isinstance(item, str) else json.dumps(item)
        tokens += max(1, len(text.split()))
        digest = hashlib.sha256(text.encode("utf-8")).digest()
        vector = [round(digest[i % len(digest)] / 255 - 0.5, 6) for i in range(size)]
        data.append({"object": "embedding", "index": index, "embedding": vector})
    return {"object": "list", "data": data, "model": request.get("model"),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


def output_line(custom_id: str, status: int, request_id: str, body: Any) -> dict[str, Any]:
    """A line of the output file (2xx) or of the error file (an HTTP error)."""
    return {"id": new_id("batch_req_"), "custom_id": custom_id,
            "response": {"status_code": status, "request_id": request_id, "body": body},
            "error": None}


def not_run_line(custom_id: str, why: tuple[str, str]) -> dict[str, Any]:
    """An error-file line for a request the batch never ran (expired or cancelled)."""
    return {"id": new_id("batch_req_"), "custom_id": custom_id, "response": None,
            "error": {"code": why[0], "message": why[1]}}


def usage_of(body: Any) -> tuple[int, int]:
    """(input, output) tokens of an answer."""
    usage = body.get("usage") if isinstance(body, dict) else None
    if not isinstance(usage, dict):
        return 0, 0
    return int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)


def new_id(prefix: str) -> str:
    """An id in OpenAI's style: a prefix and 24 hex digits."""
    return prefix + os.urandom(12).hex()


def jsonl(lines: list[dict[str, Any]]) -> Optional[bytes]:
    """The lines as a JSONL file, or None when there are none."""
    if not lines:
        return None
    return "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines).encode()
