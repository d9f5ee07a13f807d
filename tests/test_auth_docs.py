"""docs/auth.md stays true: every auth mode has an example, and every example runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parent.parent / "docs" / "auth.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", DOC.read_text(encoding="utf-8"), re.M | re.S)
EXAMPLES = dict(
    (m.group(1), src) for src in BLOCKS if (m := re.match(r"# docs-example: (auth-[\w-]+)\n", src))
)
MODES = ("auth-api-key", "auth-oauth2", "auth-oauth2-env", "auth-oauth2-refresh",
         "auth-oauth2-errors", "auth-token-provider", "auth-azure", "auth-api-version",
         "auth-redirect")


def test_every_auth_mode_has_an_example():
    assert sorted(EXAMPLES) == sorted(MODES)


@pytest.mark.parametrize("name", MODES)
def test_example_runs(name):
    exec(compile(EXAMPLES[name], f"{DOC}:{name}", "exec"), {"__name__": "docs_example"})


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_python_blocks_compile(index):
    compile(BLOCKS[index], f"{DOC}:block{index}", "exec")
