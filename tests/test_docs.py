"""docs/plugins.md stays true: one heading per hook with the real arguments, and a complete
plugin example (run with every other block by test_doc_examples.py)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from chatmini import hookspecs
from chatmini.plugins.timing import hookspecs as timing_hookspecs

from .docsnippets import page_snippets

DOC = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"
TEXT = DOC.read_text(encoding="utf-8")
# Hooks of the core, and hooks declared by built-in plugins (chatmini_addhooks), by module.
SPECS = {name: hookspecs for name in hookspecs.hook_names()} | {
    name: timing_hookspecs for name in dir(timing_hookspecs) if name.startswith("chatmini_")
}
HEADINGS = re.findall(r"^### (chatmini_\w+)\((.*)\)\s*$", TEXT, re.M)  # [(name, args)]


def test_every_hook_has_a_heading_and_every_heading_is_a_hook():
    assert sorted(name for name, _ in HEADINGS) == sorted(SPECS)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_heading_names_the_hook_arguments(name):
    expected = list(inspect.signature(getattr(SPECS[name], name)).parameters)
    documented = [[a.strip() for a in args.split(",")] for hook, args in HEADINGS if hook == name]
    assert documented == [expected]


def test_every_hook_section_has_an_example():
    sections = [s for s in re.split(r"^(?=#{1,3} )", TEXT, flags=re.M) if s.startswith("### ")]
    hooks = [s for s in sections if s.startswith("### chatmini_")]
    assert len(hooks) == len(SPECS)
    assert all("```python" in section for section in hooks)


def test_complete_plugin_example_is_there_and_runs():
    examples = [s for s in page_snippets("docs/plugins.md") if s.name == "complete-plugin"]
    assert len(examples) == 1 and examples[0].not_run is None
