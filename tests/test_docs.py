"""docs/plugins.md stays true: one heading per hook with the real arguments, and code that runs."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from chatmini import hookspecs

DOC = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"
TEXT = DOC.read_text(encoding="utf-8")
HEADINGS = re.findall(r"^### (chatmini_\w+)\((.*)\)\s*$", TEXT, re.M)  # [(name, args)]
BLOCKS = re.findall(r"^```python\n(.*?)^```", TEXT, re.M | re.S)
MARKER = "# docs-example: complete-plugin"


def test_every_hook_has_a_heading_and_every_heading_is_a_hook():
    assert sorted(name for name, _ in HEADINGS) == sorted(hookspecs.hook_names())


@pytest.mark.parametrize("name", hookspecs.hook_names())
def test_heading_names_the_hook_arguments(name):
    expected = list(inspect.signature(getattr(hookspecs, name)).parameters)
    documented = [[a.strip() for a in args.split(",")] for hook, args in HEADINGS if hook == name]
    assert documented == [expected]


def test_complete_plugin_example_runs():
    examples = [src for src in BLOCKS if src.startswith(MARKER + "\n")]
    assert len(examples) == 1
    exec(compile(examples[0], f"{DOC}:complete-plugin", "exec"), {"__name__": "docs_example"})


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_python_blocks_compile(index):
    compile(BLOCKS[index], f"{DOC}:block{index}", "exec")
