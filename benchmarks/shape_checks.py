"""What checking shapes costs (chatmini/shapes.py): client CPU per streamed chunk and per call,
with the checks on (as shipped) and off (the check replaced by one that finds nothing).

Usage: ``python benchmarks/shape_checks.py [--rounds N] [--calls N] [--chunks N]``.
Interleaved rounds against the embedded server in its own process (one event per HTTP chunk,
as real servers write them), ``time.thread_time()`` of the reading thread,
reading ``chunk.choices[0].delta.content`` of every chunk as ported code does; medians and
the paired difference (on − off, same round). Also the checks alone (timeit): what a chunk
the chunk accumulator's fast path did not vouch for costs (the usual chunk costs nothing: the
accumulator's fast path vouches for it), and a typical whole answer.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
import timeit
from typing import Any, Callable

import chatmini
from chatmini import calls as calls_module
from chatmini.shapes import answer_problem, chat_problem
from chatmini.streaming.chat import ChatDecoder
from chatmini.testing import Reply
from chatmini.testing.process import ServerProcess

MESSAGES = [{"role": "user", "content": "hi"}]


def nothing(*_: Any) -> None:
    return None


def checks(on: bool) -> None:
    """Shape checks on (as shipped) or off, for streams and whole answers."""
    ChatDecoder.shape_problem = staticmethod(chat_problem if on else nothing)  # type: ignore
    calls_module.answer_problem = answer_problem if on else nothing  # type: ignore


def stream_cpu(client: chatmini.Client, server: ServerProcess, chunks: int) -> float:
    server.enqueue(Reply(chunks=chunks))
    gc.collect()
    start = time.thread_time()
    with client.chat.completions.create(model="m", messages=MESSAGES, stream=True) as stream:
        texts = [chunk.choices[0].delta.content for chunk in stream if chunk.choices]
    assert len(texts) >= chunks  # every content chunk was read
    return (time.thread_time() - start) / chunks * 1e6


def call_cpu(client: chatmini.Client, count: int) -> float:
    create = client.chat.completions.create
    gc.collect()
    start = time.thread_time()
    texts = [create(model="m", messages=MESSAGES).choices[0].message.content
             for _ in range(count)]
    assert all(texts)
    return (time.thread_time() - start) / count * 1e6


def paired(measure: Callable[[], float], rounds: int) -> tuple[float, float, float]:
    """Medians with the checks on and off, and the median paired difference."""
    on: list[float] = []
    off: list[float] = []
    for r in range(rounds):
        for state in ((True, False) if r % 2 else (False, True)):
            checks(state)
            (on if state else off).append(measure())
    checks(True)
    return (statistics.median(on), statistics.median(off),
            statistics.median(a - b for a, b in zip(on, off)))


def alone() -> list[str]:
    chunk = json.loads('{"id":"c","object":"chat.completion.chunk","created":1,"model":"m",'
                       '"choices":[{"index":0,"delta":{"content":" word"},"finish_reason":null}]}')
    thinking = json.loads(json.dumps(chunk).replace('"content"', '"reasoning_content"'))
    answer = json.loads('{"id":"c","object":"chat.completion","created":1,"model":"m","choices":'
                        '[{"index":0,"message":{"role":"assistant","content":"Hello there"},'
                        '"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":5,'
                        '"completion_tokens":7,"total_tokens":12}}')
    rows = []
    for name, check in (("content chunk off the accumulator's fast path",
                         lambda: chat_problem(chunk)),
                        ("reasoning chunk off it", lambda: chat_problem(thinking)),
                        ("whole chat answer", lambda: answer_problem("chat", answer))):
        best = min(timeit.repeat(check, number=100_000, repeat=5)) / 100_000 * 1e6
        rows.append(f"| {name} | {best:.2f} |")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--chunks", type=int, default=20_000)
    args = parser.parse_args()
    with ServerProcess() as server, chatmini.Client(api_key="k",
                                                     base_url=server.base_url) as client:
        stream_cpu(client, server, 2000)
        call_cpu(client, 50)
        stream = paired(lambda: stream_cpu(client, server, args.chunks), args.rounds)
        call = paired(lambda: call_cpu(client, args.calls), args.rounds)
    print(f"{args.rounds} rounds: `{' '.join(['python', *sys.argv])}`\n")
    print("| what | checks on µs | checks off µs | paired on − off µs |")
    print("|:---|---:|---:|---:|")
    print(f"| streamed chunk ({args.chunks:,} a round) | {stream[0]:.2f} | {stream[1]:.2f} | "
          f"{stream[2]:+.2f} |")
    print(f"| non-streamed call ({args.calls} a round) | {call[0]:.1f} | {call[1]:.1f} | "
          f"{call[2]:+.1f} |")
    print("\n| the check alone (timeit, best of 5) | µs |\n|:---|---:|")
    print("\n".join(alone()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
