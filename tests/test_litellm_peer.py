"""A real peer: the LiteLLM proxy serving /v1/responses for a mocked model, started here on a
loopback port with docs/responses.md's own config and driven by that page's recipe, exactly as
written there (only the port differs).

The proxy is a server in a process of its own, so it lives in a virtualenv of its own (its pins
clash with the test extra's): .ci/run makes one and names its ``litellm`` in CHATMINI_LITELLM;
elsewhere a ``litellm`` on PATH is used, else these tests are skipped, saying how to get one."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chatmini
from chatmini.testing import Fault, FaultProxy

from .docsnippets import ROOT, page_snippets

LITELLM = os.environ.get("CHATMINI_LITELLM") or shutil.which("litellm") or ""
KEY = "sk-local-0123456789abcdef"  # the recipe's own key
pytestmark = pytest.mark.skipif(
    not (LITELLM and Path(LITELLM).exists()),
    reason="no LiteLLM proxy: python -m venv v && v/bin/pip install 'litellm[proxy]', then "
           "CHATMINI_LITELLM=v/bin/litellm (.ci/run does this)",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    page = (ROOT / "docs" / "responses.md").read_text(encoding="utf-8")
    config = re.search(r"```yaml\n(model_list:.*?)```", page, re.S)
    where = tmp_path_factory.mktemp("litellm")
    (where / "config.yaml").write_text(config.group(1), encoding="utf-8")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LITELLM_"))}
    env.update(LITELLM_MASTER_KEY=KEY, LITELLM_TELEMETRY="False", NO_DOCS="True")
    log = open(where / "proxy.log", "w")
    server = subprocess.Popen(
        [str(LITELLM), "--config", "config.yaml", "--host", "127.0.0.1", "--port", str(port)],
        cwd=where, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(base + "/health/liveliness", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("the LiteLLM proxy did not start:\n"
                                + (where / "proxy.log").read_text()[-2000:])
                time.sleep(0.5)
        yield base + "/v1"
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def test_the_docs_recipe_runs_against_the_proxy(proxy, capsys):
    (recipe,) = [s for s in page_snippets("docs/responses.md") if s.name == "litellm"]
    code = recipe.code.replace("http://localhost:4000/v1", proxy)
    assert code != recipe.code
    exec(compile(code, recipe.filename, "exec", dont_inherit=True), {"__name__": "__main__"})
    text, tokens_in, tokens_out = capsys.readouterr().out.split()[-3:]
    assert "Hello from the proxy".endswith(text) and int(tokens_in) > 0 and int(tokens_out) > 0


def test_the_proxy_answer_reads_as_openai_python_would(proxy):
    client = chatmini.Client(api_key=KEY, base_url=proxy)
    response = client.responses.create(model="mock-gpt", input="Say hello")
    assert response.output_text == "Hello from the proxy" and response.status == "completed"
    assert response.output[0].type == "message" and response.usage.total_tokens > 0
    assert response.model_dump()["object"] == "response"


def test_a_streamed_call_the_proxy_cannot_serve_is_its_error(proxy):
    client = chatmini.Client(api_key=KEY, base_url=proxy, max_retries=0)
    with pytest.raises(chatmini.APIError) as info:
        with client.responses.create(model="mock-gpt", input="Say hello", stream=True) as stream:
            list(stream)
    assert not isinstance(info.value, chatmini.IncompleteStreamError)
    assert "stream" in str(info.value).lower()
    assert KEY not in str(info.value)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=st.integers(1, 97), after_headers=st.booleans())
def test_the_proxy_answer_read_in_any_split_through_the_fault_proxy(proxy, size, after_headers):
    """The real peer's bytes, dripped to chatmini in pieces hypothesis picks (the headers too,
    or the body only): the same response, however TCP splits it."""
    with FaultProxy(proxy) as faults:
        faults.enqueue(Fault("drip", after_headers=after_headers, size=size, interval=0))
        client = chatmini.Client(api_key=KEY, base_url=faults.base_url, max_retries=0,
                                 timeout=(5, 30))
        with client:
            response = client.responses.create(model="mock-gpt", input="Say hello")
        assert faults.pending == 0 and sum(faults.fired.values()) == 1  # the answer was dripped
    assert response.output_text == "Hello from the proxy" and response.status == "completed"
