"""What ``chatmini batch --remote`` uploads: every input line checked first (a bad line stops the
run before anything is sent), the lines still to do grouped by endpoint and model into batch
files within the Batch API's limits (50,000 requests, 200 MB), and those files written on demand
by a second read of the input, so the requests never all sit in memory."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, Callable, Optional

if TYPE_CHECKING:
    from ..batching.files import Job, Key

BATCH_ENDPOINTS = ("/v1/chat/completions", "/v1/embeddings", "/v1/completions",
                   "/v1/responses", "/v1/moderations")
MAX_REQUESTS = 50_000
MAX_BYTES = 200 * 1000 * 1000  # OpenAI's 200 MB per batch input file


@dataclass
class Part:
    """One batch to create: its endpoint, model, input line numbers and file size."""

    url: str
    model: str
    lines: list[int] = field(default_factory=list)
    size: int = 0


@dataclass
class Plan:
    """The checked input: bad lines, or the batches to create and what they hold."""

    bad: list[str] = field(default_factory=list)
    parts: list[Part] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)  # custom_id -> its input line
    skipped: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    uncapped: int = 0  # requests with no max_tokens: their output is not in tokens_out

    @property
    def requests(self) -> int:
        return sum(len(part.lines) for part in self.parts)

    @property
    def size(self) -> int:
        return sum(part.size for part in self.parts)


def upload_line(job: Job, model: Optional[str]) -> dict[str, Any]:
    """The Batch API line for a job: a custom_id for every line, its url, its body with a model
    (``--model`` or the default for chat requests that name none)."""
    from ..batching.files import CHAT_PATH, LINE_ID
    from ..shortcuts import default_model

    body = dict(job.body or {})
    if not body.get("model") and (model or job.path == CHAT_PATH):
        body["model"] = model or default_model()
    custom_id = job.custom_id if job.custom_id is not None else f"{LINE_ID}{job.line}"
    return {"custom_id": custom_id, "method": "POST", "url": "/v1" + job.path, "body": body}


def problem(job: Job, line: dict[str, Any], max_bytes: int, size: int) -> Optional[str]:
    """Why a job cannot go into a batch, or None."""
    if job.error is not None:
        return str(job.error)
    where = f"line {job.line}"
    if line["url"] not in BATCH_ENDPOINTS:
        return f"{where}: the Batch API does not serve {line['url']} (it serves " \
               f"{', '.join(BATCH_ENDPOINTS)})"
    body = line["body"]
    if body.get("stream"):
        return f"{where}: stream is not allowed in a batch"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return f"{where}: the body names no model (pass --model for such lines)"
    from ..batching.files import LINE_ID

    if job.custom_id is not None and job.custom_id.startswith(LINE_ID):
        return f"{where}: custom_id {job.custom_id!r} is reserved for lines without one"
    if size > max_bytes:
        return f"{where}: {size:,} bytes is more than a batch file may hold ({max_bytes:,})"
    return None


def make_plan(
    source: IO[str], *, model: Optional[str], pending: Callable[[Key], bool],
    max_requests: int = MAX_REQUESTS, max_bytes: int = MAX_BYTES,
) -> Plan:
    """Check every line of ``source`` and group the ``pending`` ones into batches."""
    from ..batching.files import read_jobs
    from ..plugins.ratelimit import CHARS_PER_TOKEN, completion_allowance, prompt_chars

    plan = Plan()
    open_parts: dict[tuple[str, str], Part] = {}
    for job in read_jobs(source):
        line = upload_line(job, model) if job.error is None else {}
        size = len(encode(line)) if line else 0
        why = problem(job, line, max_bytes, size)
        if why is not None:
            plan.bad.append(why)
            continue
        if job.custom_id is not None:
            plan.ids[job.custom_id] = job.line
        if not pending(job.key):
            plan.skipped += 1
            continue
        group = (line["url"], line["body"]["model"])
        part = open_parts.get(group)
        if part is None or len(part.lines) >= max_requests or part.size + size > max_bytes:
            part = open_parts[group] = Part(*group)
            plan.parts.append(part)
        part.lines.append(job.line)
        part.size += size
        plan.tokens_in += -(-prompt_chars(line["body"]) // CHARS_PER_TOKEN)
        allowance = completion_allowance(line["body"], 0)
        plan.tokens_out += allowance
        plan.uncapped += allowance == 0 and line["url"] != "/v1/embeddings"
    return plan


def encode(line: dict[str, Any]) -> bytes:
    """One JSONL line, as uploaded (a lone surrogate in a prompt as its JSON escape)."""
    from ..jsoncodec import escape_surrogates

    text = json.dumps(line, ensure_ascii=False, separators=(",", ":"))
    return escape_surrogates(text).encode("utf-8") + b"\n"


def write_parts(source: IO[str], plan: Plan, folder: str, model: Optional[str]) -> list[str]:
    """Write each part's batch file into ``folder`` (a second read of the input); their paths."""
    from ..batching.files import read_jobs

    owner = {number: index for index, part in enumerate(plan.parts) for number in part.lines}
    paths = [os.path.join(folder, f"batch-{i + 1}.jsonl") for i in range(len(plan.parts))]
    outs = [open(path, "wb") for path in paths]  # noqa: SIM115  # closed below
    try:
        for job in read_jobs(source):
            index = owner.get(job.line)
            if index is not None:
                outs[index].write(encode(upload_line(job, model)))
    finally:
        for out in outs:
            out.close()
    return paths


def describe(plan: Plan) -> list[str]:
    """The dry run's report: each batch, the totals and the token estimate."""
    lines = [f"batch {i}: {len(p.lines)} requests to {p.url} with {p.model}, {p.size:,} bytes"
             for i, p in enumerate(plan.parts, start=1)]
    lines.append(f"{len(plan.parts)} batch(es), {plan.requests} requests, {plan.size:,} bytes "
                 f"to upload" + (f"; {plan.skipped} already done" if plan.skipped else ""))
    estimate = f"about {plan.tokens_in:,} input tokens (characters / 4)"
    if plan.tokens_out:
        estimate += f" and up to {plan.tokens_out:,} output tokens (max_tokens)"
    if plan.uncapped:
        estimate += f"; {plan.uncapped} request(s) set no max_tokens (their output is not counted)"
    lines.append(estimate)
    return lines
