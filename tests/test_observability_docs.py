"""docs/observability.md stays true: every tagged example runs as a script, and its metric table
names what the exporters really send."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEXT = (ROOT / "docs" / "observability.md").read_text(encoding="utf-8")
EXAMPLES = dict(re.findall(r"^```python\n# docs-example: ([\w-]+)\n(.*?)^```", TEXT, re.M | re.S))


def test_examples_are_found():
    assert set(EXAMPLES) == {"timing", "stats", "slow-call-rules", "logging", "prometheus",
                             "statsd", "own-exporter"}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_runs(name, tmp_path):
    script = tmp_path / f"example_{name.replace('-', '_')}.py"  # not logging.py
    script.write_text(EXAMPLES[name], encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CHATMINI_"))}
    env["CHATMINI_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=60, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (result.stdout + result.stderr).strip()  # every example shows something
    if name == "logging":
        assert "INFO chatmini: POST /v1/chat/completions 200 " in result.stderr
        assert "sk-docs-example-key" not in result.stderr


def test_metric_table_matches_the_exporters():
    from chatmini.plugins import prometheus, statsd

    names = set(re.findall(r"`(chatmini_\w+)`", TEXT))
    assert names >= {"chatmini_request_duration_seconds", "chatmini_time_to_first_token_seconds",
                     "chatmini_retries_total", "chatmini_tokens_total", "chatmini_errors_total"}
    source = Path(prometheus.__file__).read_text() + Path(statsd.__file__).read_text()
    for name in ("request.duration", "time_to_first_token", "retries", "tokens", "errors"):
        assert f'"{name}"' in source and f"`{name}`" in TEXT
    assert str(prometheus.DURATION_BUCKETS[-1]).rstrip("0").rstrip(".") in TEXT
