"""The port corpus (tests/port_corpus/): ordinary openai-python snippets, each run twice
against the embedded server. First on the official SDK, which proves the snippet is right;
then on chatmini with only the import changed, as docs/migrating.md says (``port``). Both runs
must print the same text and send the server the same requests (method, path with its query,
JSON body, and the snippet's own ``X-`` headers).

A snippet may script the server with ``# server: Reply(...)`` comments (indented comment
lines after one continue it), evaluated with ``Reply``, ``chunk`` and ``sse`` in scope and
enqueued before each run.
"""

from __future__ import annotations

import io
import json
import re
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest

import chatmini
from chatmini import module_client
from chatmini.testing import Reply, Server

openai = pytest.importorskip("openai")

CORPUS = Path(__file__).resolve().parent / "port_corpus"
SNIPPETS = sorted(CORPUS.glob("*.py"))
SCRIPT = re.compile(r"^# server: (.+(?:\n#   .+)*)$", re.MULTILINE)
KEY = "sk-port-corpus-key"
MODULE_SETTINGS = ("api_key", "base_url", "organization", "project")


def chunk(delta: dict[str, Any], finish: Any = None, index: int = 0) -> dict[str, Any]:
    """A ``chat.completion.chunk`` with one choice."""
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": index, "delta": delta, "finish_reason": finish}]}


def sse(*payloads: dict[str, Any]) -> bytes:
    """An event stream of these payloads, then ``[DONE]``."""
    return b"".join(b"data: %s\n\n" % json.dumps(p).encode() for p in payloads) + (
        b"data: [DONE]\n\n")


def scripted(source: str) -> list[Reply]:
    """The snippet's ``# server:`` replies."""
    scope = {"Reply": Reply, "json": json, "chunk": chunk, "sse": sse}
    return [eval(re.sub(r"\n#   ", " ", text), scope)  # noqa: S307
            for text in SCRIPT.findall(source)]


def port(source: str) -> str:
    """docs/migrating.md's rule: ``import openai`` becomes ``import chatmini as openai`` and
    ``from openai import ...`` becomes ``from chatmini import ...``; nothing else changes."""
    source = re.sub(r"^import openai$", "import chatmini as openai", source, flags=re.MULTILINE)
    return re.sub(r"^from openai import ", "from chatmini import ", source, flags=re.MULTILINE)


def sent(server: Server) -> list[tuple[Any, ...]]:
    """What the server received, as far as both clients must agree."""
    return [
        (r.method, r.path, r.json,
         sorted((k.lower(), v) for k, v in r.headers.items()
                if k.lower().startswith("x-") and not k.lower().startswith("x-stainless")))
        for r in server.requests
    ]


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run one snippet's source against a fresh server: (what it printed, what it sent)."""

    def reset_module_clients() -> None:
        for name in MODULE_SETTINGS:
            setattr(openai, name, None)
            setattr(chatmini, name, None)
        for name in ("azure_endpoint", "api_version", "api_type"):  # the SDK's, set on load
            setattr(openai, name, None)
        openai._client = None
        module_client._client = None

    def run_source(source: str, name: str) -> tuple[str, list[tuple[Any, ...]]]:
        azure = "AzureOpenAI" in source
        reset_module_clients()
        with Server() as server:
            server.enqueue(*scripted(source))
            monkeypatch.setenv("OPENAI_API_KEY", KEY)
            monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
            if azure:  # only then: both sets make openai's module client refuse to guess
                monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", server.url)
                monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
                monkeypatch.setenv("OPENAI_API_VERSION", "2024-10-21")
            output = io.StringIO()
            try:
                with redirect_stdout(output):
                    code = compile(source, name, "exec", dont_inherit=True)  # no __future__ of ours
                    exec(code, {"__name__": "__main__"})  # noqa: S102
            finally:
                reset_module_clients()
            assert server.pending == 0, f"{name} left scripted replies unused"
            return output.getvalue(), sent(server)

    return run_source


def test_the_corpus_is_large_enough_and_each_snippet_imports_openai():
    assert len(SNIPPETS) >= 40
    for path in SNIPPETS:
        source = path.read_text(encoding="utf-8")
        assert port(source) != source, f"{path.name} does not import openai"
        assert "chatmini" not in source, f"{path.name} should be plain openai-python code"


@pytest.mark.parametrize("path", SNIPPETS, ids=lambda p: p.stem)
def test_snippet_ports_with_only_the_import_changed(path: Path, run: Any) -> None:
    source = path.read_text(encoding="utf-8")
    printed, requests = run(source, f"openai:{path.name}")
    assert printed.strip(), f"{path.name} printed nothing on the official SDK"
    ported = port(source)
    changed = [(a, b) for a, b in zip(source.splitlines(), ported.splitlines()) if a != b]
    assert changed and all("openai" in a and "import" in a for a, _ in changed)
    printed_here, requests_here = run(ported, f"chatmini:{path.name}")
    assert printed_here == printed
    assert requests_here == requests
