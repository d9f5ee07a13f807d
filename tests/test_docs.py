"""docs/plugins.md stays true: one heading per hook with the real arguments, and a complete
plugin example (run with every other block by test_doc_examples.py)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from chatmini import hookspecs

from .docsnippets import page_snippets

DOC = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"
TEXT = DOC.read_text(encoding="utf-8")
HEADINGS = re.findall(r"^### (chatmini_\w+)\((.*)\)\s*$", TEXT, re.M)  # [(name, args)]


def test_every_hook_has_a_heading_and_every_heading_is_a_hook():
    assert sorted(name for name, _ in HEADINGS) == sorted(hookspecs.hook_names())


@pytest.mark.parametrize("name", hookspecs.hook_names())
def test_heading_names_the_hook_arguments(name):
    expected = list(inspect.signature(getattr(hookspecs, name)).parameters)
    documented = [[a.strip() for a in args.split(",")] for hook, args in HEADINGS if hook == name]
    assert documented == [expected]


def test_every_hook_section_has_an_example():
    sections = [s for s in re.split(r"^(?=#{1,3} )", TEXT, flags=re.M) if s.startswith("### ")]
    hooks = [s for s in sections if s.startswith("### chatmini_")]
    assert len(hooks) == len(hookspecs.hook_names())
    assert all("```python" in section for section in hooks)


def test_complete_plugin_example_is_there_and_runs():
    examples = [s for s in page_snippets("docs/plugins.md") if s.name == "complete-plugin"]
    assert len(examples) == 1 and examples[0].not_run is None
