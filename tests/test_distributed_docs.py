"""docs/distributed.md stays true: its sharded-batch commands run against the test server and a
real redis-server (skipped, saying why, without one). Its Python examples, the shared limiter
and the Dask and Ray runners, run with the others in tests/test_doc_examples.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .docsnippets import environment
from .redis_support import RedisServer

ROOT = Path(__file__).resolve().parent.parent
TEXT = (ROOT / "docs" / "distributed.md").read_text(encoding="utf-8")
SHELL = re.findall(r"^<!-- shell example: .*? -->\n```sh\n(.*?)^```", TEXT, re.M | re.S)


@pytest.fixture
def redis_env(server):
    pytest.importorskip("redis")
    with RedisServer() as redis_server:
        env = environment(server.base_url)
        env["CHATMINI_REDIS_URL"] = redis_server.url
        yield env


def test_the_sharded_batch_commands_run(redis_env, server, tmp_path):
    assert len(SHELL) == 1
    lines = [{"custom_id": f"t-{i}", "body": {"model": "m", "messages": [
        {"role": "user", "content": f"ticket {i}"}]}} for i in range(30)]
    (tmp_path / "requests.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    env = dict(redis_env, PATH=os.pathsep.join([str(Path(sys.executable).parent),
                                                 redis_env.get("PATH", "")]))
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", SHELL[0]], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    merged = [json.loads(x) for x in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert [r["custom_id"] for r in merged] == [f"t-{i}" for i in range(30)]
    assert all(r["error"] is None for r in merged) and len(server.requests) == 30
    assert "30 results from 3 files" in done.stderr
