"""Bytes on the wire and CPU for realistic chat payloads: JSON, gzip, zstd, brotli and msgpack.

Usage: ``python benchmarks/wire_formats.py [--quick]`` (needs ``pip install -e '.[test]'``,
which brings brotli, zstd and msgpack). Prints two Markdown tables (docs/compression.md):
size and encode/decode CPU per payload and format, then where compression pays: the CPU it
adds at both ends against the time its saved bytes take on links of several speeds.

The payloads are built deterministically: their prose is the standard library's own
docstrings (real English technical text, as a retrieval system would return), so sizes vary a
little between Python versions. Encode is Python object -> wire bytes, decode the reverse (so
gzip's times include JSON's); each cell is the median of several ``timeit`` repeats.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import platform
import statistics
import sys
import timeit
from typing import Any, Callable

import msgpack
from harness import markdown, num

from chatmini import codings

MODEL = "gpt-4o-mini"
SOURCES = (  # modules whose docstrings make the prose, in this order
    "argparse", "subprocess", "threading", "logging", "json", "socket", "pathlib", "shutil",
    "functools", "itertools", "collections", "datetime", "decimal", "tempfile", "zipfile",
    "urllib.parse", "http.client", "email.message", "unittest", "csv", "sqlite3", "textwrap",
)
LINKS = ((10e6, "10 Mbit/s"), (100e6, "100 Mbit/s"), (1e9, "1 Gbit/s"))
Codec = tuple[Callable[[Any], bytes], Callable[[bytes], Any]]


# -- payloads ---------------------------------------------------------------------------------


def paragraphs() -> list[str]:
    """Every docstring paragraph of SOURCES' public objects, in a fixed order."""
    found: list[str] = []
    for name in SOURCES:
        module = importlib.import_module(name)
        docs = [inspect.getdoc(module) or ""]
        for attr in sorted(vars(module)):
            obj = getattr(module, attr)
            if not attr.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj)):
                docs.append(inspect.getdoc(obj) or "")
        for doc in docs:
            found += [p.strip() for p in doc.split("\n\n") if len(p.strip()) > 80]
    return found


def take(texts: list[str], start: int, size: int) -> tuple[str, int]:
    """Paragraphs from ``start`` joined until ``size`` characters; returns (text, next start)."""
    out: list[str] = []
    length = 0
    while length < size:
        out.append(texts[start % len(texts)])
        length += len(out[-1]) + 2
        start += 1
    return "\n\n".join(out)[:size], start


def conversation(texts: list[str]) -> dict[str, Any]:
    """A system prompt and 20 user/assistant exchanges (answers of 500-1,000 characters)."""
    messages = [{"role": "system", "content": "You are a concise assistant for Python "
                 "developers. Answer with short paragraphs and code only when asked."}]
    at = 0
    for turn in range(20):
        question, at = take(texts, at, 120)
        answer, at = take(texts, at, 500 + 25 * turn)
        messages.append({"role": "user", "content": "Can you explain this? " + question})
        messages.append({"role": "assistant", "content": answer})
    messages.append({"role": "user", "content": "Thanks. Summarise all of that in a list."})
    return {"model": MODEL, "messages": messages, "temperature": 0.2}


def retrieval(texts: list[str]) -> dict[str, Any]:
    """A question with 30 KB of retrieved documentation chunks, as RAG pipelines send."""
    chunks, at = [], 200
    while sum(map(len, chunks)) < 30_000:
        text, at = take(texts, at, 1_500)
        chunks.append(f"[{len(chunks) + 1}] source: docs/{SOURCES[len(chunks) % 22]}.html\n{text}")
    context = "\n\n".join(chunks)[:30_000]
    return {"model": MODEL, "messages": [
        {"role": "system", "content": "Answer from the context only; cite sources as [n]."},
        {"role": "user", "content": f"Context:\n{context}\n\nQuestion: how do I run a "
         "subprocess with a timeout and log its output?"},
    ]}


def tool_for(module: str, name: str, function: Callable[..., Any]) -> dict[str, Any]:
    """An OpenAI function tool describing a standard-library function from its signature."""
    properties: dict[str, Any] = {}
    required = []
    for param in inspect.signature(function).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        default = param.default
        kind = {bool: "boolean", int: "integer", float: "number"}.get(type(default), "string")
        properties[param.name] = {"type": kind, "description": f"The {param.name} argument "
                                  f"of {module}.{name}" + ("" if default is param.empty else
                                                         f" (default {default!r})")}
        if default is param.empty:
            required.append(param.name)
    doc = (inspect.getdoc(function) or name).split("\n\n")[0].replace("\n", " ")
    return {"type": "function", "function": {
        "name": f"{module.replace('.', '_')}_{name}", "description": doc[:300],
        "parameters": {"type": "object", "properties": properties, "required": required,
                       "additionalProperties": False},
        "strict": True}}


def tools() -> dict[str, Any]:
    """A short question with 40 function tools, each with a JSON-schema of its parameters."""
    found = []
    for module in ("shutil", "os.path", "json", "subprocess", "textwrap", "tempfile"):
        mod = importlib.import_module(module)
        for name in sorted(vars(mod)):
            function = getattr(mod, name)
            if name.startswith("_") or not inspect.isfunction(function):
                continue
            try:
                found.append(tool_for(module, name, function))
            except (TypeError, ValueError):  # no signature to describe
                continue
    return {"model": MODEL, "tool_choice": "auto", "tools": found[:40], "messages": [
        {"role": "user", "content": "Copy every .log file older than a week to /backup."}]}


def response(texts: list[str]) -> dict[str, Any]:
    """A typical non-streamed chat.completion: about 1,500 characters of answer and usage."""
    text, _ = take(texts, 600, 1_500)
    return {"id": "chatcmpl-AbCdEfGhIjKlMnOpQrStUvWxYz012", "object": "chat.completion",
            "created": 1735689600, "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text,
                                                 "refusal": None},
                         "logprobs": None, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1843, "completion_tokens": 327, "total_tokens": 2170,
                      "prompt_tokens_details": {"cached_tokens": 1536, "audio_tokens": 0},
                      "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0}},
            "service_tier": "default", "system_fingerprint": "fp_0ba0d124f1"}


def payloads() -> dict[str, dict[str, Any]]:
    """The five payloads of the table, by name."""
    texts = paragraphs()
    return {
        "one-line prompt": {"model": MODEL, "messages": [{"role": "user", "content":
                            "Explain the difference between a process and a thread."}]},
        "20-turn conversation": conversation(texts),
        "prompt + 30 KB context": retrieval(texts),
        "40-tool schema": tools(),
        "non-streamed response": response(texts),
    }


# -- formats ----------------------------------------------------------------------------------


def to_json(obj: Any) -> bytes:
    """JSON as chatmini sends it: compact, UTF-8."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def compressed(coding: str, level: int, inner: Codec) -> Codec:
    """A codec that compresses what ``inner`` encodes (and the reverse)."""
    encode, decode = inner
    return (lambda obj: codings.compress(coding, encode(obj), level),
            lambda data: decode(codings.decompress(coding, data)))


def formats() -> dict[str, Codec]:
    """Every row of the table: a name and its (encode, decode)."""
    plain: Codec = (to_json, json.loads)
    packed: Codec = (msgpack.packb, msgpack.unpackb)
    return {
        "JSON": plain,
        "gzip 1": compressed("gzip", 1, plain),
        "gzip 6": compressed("gzip", 6, plain),
        "zstd 3": compressed("zstd", 3, plain),
        "brotli 3": compressed("br", 3, plain),
        "msgpack": packed,
        "msgpack+zstd 3": compressed("zstd", 3, packed),
    }


def micros(call: Callable[[], Any], repeats: int) -> float:
    """Median microseconds per call over ``repeats`` timeit runs of about 20 ms each."""
    timer = timeit.Timer(call)
    once = timer.timeit(10) / 10
    number = max(1, int(0.02 / max(once, 1e-7)))
    return statistics.median(timer.repeat(repeats, number)) / number * 1e6


def measure(repeats: int) -> dict[tuple[str, str], tuple[int, float, float]]:
    """(payload, format) -> (bytes, encode µs, decode µs)."""
    results = {}
    for payload, obj in payloads().items():
        for name, (encode, decode) in formats().items():
            data = encode(obj)
            assert decode(data) == obj, (payload, name)
            results[payload, name] = (
                len(data), micros(lambda e=encode, o=obj: e(o), repeats),
                micros(lambda d=decode, b=data: d(b), repeats),
            )
    return results


def size_table(results: dict[tuple[str, str], tuple[int, float, float]]) -> str:
    """Bytes (and % of JSON) and encode/decode µs for every payload and format."""
    rows = []
    for (payload, name), (size, enc, dec) in results.items():
        base = results[payload, "JSON"][0]
        share = "" if name == "JSON" else f" ({100 * size / base:.0f}%)"
        rows.append([payload if name == "JSON" else "", name, f"{size:,}{share}", num(enc),
                     num(dec)])
    return markdown(["payload", "format", "bytes", "encode µs", "decode µs"], rows)


def pays_table(results: dict[tuple[str, str], tuple[int, float, float]], name: str) -> str:
    """For ``name`` against plain JSON: CPU added, bytes saved, and the net per link speed."""
    rows = []
    for payload in payloads_order(results):
        size, enc, dec = results[payload, name]
        base, base_enc, base_dec = results[payload, "JSON"]
        added = (enc + dec) - (base_enc + base_dec)  # µs, client and server together
        saved = base - size
        pays = "never" if saved <= 0 else (  # bits per µs = Mbit/s
            f"{num(saved * 8 / added)} Mbit/s" if added > 0 else "always")
        nets = [num((saved * 8 / bits * 1e6 - added) / 1000) for bits, _ in LINKS]
        rows.append([payload, f"{saved:,}", num(added), pays, *nets])
    columns = ["payload", "bytes saved", "CPU added µs", "pays below",
               *(f"net ms at {label}" for _, label in LINKS)]
    return markdown(columns, rows)


def payloads_order(results: dict[tuple[str, str], Any]) -> list[str]:
    """Payload names in the order they were measured."""
    return list(dict.fromkeys(payload for payload, _ in results))


def main(argv: list[str] | None = None) -> int:
    """Measure and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats instead of 9")
    args = parser.parse_args(argv)
    results = measure(3 if args.quick else 9)
    print(f"Python {platform.python_version()} on {platform.machine()}, "
          f"`python benchmarks/wire_formats.py{' --quick' if args.quick else ''}`\n")
    print(size_table(results))
    for name in ("gzip 1", "zstd 3"):
        print(f"\nWhere {name} pays, against plain JSON (CPU at both ends, one request):\n")
        print(pays_table(results, name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
