"""Every ```python block of README.md and docs/ runs (or says why not), and prints what it should.

How blocks are found, run and marked: tests/docsnippets.py.
"""

from __future__ import annotations

import os
from typing import Iterator, Union

import pytest

from chatmini import module_client
from chatmini.testing import Server
from chatmini.testing.redis_server import RedisServer, RedisServerUnavailable

from .docsnippets import all_snippets, environment, parse, program, run_fresh, run_in_process

SNIPPETS = all_snippets()
BY_PAGE = {s.page: [t for t in SNIPPETS if t.page == s.page] for s in SNIPPETS}
RUNNABLE = [s for s in SNIPPETS if s.not_run is None]
# What an example must print (stdout and stderr together), and what it must never show.
PRINTS = {
    "docs/compression.md:accept-encoding": ["-> decoded for you"],
    "docs/compression.md:compression": ["gzip "],
    "docs/compression.md:refusing-server": ["['gzip', None, None] frozenset({'127.0.0.1:"],
    "docs/compression.md:msgpack": ["application/msgpack echo: hi"],
    "docs/distributed.md:shared-limiter": ["20 answers,"],
    "docs/observability.md:timing": ["attempt 1: HTTP 503", "stream: first token"],
    "docs/observability.md:stats": ["gpt-4o-mini", "/chat/completions"],
    "docs/observability.md:slow-call-rules": ["slow calls: duration of a call to gpt-4o-mini"],
    "docs/observability.md:logging": ["INFO chatmini: POST /v1/chat/completions 200 "],
    "docs/observability.md:prometheus": ["chatmini_request_duration_seconds_count"],
    "docs/observability.md:statsd": ["myapp.llm.request.duration:"],
    "docs/observability.md:opentelemetry": [
        "span 'chat gpt-4o-mini' UNSET: gen_ai.operation.name=chat",
        "event chatmini.attempt {'http.request.resend_count': 0, 'http.response.status_code': 503",
        "gen_ai.request.stream=True", "traceparent sent: 00-",
        "metric gen_ai.client.operation.duration  count=2",
        "metric gen_ai.client.operation.time_to_first_chunk  count=1"],
    "docs/observability.md:own-exporter": ['"status": 200'],
    "docs/plugins.md:complete-plugin": ["/chat/completions: HTTP 200 after 2 attempt(s)"],
}
NEVER_PRINTS = {
    "docs/observability.md:logging": ["sk-docs-example-key"],
}


@pytest.fixture(scope="module")
def docs_server() -> Iterator[Server]:
    with Server() as server:
        yield server


@pytest.fixture(scope="module")
def docs_redis() -> Iterator[Union[RedisServer, RedisServerUnavailable]]:
    """A real redis-server for the examples that share a budget (CHATMINI_REDIS_URL), or why
    there is none."""
    try:
        redis_server = RedisServer().start()
    except RedisServerUnavailable as exc:
        yield exc
        return
    try:
        yield redis_server
    finally:
        redis_server.stop()


@pytest.mark.parametrize("snippet", RUNNABLE, ids=lambda s: s.id)
def test_example_runs(snippet, docs_server, docs_redis, tmp_path, monkeypatch, capsys):
    docs_server.reset()
    env = environment(docs_server.base_url)
    code = program(snippet, BY_PAGE[snippet.page])
    if "RedisRateLimiter(" in code:
        if isinstance(docs_redis, RedisServerUnavailable):
            pytest.skip(str(docs_redis))
        env["CHATMINI_REDIS_URL"] = docs_redis.url
    if snippet.fresh:
        output = run_fresh(code, snippet.filename, env, tmp_path)
    else:
        for name in [n for n in os.environ if n not in env]:
            monkeypatch.delenv(name)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.chdir(tmp_path)
        monkeypatch.setattr(module_client, "_client", None)  # ask(), chatmini.chat read env anew
        run_in_process(code, snippet.filename)
        captured = capsys.readouterr()
        output = captured.out + captured.err
    for text in (*PRINTS.get(snippet.id, ()), *snippet.prints):
        assert text in output, f"{snippet.id} should print {text!r}; it printed:\n{output}"
    for text in NEVER_PRINTS.get(snippet.id, ()):
        assert text not in output


@pytest.mark.parametrize("snippet", SNIPPETS, ids=lambda s: s.id)
def test_every_block_compiles(snippet):
    compile(program(snippet, BY_PAGE[snippet.page]), snippet.filename, "exec")


def test_output_checks_name_real_examples():
    ids = {s.id for s in RUNNABLE}
    assert set(PRINTS) <= ids and set(NEVER_PRINTS) <= ids


def test_snippets_are_found_and_ids_are_unique():
    assert len(SNIPPETS) >= 40
    assert len({s.id for s in SNIPPETS}) == len(SNIPPETS)
    assert all(s.code.strip() for s in SNIPPETS)


def test_directives_are_read_and_unknown_ones_refused():
    page = "\n".join([
        "```python", "a = 1", "```",
        "<!-- snippet: continues -->", "```python", "print(a)", "```",
        "<!-- snippet: not run: needs a real API key -->", "  ```python", "  import ray", "  ```",
        "<!-- snippet: fresh interpreter: configures logging -->", "```python", "pass", "```",
    ])
    first, second, third, fourth = parse("x.md", page)
    assert program(second, [first, second]) == "a = 1\n\nprint(a)\n"
    assert third.not_run == "needs a real API key" and third.code == "import ray\n"
    assert fourth.fresh == "configures logging" and fourth.id == "x.md:block4"
    with pytest.raises(ValueError, match="unknown snippet directive"):
        parse("x.md", "<!-- snippet: skip -->\n```python\npass\n```")
    with pytest.raises(ValueError, match="never closed"):
        parse("x.md", "```python\npass\n")


def test_output_blocks_belong_to_the_block_before():
    page = "```python\nprint(1)\n```\n<!-- snippet: output -->\n```text\n1\n\n```\n"
    (only,) = parse("x.md", page)
    assert only.prints == ("1",)
    with pytest.raises(ValueError, match="right before a ```text block"):
        parse("x.md", "```python\npass\n```\n<!-- snippet: output -->\nnot a fence\n")
    with pytest.raises(ValueError, match="needs a python block"):
        parse("x.md", "<!-- snippet: output -->\n```text\n1\n```\n")


def test_pages_show_some_checked_output():
    assert sum(len(s.prints) for s in SNIPPETS) >= 2
