"""The JSONL files of a batch job: input lines (request bodies or OpenAI batch-file lines) into
jobs, result records out (from a call, or from a line of a Batch API output file), and what an
earlier run already wrote (for resuming). ``chatmini batch`` writes these files and ``chatmini
batch merge`` joins them, both through here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import IO, Any, Iterable, Iterator, Mapping, Optional, Union

from ..errors import InvalidRequestError, error_message, status_error_class
from ..jsoncodec import without_surrogates
from ..usage import token_counts

CHAT_PATH = "/chat/completions"
APIS = {CHAT_PATH: "chat", "/responses": "responses"}  # paths a resource's create() sends
LINE_ID = "chatmini-line-"  # the Batch API custom_id of an input line that has none
Key = Union[str, int]  # a custom_id, or the input line number when the line has none


@dataclass
class Job:
    """One input line: where to send what, or why the line cannot be sent (``error``)."""

    line: int
    custom_id: Optional[str] = None
    path: str = CHAT_PATH
    body: Optional[dict[str, Any]] = None
    error: Optional[InvalidRequestError] = None
    seconds: float = 0.0  # time the call took, retries and rate-limit waits included
    written: bool = False  # its result line is in the output file

    @property
    def key(self) -> Key:
        """What identifies this job across runs: its custom_id, else its line number."""
        return self.custom_id if self.custom_id is not None else self.line


def api_path(url: Any) -> str:
    """A batch line's ``url`` relative to the client's base URL (``/v1/embeddings``
    becomes ``/embeddings``, since base URLs end in ``/v1``)."""
    if not isinstance(url, str) or not url.startswith("/"):
        raise ValueError(f"url must be a path such as /v1/chat/completions, not {url!r}")
    return url[3:] if url.startswith("/v1/") else url


def parse_line(text: str, line: int) -> Job:
    """A Job from one input line; a bad line becomes a Job carrying an error that names it."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        return _bad(line, None, f"not valid JSON ({exc})")
    if not isinstance(data, dict):
        return _bad(line, None, f"expected a JSON object, got {type(data).__name__}")
    if "body" not in data:
        return Job(line, body=data)  # a bare request body for /chat/completions
    custom_id = data.get("custom_id")
    if custom_id is not None and not isinstance(custom_id, str):
        return _bad(line, None, f"custom_id must be a string, not {custom_id!r}")
    method = data.get("method", "POST")
    if method != "POST":
        return _bad(line, custom_id, f"method must be POST, not {method!r}")
    body = data["body"]
    if not isinstance(body, dict):
        return _bad(line, custom_id, f"body must be a JSON object, not {type(body).__name__}")
    try:
        path = api_path(data.get("url", "/v1" + CHAT_PATH))
    except ValueError as exc:
        return _bad(line, custom_id, str(exc))
    return Job(line, custom_id, path, body)


def _bad(line: int, custom_id: Optional[str], why: str) -> Job:
    return Job(line, custom_id, error=InvalidRequestError(f"line {line}: {why}"))


def read_jobs(lines: IO[str]) -> Iterator[Job]:
    """Jobs from an input file, one per non-blank line, read lazily; a repeated custom_id is
    an error on the later line."""
    seen: dict[str, int] = {}
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        job = parse_line(text, number)
        if job.custom_id is not None and job.error is None:
            first = seen.setdefault(job.custom_id, number)
            if first != number:
                job = _bad(number, None, f"custom_id {job.custom_id!r} repeats line {first}")
        yield job


def ok_record(job: Job, result: Any) -> dict[str, Any]:
    """The result line of a call that succeeded (OpenAI's batch output shape, plus ``line``:
    a job without a custom_id keeps ``"custom_id": null`` and is known by its line)."""
    meta = getattr(result, "_meta", None) or {}
    body = result.to_dict() if hasattr(result, "to_dict") else result
    response = {"status_code": 200, "request_id": meta.get("request_id"), "body": body}
    return {"custom_id": job.custom_id, "line": job.line, "response": response, "error": None}


def error_record(job: Job, error: BaseException) -> dict[str, Any]:
    """The result line of a call that failed, or of a line that could not be sent."""
    detail = {
        "type": type(error).__name__,
        "message": str(error),
        "status_code": getattr(error, "status_code", None),
        "code": getattr(error, "code", None),
    }
    return {"custom_id": job.custom_id, "line": job.line, "response": None, "error": detail}


def remote_record(line: Any, lines: Mapping[str, int]) -> Optional[dict[str, Any]]:
    """The result line for one line of a Batch API output or error file, shaped as a local
    run's (``lines`` maps custom_ids to input lines); None for a line that is not one."""
    custom_id = line.get("custom_id") if isinstance(line, dict) else None
    if not isinstance(custom_id, str):
        return None
    key: Optional[str] = custom_id
    number = lines.get(custom_id)
    if custom_id.startswith(LINE_ID) and custom_id[len(LINE_ID):].isdigit():
        key, number = None, int(custom_id[len(LINE_ID):])
    response, error = line.get("response"), line.get("error")
    status = response.get("status_code") if isinstance(response, dict) else None
    body = response.get("body") if isinstance(response, dict) else None
    if isinstance(status, int) and 200 <= status < 300 and not error:
        answer = {"status_code": status, "request_id": response.get("request_id"), "body": body}
        return {"custom_id": key, "line": number, "response": answer, "error": None}
    fields = error if isinstance(error, dict) else {}
    if isinstance(status, int):
        inner = body.get("error") if isinstance(body, dict) else None
        code = inner.get("code") if isinstance(inner, dict) else None
        detail = {"type": status_error_class(status).__name__,
                  "message": f"Error code: {status} - {error_message(body, status)}",
                  "status_code": status, "code": code}
    else:
        detail = {"type": "BatchRequestError", "message": str(fields.get("message") or
                  "the batch returned no answer for this request"), "status_code": None,
                  "code": fields.get("code")}
    return {"custom_id": key, "line": number, "response": None, "error": detail}


def record_line(record: dict[str, Any]) -> str:
    """A result record as its line in a results file (compact JSON, newline-terminated; any
    lone surrogate from the server still in it: ``write_lines`` replaces them)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


def write_lines(out: IO[str], lines: Iterable[str]) -> int:
    """Write result lines and flush; the number of lines whose lone surrogates (half an emoji
    a server split, ``"\\ud83d"``) were replaced by U+FFFD, since a UTF-8 file cannot hold
    them. The callers say so once."""
    replaced = 0
    for line in lines:
        clean = without_surrogates(line)
        replaced += clean is not line
        out.write(clean)
    out.flush()
    return replaced


SURROGATES_REPLACED = ("the server sent text with lone surrogates (invalid Unicode, e.g. half "
                       "an emoji); they are written to the results as U+FFFD")


def result_line(job: Job, result: Any) -> tuple[str, bool]:
    """The results-file line of a job's result (an answer or the exception its call ended
    with), and whether it succeeded."""
    if isinstance(result, BaseException):
        return record_line(error_record(job, result)), False
    return record_line(ok_record(job, result)), True


def open_results(path: str) -> IO[str]:
    """A results file opened for appending, on a fresh line if a killed run left half of one."""
    out = open(path, "a+", encoding="utf-8")
    if out.tell() > 0:
        out.seek(out.tell() - 1)
        if out.read(1) != "\n":
            out.write("\n")
    return out


def previous_results(lines: IO[str]) -> tuple[dict[Key, bool], int]:
    """What an earlier run wrote: key -> whether its last result line succeeded, and the
    number of unreadable lines (a run killed mid-write may leave one)."""
    state: dict[Key, bool] = {}
    unreadable = 0
    for text in lines:
        if not text.strip():
            continue
        read = read_record(text)
        if read is None:
            unreadable += 1
        else:
            state[read[0]] = read[1]
    return state, unreadable


def already_done(done: dict[Key, bool], key: Key, retry_failed: bool) -> bool:
    """Whether an earlier run's result for ``key`` stands: a success always, a failure unless
    it is to be retried (``done`` as ``previous_results`` reads it)."""
    previous = done.get(key)
    return bool(previous) or (previous is False and not retry_failed)


def read_record(text: str) -> Optional[tuple[Key, bool]]:
    """(id, whether it succeeded) of one result line; None when the line is unreadable."""
    try:
        record = json.loads(text)
        custom_id, line = record.get("custom_id"), record.get("line")
    except (ValueError, AttributeError):
        return None
    key = custom_id if custom_id is not None else line
    if key is None:
        return None
    return key, record.get("error") is None and record.get("response") is not None


def usage_of(result: Any) -> tuple[int, int]:
    """(prompt, completion) tokens a result reports in its ``usage``, else (0, 0)."""
    data = result.to_dict() if hasattr(result, "to_dict") else result
    prompt, completion = token_counts(data.get("usage") if isinstance(data, dict) else None)
    return prompt or 0, completion or 0
