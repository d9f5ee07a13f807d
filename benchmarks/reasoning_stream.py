"""b7. The streaming cost of reasoning accumulation: a reasoning model's reply (half its chunks
reasoning, then the answer's content) against the content-only reply of b1, the same length,
one event per HTTP chunk, the server in its own process (``ServerProcess``).

chatmini merges every chunk into the final completion as it goes, reasoning included (kept
apart, under the server's field name); the bare loop only decodes each event, so its column
shows what the reasoning events cost on the wire, and chatmini's what keeping them costs.
"""

from __future__ import annotations

from typing import Any, Callable

from adapters import BARE, Bare, Chatmini, ChatminiReadingContent
from clientbase import MESSAGES, MODEL
from harness import Panel, Table, Target, median, ratio_cell, round_robin, spread
from streams import timed_stream

from chatmini.testing import Reply
from chatmini.testing.process import ServerProcess

PIECES = "chatmini, reads stream.pieces()"
CONTENT = "content only"
STYLES: dict[str, Callable[[int], Reply]] = {
    CONTENT: lambda half: Reply(chunks=2 * half),
    "reasoning_content, then content (llama.cpp)": lambda half: Reply(
        reasoning="r " * half, chunks=half),
    'reasoning with content "" (Ollama)': lambda half: Reply(
        reasoning="r " * half, reasoning_field="reasoning", reasoning_chunk_content="empty",
        chunks=half),
}


class ChatminiPieces(Chatmini):
    """chatmini reading every piece of reasoning and content (``stream.pieces()``)."""

    name = PIECES

    def stream(self) -> int:
        with self.create(model=MODEL, messages=MESSAGES, stream=True) as stream:
            for _ in stream.pieces():
                pass
        return int(stream.chunk_count)


def _check(client: Any, server: ServerProcess) -> None:
    """A short reasoning stream reads whole: every chunk counted, and chatmini's final message
    holds the reasoning apart from the content."""
    server.enqueue(Reply(reasoning="r " * 5, chunks=5))
    if client.stream() != 12:
        raise RuntimeError(f"{client.name} miscounted a short reasoning stream")
    if isinstance(client, Chatmini):
        server.enqueue(Reply(reasoning="a b", chunks=2))
        final = client.create(model=MODEL, messages=MESSAGES, stream=True).get_final_completion()
        message = final.choices[0].message
        if (message.content, message.reasoning_content) != ("tok tok ", "a b"):
            raise RuntimeError(f"{client.name} assembled {message.to_dict()}")


def bench_reasoning_stream(ctx: Any) -> Table:
    """b7. Client CPU per chunk of a reasoning stream against a content-only one."""
    s = ctx.settings
    half = s.chunks // 2
    expected = 2 * half + 2  # role chunk + reasoning + content + finish chunk
    with ServerProcess() as server:
        clients: list[Any] = [ChatminiReadingContent(server.base_url),
                              ChatminiPieces(server.base_url), Bare(server.base_url)]
        by_name = {c.name: c for c in clients}
        try:
            for client in clients:
                _check(client, server)

            def measure(key: str) -> dict[str, float]:
                name, style = key.split(" | ")
                return timed_stream(server, by_name[name], STYLES[style](half), expected,
                                    2 * half)

            res = round_robin([f"{c.name} | {style}" for c in clients for style in STYLES],
                              s.rounds, measure)
        finally:
            for client in clients:
                client.close()
    return _table(res, s, half)


def _table(res: dict[str, Any], s: Any, half: int) -> Table:
    table = Table(
        f"b7. Streaming a reasoning reply: {2 * half:,} chunks ({half:,} reasoning, then "
        f"{half:,} content) against {2 * half:,} content chunks, one event per HTTP chunk, "
        f"server in its own process ({s.rounds} rounds)",
        ["client", "stream", "chunks/s", "client CPU µs/chunk", "CPU × content only",
         "server CPU µs/chunk"],
    )
    for key, r in res.items():
        name, style = key.split(" | ")
        base = res[f"{name} | {CONTENT}"]
        table.rows.append([name, style, spread(r["rate"]), spread(r["cpu"]),
                           ratio_cell(r["cpu"], base["cpu"]), spread(r["server"])])
    table.notes.append(
        "chunks/s and µs/chunk count the reasoning and content chunks (the role and finish "
        "chunks are read but not counted, as in b1). 'reads delta.content' reads "
        "`chunk.choices[0].delta.content` of every chunk, as ported openai code does, while "
        "the stream keeps the reasoning for `get_final_completion()`; 'reads stream.pieces()' "
        "hands out every reasoning and content piece. 'CPU × content only' divides by the "
        "same client's content-only stream of the same round. Client CPU is "
        "`time.thread_time()`; server CPU is the server process's."
    )
    reading = ChatminiReadingContent.name
    content = median(res[f"{reading} | {CONTENT}"]["cpu"])
    reasoning = median(res[f"{reading} | {list(STYLES)[1]}"]["cpu"])
    table.targets.append(Target(
        "client CPU per chunk, reasoning stream (reads delta.content)", "≤ 1.15× content only",
        f"{reasoning:.2f} µs vs {content:.2f} µs ({reasoning / content:.2f}×)",
        reasoning <= 1.15 * content))
    table.panels.append(Panel("Reasoning stream: client CPU per chunk", "µs", {
        f"{name.removeprefix('chatmini, ')}, {style.split(',')[0]}": median(r["cpu"])
        for name, style, r in ((*k.split(" | "), r) for k, r in res.items()) if name != BARE}))
    return table
