"""The code examples of README.md and docs/*.md, found and run by the tests so they cannot rot.

Every fenced ```python block is a Snippet, run against a ``chatmini.testing.Server`` with
OPENAI_BASE_URL and OPENAI_API_KEY (and AZURE_OPENAI_API_KEY) set for it, so
``chatmini.Client()`` just works, from an empty temporary directory. An HTML comment on the line before the fence changes that (it shows
neither on the site nor on GitHub):

- ``<!-- snippet: not run: REASON -->``: compiled but not run (it needs a real key, Ray, ...);
- ``<!-- snippet: fresh interpreter: REASON -->``: run as a script in its own Python process
  (it configures logging or other process-wide state);
- ``<!-- snippet: continues -->``: run after the page's previous runnable block, sharing its
  names.

A ```text block with ``<!-- snippet: output -->`` on the line before it shows what the python
block before it prints: the tests check that every non-blank line of it is printed.

A block whose first line is ``# docs-example: NAME`` is called NAME, others ``blockN``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["README.md", *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(\s*)```python\s*$")
OUTPUT_FENCE = re.compile(r"^\s*```text\s*$")
DIRECTIVE = re.compile(r"^\s*<!--\s*snippet:\s*(.*?)\s*-->\s*$")
NAME = re.compile(r"# docs-example: ([\w-]+)\n")
ENV_PREFIXES = ("OPENAI_", "CHATMINI_", "AZURE_OPENAI_")
API_KEY = "sk-docs-snippet-key"


@dataclass(frozen=True)
class Snippet:
    """One ```python block of a page, with what its directive asks."""

    page: str  # relative to the repository, e.g. "docs/auth.md"
    number: int  # 1-based among the page's python blocks
    line: int  # the opening fence's line
    code: str
    not_run: Optional[str] = None  # why it is only compiled
    fresh: Optional[str] = None  # why it runs in its own interpreter
    continues: bool = False
    prints: tuple[str, ...] = ()  # lines of the ```text output block that follows it

    @property
    def name(self) -> str:
        """The ``# docs-example:`` name, else ``blockN``."""
        match = NAME.match(self.code)
        return match.group(1) if match else f"block{self.number}"

    @property
    def id(self) -> str:
        """``page:name``, as test ids and the expectation tables spell it."""
        return f"{self.page}:{self.name}"

    @property
    def filename(self) -> str:
        """Where tracebacks point: the page and the fence's line."""
        return f"{self.page}:{self.line}:{self.name}"


def parse(page: str, text: str) -> list[Snippet]:
    """Every python block of a page; an unknown directive or an unclosed fence is an error."""
    lines = text.splitlines()
    snippets: list[Snippet] = []
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            if DIRECTIVE.match(lines[i]) and "output" in lines[i] and i + 1 < len(lines):
                i = attach_output(page, lines, i, snippets)
                continue
            i += 1
            continue
        indent, start = len(fence.group(1)), i
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "```"), None)
        if end is None:
            raise ValueError(f"{page}:{start + 1}: ```python block is never closed")
        code = "".join(line[indent:] + "\n" for line in lines[start + 1:end])
        options = directive(page, start, lines[start - 1] if start else "")
        snippets.append(Snippet(page, len(snippets) + 1, start + 1, code, **options))
        i = end + 1
    return snippets


def attach_output(page: str, lines: list[str], at: int, snippets: list[Snippet]) -> int:
    """Give the ```text block after an output directive to the block before it; the index
    after that block."""
    where = f"{page}:{at + 1}"
    if DIRECTIVE.match(lines[at]).group(1) != "output" or not OUTPUT_FENCE.match(lines[at + 1]):
        raise ValueError(f"{where}: an output directive must stand right before a ```text block")
    if not snippets:
        raise ValueError(f"{where}: an output block needs a python block before it")
    end = next((j for j in range(at + 2, len(lines)) if lines[j].strip() == "```"), None)
    if end is None:
        raise ValueError(f"{where}: ```text block is never closed")
    shown = tuple(line.strip() for line in lines[at + 2:end] if line.strip())
    snippets[-1] = replace(snippets[-1], prints=shown)
    return end + 1


def directive(page: str, fence: int, line: str) -> dict[str, object]:
    """The options a ``<!-- snippet: ... -->`` line before a fence sets."""
    match = DIRECTIVE.match(line)
    if not match:
        return {}
    kind, _, reason = match.group(1).partition(":")
    kind, reason = kind.strip(), reason.strip()
    where = f"{page}:{fence}"
    if kind == "continues" and not reason:
        return {"continues": True}
    if kind == "not run" and reason:
        return {"not_run": reason}
    if kind == "fresh interpreter" and reason:
        return {"fresh": reason}
    raise ValueError(f"{where}: unknown snippet directive {match.group(1)!r} (use 'not run: "
                     "REASON', 'fresh interpreter: REASON' or 'continues')")


def page_snippets(page: str) -> list[Snippet]:
    """The snippets of one page (``"docs/auth.md"``)."""
    return parse(page, (ROOT / page).read_text(encoding="utf-8"))


def all_snippets() -> list[Snippet]:
    """The snippets of README.md and every page under docs/."""
    return [s for page in PAGES for s in page_snippets(page)]


def program(snippet: Snippet, siblings: list[Snippet]) -> str:
    """The snippet's code, after the runnable blocks it continues (``siblings``: its page's)."""
    if not snippet.continues:
        return snippet.code
    before = [s for s in siblings[: snippet.number - 1] if s.not_run is None]
    if not before:
        raise ValueError(f"{snippet.id} continues, but no runnable block comes before it")
    return program(before[-1], siblings) + "\n" + snippet.code


def environment(base_url: str) -> dict[str, str]:
    """The process environment a snippet sees: pointed at the test server, nothing personal."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIXES)}
    env.update(OPENAI_BASE_URL=base_url, OPENAI_API_KEY=API_KEY, AZURE_OPENAI_API_KEY=API_KEY,
               CHATMINI_DISABLE_PLUGIN_AUTOLOAD="1")
    return env


def run_in_process(code: str, filename: str) -> None:
    """Execute a snippet here, as a script would run (``__name__ == "__main__"``)."""
    code_object = compile(code, filename, "exec", dont_inherit=True)  # not this module's __future__
    exec(code_object, {"__name__": "__main__", "__file__": filename})


def run_fresh(code: str, filename: str, env: dict[str, str], cwd: Path) -> str:
    """Run a snippet as a script in a new interpreter; its stdout and stderr, or an error."""
    script = cwd / "docs_snippet.py"
    script.write_text(code, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=90, env=env, cwd=cwd)
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise AssertionError(f"{filename} failed (exit {done.returncode}):\n{output}")
    return output
